"""Stage 1: the supergraph SDL as a model the planner can query, and the API schema."""

from router.supergraph.api_schema import build_api_schema
from router.supergraph.load import load_supergraph
from router.supergraph.model import (
    FieldDef,
    FieldPlacement,
    KeyDef,
    Supergraph,
    SupergraphError,
    TypeDef,
)

__all__ = [
    "FieldDef",
    "FieldPlacement",
    "KeyDef",
    "Supergraph",
    "SupergraphError",
    "TypeDef",
    "build_api_schema",
    "load_supergraph",
]
