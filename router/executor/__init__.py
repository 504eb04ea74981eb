"""Stage 4: execute a query plan against subgraphs and shape the client response."""

from router.executor.execute import execute_plan
from router.executor.fetcher import SubgraphClient, SubgraphRequestError
from router.executor.shape import shape_response

__all__ = ["SubgraphClient", "SubgraphRequestError", "execute_plan", "shape_response"]
