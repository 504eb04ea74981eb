"""Two Strawberry subgraphs for the subscription tests, served over real HTTP and
graphql-transport-ws by uvicorn in a thread of their own:

- reviews (/reviews): `Subscription.reviewAdded(upc)` streams the reviews a test
  publishes (`Hub.publish`), `Review.viewer` echoes the `authorization` the router
  sent in `connection_init`; `Subscription.refused` fails at once (an `error` message).
- products (/products): the `Product` entity's `name` and `price` (`price` of upc
  "broken" fails), so each event is completed from two subgraphs.

And the router: `shopgraph router`'s server (uvicorn with the bounded httptools
protocol and its WebSocket settings) over these subgraphs, in a thread too, so a test
can count the router's tasks and swap its supergraph.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
import strawberry
import uvicorn
from graphql import GraphQLError
from quart import Quart
from strawberry.quart.views import GraphQLView
from strawberry.types import Info

from router.commands.compose import fetch_sdl
from router.commands.router import _server_options
from router.composition import SubgraphSource, compose
from router.config import parse_config
from router.server import RouterApp, create_app
from router.server.assembly import RouterAssembly
from tests.server.dev_stack import free_ports

PRODUCTS = {"p1": ("Chair", 120), "p2": ("Lamp", 35), "broken": ("Broken", 0)}


class Hub:
    """The reviews subgraph's subscribers per product, fed from the test's thread."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: dict[str, set[asyncio.Queue[Any]]] = {}
        self.opened = 0  # subscriptions the subgraph started
        self.closed = 0  # and ended (completed, failed or cancelled by the router)
        self.init_payloads: list[dict[str, Any]] = []
        self.changed = threading.Condition()

    @property
    def active(self) -> int:
        """Subscriptions running in the subgraph now."""
        return self.opened - self.closed

    def publish(self, upc: str, item: Any) -> None:
        """Send `item` (a review as `review()` makes it, or None to complete) to `upc`'s
        subscribers."""
        assert self.loop is not None
        for queue in list(self.queues.get(upc, ())):
            self.loop.call_soon_threadsafe(queue.put_nowait, item)

    def wait_for(self, check: Callable[[Hub], bool], timeout: float = 10.0) -> None:
        """Block until `check(hub)` holds; AssertionError after `timeout` seconds."""
        with self.changed:
            assert self.changed.wait_for(lambda: check(self), timeout), "hub state not reached"

    def _note(self) -> None:
        with self.changed:
            self.changed.notify_all()


HUB = Hub()


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: strawberry.ID


@strawberry.federation.type(keys=["id"])
class Review:
    id: strawberry.ID
    body: str
    product: Product
    viewer: str | None


@strawberry.type
class ReviewsQuery:
    @strawberry.field
    def review_count(self) -> int:
        return 0


def _review(item: dict[str, Any], info: Info) -> Review:
    params = info.context.get("connection_params") or {}
    return Review(
        id=strawberry.ID(item["id"]),
        body=item["body"],
        product=Product(upc=strawberry.ID(item["upc"])),
        viewer=params.get("authorization"),
    )


@strawberry.type
class ReviewsSubscription:
    @strawberry.subscription
    async def review_added(self, info: Info, upc: strawberry.ID) -> AsyncGenerator[Review, None]:
        HUB.loop = asyncio.get_running_loop()
        HUB.init_payloads.append(dict(info.context.get("connection_params") or {}))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        HUB.queues.setdefault(str(upc), set()).add(queue)
        HUB.opened += 1
        HUB._note()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield _review(item, info)
        finally:
            HUB.queues[str(upc)].discard(queue)
            HUB.closed += 1
            HUB._note()

    @strawberry.subscription
    async def refused(self) -> AsyncGenerator[Review, None]:
        raise GraphQLError("Not allowed to watch this", extensions={"code": "FORBIDDEN"})
        yield  # an async generator, failing before its first event


@strawberry.federation.type(keys=["upc"])
class FullProduct:
    upc: strawberry.ID
    name: str

    @strawberry.field
    def price(self) -> int:
        if self.upc == "broken":
            raise GraphQLError("price unavailable")
        return PRODUCTS[self.upc][1]

    @classmethod
    def resolve_reference(cls, upc: strawberry.ID) -> FullProduct:
        return cls(upc=upc, name=PRODUCTS[str(upc)][0])


@strawberry.type
class ProductsQuery:
    @strawberry.field
    def product(self, upc: strawberry.ID) -> FullProduct | None:
        return FullProduct.resolve_reference(upc) if str(upc) in PRODUCTS else None


FullProduct.__strawberry_definition__.name = "Product"  # type: ignore[attr-defined]

REVIEWS = strawberry.federation.Schema(
    query=ReviewsQuery, subscription=ReviewsSubscription, federation_version="2.7"
)
PRODUCTS_SCHEMA = strawberry.federation.Schema(query=ProductsQuery, federation_version="2.7")


