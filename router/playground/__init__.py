"""The playground: GraphiQL served by the router itself, every asset from this package.

The page loads React, GraphiQL (vendored UMD builds from npm, licenses in
static/licenses/) and our scripts: plan-diagram.js (the plan drawn from POST /plan's
`tree`), trace-waterfall.js (the waterfall of a response's `extensions.trace`) and
playground.js, which adds the query-plan, trace and Authorization panes. Nothing is
fetched from the internet, and the page has no inline script to execute (the config
is a JSON data block).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import orjson

from router.playground import assets
from router.playground.assets import STATIC_DIR

__all__ = ["DEFAULT_QUERY", "STATIC_DIR", "STATIC_PREFIX", "assets", "page"]

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

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shopgraph playground</title>
<link rel="stylesheet" href="{static}graphiql.min.css">
<link rel="stylesheet" href="{static}playground.css">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script id="shopgraph-config" type="application/json">{config}</script>
<script src="{static}react.production.min.js"></script>
<script src="{static}react-dom.production.min.js"></script>
<script src="{static}graphiql.min.js"></script>
<script src="{static}plan-diagram.js"></script>
<script src="{static}trace-waterfall.js"></script>
<script src="{static}playground.js"></script>
</body>
</html>
"""


_STATIC_URL = re.compile(r'(?<=")' + re.escape(STATIC_PREFIX) + r'([^"?#]+)(?=")')


def _versioned(match: re.Match[str]) -> str:
    # Each URL names its file's own content hash, so serving it as immutable is safe.
    name = html.unescape(match.group(1))
    digest = assets.version(name)
    return match.group(0) if digest is None else f"{match.group(0)}?v={digest}"


@lru_cache(maxsize=8)
def page(endpoint: str = "/graphql", plan_url: str = "/plan") -> bytes:
    """The playground's HTML page, talking to `endpoint` and `plan_url`."""
    config = orjson.dumps(
        {"endpoint": endpoint, "planUrl": plan_url, "defaultQuery": DEFAULT_QUERY}
    ).decode()
    # `</` must not appear inside the <script> element holding the JSON.
    config = config.replace("</", "<\\/")
    text = _PAGE.format(static=html.escape(STATIC_PREFIX), config=config)
    return _STATIC_URL.sub(_versioned, text).encode()
