"""Stage 6: the router over HTTP (GraphQL over HTTP, health) as a plain ASGI app."""

from router.server.app import RouterApp, create_app

__all__ = ["RouterApp", "create_app"]
