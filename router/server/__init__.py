"""Stage 6: the router over HTTP as a plain ASGI app: GraphQL over HTTP, the playground,
edge auth, operation limits, health, metrics."""

from router.server.app import RouterApp, create_app

__all__ = ["RouterApp", "create_app"]