def _subgraphs_app() -> Quart:
    app = Quart("subscription_graph")
    for path, schema in (("/reviews", REVIEWS), ("/products", PRODUCTS_SCHEMA)):
        view = GraphQLView.as_view(path.strip("/"), schema=schema, graphql_ide=None)
        app.add_url_rule(path, view_func=view, methods=["GET", "POST"])
        app.add_websocket(path, f"{path.strip('/')}-ws", view)
    return app


class ServerThread:
    """A uvicorn server running an ASGI app in a thread with its own event loop."""

    def __init__(self, app: Any, port: int, **options: Any) -> None:
        self.port = port
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.call(self._started)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    async def _started(self) -> None:
        while not self.server.started:
            await asyncio.sleep(0.01)

    def call(self, coroutine: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Run `coroutine()` on the server's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine(), self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class Stack:
    """A router over the two subgraphs."""

    router: ServerThread
    app: RouterApp

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.router.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.router.port}/graphql"

    def router_tasks(self) -> int:
        """Tasks alive on the router's loop (the caller's probe not counted)."""

        async def count() -> int:
            """The loop's tasks minus this one."""
            return len(asyncio.all_tasks()) - 1

        return int(self.router.call(count))


def start_subgraphs() -> tuple[ServerThread, dict[str, str]]:
    """The two subgraphs on a free port, and their URLs by name."""
    (port,) = free_ports(1)
    server = ServerThread(_subgraphs_app(), port)
    base = f"http://127.0.0.1:{port}"
    return server, {"reviews": f"{base}/reviews", "products": f"{base}/products"}


def compose_live(urls: dict[str, str], edit: Callable[[str, str], str] | None = None) -> str:
    """The supergraph of the subgraphs at `urls` (their `_service { sdl }`), each SDL
    passed through `edit(name, sdl)` first when given."""
    sources = []
    for name, url in urls.items():
        sdl = fetch_sdl(url)
        sources.append(SubgraphSource(name, url, edit(name, sdl) if edit else sdl))
    result = compose(sources)
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


Edit = Callable[[str, str], str]


def start_router(
    urls: dict[str, str],
    config: dict[str, Any] | None = None,
    edit: Edit | None = None,
) -> Stack:
    """The router's server over the subgraphs, with `config` as its router.yaml (and each
    subgraph's SDL passed through `edit`, as `compose_live` does)."""
    parsed = parse_config(config or {})
    sdl = compose_live(urls, edit)
    assembly = RouterAssembly(parsed, None)
    app = create_app(assembly.router(sdl), assembly=assembly)
    (port,) = free_ports(1)
    # as `shopgraph router`: the router, not uvicorn, decides whose x-forwarded-for to believe
    options = {**_server_options(parsed, len(urls)), "proxy_headers": False}
    router = ServerThread(app, port, **options)
    return Stack(router, app)


# -- what the tests share ---------------------------------------------------------------

SECRET = "subscriptions-test-secret-of-sufficient-length-42"
WAIT = 10.0  # seconds a test waits for something that must come much sooner
REVIEW_QUERY = (
    'subscription Watch { reviewAdded(upc: "p1") { body viewer product { name price } } }'
)


def token(seconds: float = 600.0, **claims: Any) -> str:
    """A bearer token signed with SECRET, expiring in `seconds`."""
    payload = {"sub": "u1", "exp": int(time.time() + seconds), **claims}
    return "Bearer " + jwt.encode(payload, SECRET, algorithm="HS256")


def review(body: str = "great", upc: str = "p1", rid: str = "r1") -> dict[str, Any]:
    """A review as `Hub.publish` takes it."""
    return {"id": rid, "body": body, "upc": upc}


async def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll `check` until it holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def serve_subgraphs() -> Iterator[tuple[ServerThread, dict[str, str]]]:
    """The two subgraphs while the generator runs (a test module's fixture)."""
    server, urls = start_subgraphs()
    yield server, urls
    server.stop()


def scoped_body(name: str, sdl: str) -> str:
    """An `Edit`: the reviews subgraph's `Review.body` needs the `staff` scope."""
    if name != "reviews":
        return sdl
    sdl = sdl.replace('import: ["@key"]', 'import: ["@key", "@requiresScopes"]')
    scoped = '  body: String! @requiresScopes(scopes: [["staff"]])\n'
    return sdl.replace("  body: String!\n", scoped)


@contextmanager
def running(
    subgraphs: tuple[ServerThread, dict[str, str]],
    config: dict[str, Any] | None = None,
    edit: Edit | None = None,
) -> Iterator[Stack]:
    """A router over the subgraphs for one test (their SDL passed through `edit`);
    afterwards no subscription runs in the reviews subgraph (every upstream socket was
    closed)."""
    _, urls = subgraphs
    stack = start_router(urls, config, edit)
    try:
        yield stack
    finally:
        stack.router.stop()
    HUB.wait_for(lambda hub: hub.active == 0)
