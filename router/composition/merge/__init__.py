"""Merge validated subgraphs into the supergraph model (Federation 2 merge rules)."""

from .driver import merge

__all__ = ["merge"]
