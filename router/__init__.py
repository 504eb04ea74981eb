"""shopgraph's Federation v2 router: supergraph -> planner -> executor -> http.

from router import Router
router = Router.from_supergraph(sdl)
response = await router.execute(query, variables)
"""

from router.core import PreparedOperation, RequestError, Router

__all__ = ["PreparedOperation", "RequestError", "Router"]
