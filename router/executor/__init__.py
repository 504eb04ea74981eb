"""Stages 4 and 5: execute a query plan against subgraphs (execute.py), then shape the
client response from the merged data (shape.py)."""

from router.executor.execute import execute_plan
from router.executor.fetcher import SubgraphClient, SubgraphRequestError
from router.executor.shape import ResponseShape, compile_shape

__all__ = [
    "ResponseShape",
    "SubgraphClient",
    "SubgraphRequestError",
    "compile_shape",
    "execute_plan",
]
