"""Stage 4: execute a query plan against subgraphs and shape the client response."""

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
