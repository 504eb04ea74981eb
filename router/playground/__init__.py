"""The playground: GraphiQL served by the router itself, every asset from this package.

The page loads React, GraphiQL (vendored UMD builds from npm, licenses in
static/licenses/) and our playground.js, which adds the query-plan and
Authorization panes. Nothing is fetched from the internet.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import orjson

STATIC_DIR: Traversable = files(__name__) / "static"  # package data, zip-safe
STATIC_PREFIX = "/playground/static/"

DEFAULT_QUERY = """\
# Log in in the "Authorization" pane (e.g. alice@example.com / alice-password),
# then run this: orders (orders subgraph) with their products (products) and
# current stock (inventory). The "Query plan" pane shows how the router splits it.
query MyOrders {
  me {
    name
    orders(first: 5) {
      nodes {
        id
        status
        total { amount currencyCode }
        lines {
          quantity
          product {
            name
            price { amount currencyCode }
            stock { available }
          }
        }
      }
    }
  }
}
"""

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".LICENSE": "text/plain; charset=utf-8",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shopgraph playground</title>
<link rel="stylesheet" href="{static}graphiql.min.css?v={version}">
<link rel="stylesheet" href="{static}playground.css?v={version}">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script id="shopgraph-config" type="application/json">{config}</script>
<script src="{static}react.production.min.js?v={version}"></script>
<script src="{static}react-dom.production.min.js?v={version}"></script>
<script src="{static}graphiql.min.js?v={version}"></script>
<script src="{static}playground.js?v={version}"></script>
</body>
</html>
"""


@dataclass(frozen=True)
class Asset:
    """A static file ready to serve: its bytes, media type and strong ETag."""

    body: bytes
    media_type: str
    etag: str


@cache
def _version() -> str:
    digest = hashlib.sha256()
    for name in ("playground.js", "playground.css", "graphiql.min.js"):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def page(endpoint: str = "/graphql", plan_url: str = "/plan") -> bytes:
    """The playground's HTML page, talking to `endpoint` and `plan_url`."""
    config = orjson.dumps(
        {"endpoint": endpoint, "planUrl": plan_url, "defaultQuery": DEFAULT_QUERY}
    ).decode()
    # `</` must not appear inside the <script> element holding the JSON.
    config = config.replace("</", "<\\/")
    return _PAGE.format(
        static=html.escape(STATIC_PREFIX), version=_version(), config=config
    ).encode()


@lru_cache(maxsize=64)
def asset(name: str) -> Asset | None:
    """A static file by its path under static/ (None when there is no such file)."""
    parts = name.split("/")
    if any(part in {"", ".", ".."} or "\\" in part for part in parts):
        return None  # only plain relative paths inside static/
    media = _MEDIA_TYPES.get("." + parts[-1].rpartition(".")[2])
    resource = STATIC_DIR.joinpath(*parts)
    if media is None or not resource.is_file():
        return None
    body = resource.read_bytes()
    return Asset(body, media, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
