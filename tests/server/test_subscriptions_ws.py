"""Subscriptions over graphql-transport-ws through the router's real server: each event
streamed by the reviews subgraph (over its own WebSocket) is completed from the products
subgraph; the protocol's close codes; queries over the socket; the plan."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from router.server.protocol import GRAPHQL_RESPONSE_JSON as MEDIA
from router.server.protocol import GraphQLRequest
from tests.server.subscription_graph import (
    HUB,
    REVIEW_QUERY,
    SECRET,
    WAIT,
    compose_live,
    review,
    running,
    scoped_body,
    serve_subgraphs,
    token,
    wait_until,
)

Subgraphs = Any


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The reviews and products subgraphs, for the whole module."""
    yield from serve_subgraphs()


PROTOCOL = "graphql-transport-ws"


async def _open(url: str, *, protocol: str | None = PROTOCOL) -> ClientConnection:
    return await connect(url, subprotocols=[protocol] if protocol else None, open_timeout=WAIT)


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))  # type: ignore[no-any-return]


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def _init(ws: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    await _send(ws, {"type": "connection_init", "payload": payload or {}})
    assert await _receive(ws) == {"type": "connection_ack"}


async def _closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    await asyncio.wait_for(ws.wait_closed(), WAIT)
    return ws.close_code, ws.close_reason


async def _until_closed(ws: ClientConnection) -> list[dict[str, Any]]:
    """The messages received until the router closes the socket (within WAIT)."""
    messages: list[dict[str, Any]] = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            messages.append(await _receive(ws))
    return messages


def _subscribe(op_id: str, query: str = REVIEW_QUERY) -> dict[str, Any]:
    return {"id": op_id, "type": "subscribe", "payload": {"query": query}}


async def _subscribed(count: int) -> None:
    """Wait until the reviews subgraph runs `count` subscriptions."""
    await wait_until(lambda: HUB.active == count)


async def test_each_event_is_completed_from_both_subgraphs(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws, {"Authorization": "Bearer opaque-client-token"})
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            HUB.publish("p1", review("great"))
            HUB.publish("p1", review("sturdy", rid="r2"))
            first, second = await _receive(ws), await _receive(ws)
            HUB.publish("p1", None)  # the subgraph completes the subscription
            done = await _receive(ws)
    # the router forwarded the client's authorization in its own connection_init
    assert HUB.init_payloads[-1]["authorization"] == "Bearer opaque-client-token"
    product = {"name": "Chair", "price": 120}
    viewer = "Bearer opaque-client-token"
    assert first == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {"reviewAdded": {"body": "great", "viewer": viewer, "product": product}}
        },
    }
    assert second["payload"]["data"]["reviewAdded"]["body"] == "sturdy"
    assert done == {"id": "1", "type": "complete"}


async def test_an_entity_error_goes_in_that_events_payload(subgraphs: Subgraphs) -> None:
    query = 'subscription { reviewAdded(upc: "broken") { body product { name price } } }'
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1", query))
            await _subscribed(1)
            HUB.publish("broken", review("meh", upc="broken"))
            failed = await _receive(ws)
            await _send(ws, {"id": "1", "type": "complete"})
            await _subscribed(0)
    errors = failed["payload"]["errors"]
    assert [(e["message"], e["path"], e["extensions"]["serviceName"]) for e in errors] == [
        ("price unavailable", ["reviewAdded", "product", "price"], "products")
    ]
    # price, product and reviewAdded are non-null: the null reaches `data`
    assert failed["payload"]["data"] is None


async def test_a_failing_subgraph_subscription_reports_its_errors(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("x", "subscription { refused { body } }"))
            failed, end = await _receive(ws), await _receive(ws)
    # Strawberry reports a failing subscription resolver as a `next` with errors
    error = {
        "message": "Not allowed to watch this",
        "extensions": {"code": "FORBIDDEN", "serviceName": "reviews"},
    }
    assert failed == {"id": "x", "type": "next", "payload": {"errors": [error], "data": None}}
    assert end == {"id": "x", "type": "complete"}


async def test_queries_and_validation_errors_over_the_socket(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("q", '{ product(upc: "p2") { name price } }'))
            answer, end = await _receive(ws), await _receive(ws)
            await _send(ws, _subscribe("bad", "subscription { nope }"))
            refused = await _receive(ws)
            two = 'subscription { a: reviewAdded(upc: "p1") { body } b: refused { body } }'
            await _send(ws, _subscribe("two", two))
            two_roots = await _receive(ws)
    assert answer == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"product": {"name": "Lamp", "price": 35}}},
    }
    assert end == {"id": "q", "type": "complete"}
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert two_roots["type"] == "error"
    assert two_roots["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert two_roots["payload"][0]["message"] == (
        "Anonymous Subscription must select only one top level field."
    )


async def test_the_client_completing_closes_the_upstream_socket(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            await _send(ws, {"id": "1", "type": "complete"})
            await _subscribed(0)
            # the id is free again, and ping is answered
            await _send(ws, {"type": "ping"})
            assert await _receive(ws) == {"type": "pong"}
            await _send(ws, _subscribe("1"))
            await _subscribed(1)


async def test_a_client_leaving_mid_stream_leaves_nothing_behind(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        before = stack.router_tasks()
        ws = await _open(stack.ws_url)
        await _init(ws)
        for op_id in ("1", "2", "3"):
            await _send(ws, _subscribe(op_id))
        await _subscribed(3)
        HUB.publish("p1", review())
        assert (await _receive(ws))["type"] == "next"
        assert stack.app.subscriptions.running and len(stack.app.subscriptions.running) == 3
        ws.transport.abort()  # gone without a close frame
        await _subscribed(0)
        await wait_until(lambda: not stack.app.subscriptions.running)
        await wait_until(lambda: stack.router_tasks() == before)


@pytest.mark.parametrize(
    ("steps", "code", "reason"),
    [
        (
            [{"type": "connection_init"}, {"type": "connection_init"}],
            4429,
            "Too many initialisation requests",
        ),
        ([_subscribe("1")], 4401, "Unauthorized"),
        ([{"type": "connection_init"}, "not json"], 4400, "Invalid message received"),
        ([{"type": "connection_init"}, {"type": "unknown"}], 4400, "Invalid message received"),
        (
            [{"type": "connection_init", "payload": "text"}],
            4400,
            "Invalid message received: payload must be an object",
        ),
        (
            [{"type": "connection_init"}, {"id": "", "type": "subscribe", "payload": {}}],
            4400,
            "Invalid message received: bad id",
        ),
    ],
)
async def test_protocol_violations_close_with_their_code(
    subgraphs: Subgraphs, steps: list[Any], code: int, reason: str
) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            for step in steps:
                await ws.send(step if isinstance(step, str) else json.dumps(step))
            assert await _closed(ws) == (code, reason)


async def test_a_duplicate_id_closes_with_4409(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("same"))
            await _subscribed(1)
            await _send(ws, _subscribe("same"))
            assert await _closed(ws) == (4409, "Subscriber for same already exists")
        await _subscribed(0)


async def test_no_connection_init_in_time_closes_with_4408(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"init_timeout": 0.3}}) as stack:
        async with await _open(stack.ws_url) as ws:
            assert await _closed(ws) == (4408, "Connection initialisation timeout")


async def test_without_the_subprotocol_the_socket_closes_with_4406(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url, protocol=None) as ws:
            assert await _closed(ws) == (4406, "Subprotocol not acceptable")


async def test_a_message_over_the_size_limit_closes_with_1009(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"max_message_bytes": 1024}}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1", "{ __typename }" + " " * 2000))
            code, _ = await _closed(ws)
    assert code == 1009


async def test_idle_connections_close(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"idle_timeout": 0.4}}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            assert await _closed(ws) == (1000, "Idle timeout")


# connection_init's clock far beyond WAIT: a watchdog still sleeping towards it fails
SLOW_INIT = 600.0


async def test_heartbeats_are_protocol_pings_from_the_ack_on(subgraphs: Subgraphs) -> None:
    settings = {"heartbeat_interval": 0.2, "init_timeout": SLOW_INIT}
    with running(subgraphs, {"subscriptions": settings}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            assert await _receive(ws) == {"type": "ping"}
            await _send(ws, {"type": "pong"})
            assert await _receive(ws) == {"type": "ping"}


async def test_the_idle_clock_starts_when_the_last_operation_ends(subgraphs: Subgraphs) -> None:
    settings = {"idle_timeout": 1.0, "init_timeout": SLOW_INIT}
    with running(subgraphs, {"subscriptions": settings}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            await asyncio.sleep(1.5)  # past idle_timeout: a running subscription keeps it open
            await _send(ws, {"type": "ping"})
            assert await _receive(ws) == {"type": "pong"}
            await _send(ws, {"id": "1", "type": "complete"})
            assert await _closed(ws) == (1000, "Idle timeout")


async def test_an_id_is_free_again_right_after_complete(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            opened = HUB.opened
            # back to back: the router reads the second before the first has closed
            await _send(ws, {"id": "1", "type": "complete"})
            await _send(ws, _subscribe("1"))
            await wait_until(lambda: HUB.opened == opened + 1 and HUB.active == 1)
            HUB.publish("p1", review("again"))
            event = await _receive(ws)
    assert event["id"] == "1" and event["type"] == "next"
    assert event["payload"]["data"]["reviewAdded"]["body"] == "again"


JWT = {"auth": {"jwt": {"secret": SECRET}}, "authorization": {"require_authentication": True}}


async def test_tokens_are_checked_at_connection_init(subgraphs: Subgraphs) -> None:
    with running(subgraphs, JWT) as stack:
        async with await _open(stack.ws_url) as ws:
            await _send(ws, {"type": "connection_init", "payload": {}})
            missing = await _closed(ws)
        async with await _open(stack.ws_url) as ws:
            await _send(ws, {"type": "connection_init", "payload": {"Authorization": "Bearer bad"}})
            invalid = await _closed(ws)
        # a token in the upgrade request's headers is taken as well
        headers = {"Authorization": token()}
        async with await connect(
            stack.ws_url, subprotocols=[PROTOCOL], additional_headers=headers
        ) as ws:
            await _init(ws)
            await _send(ws, _subscribe("q", '{ product(upc: "p1") { name } }'))
            assert (await _receive(ws))["payload"] == {"data": {"product": {"name": "Chair"}}}
    assert missing == (4403, "Forbidden: Authentication required: send a bearer token.")
    assert invalid[0] == 4403 and invalid[1].startswith("Forbidden: Invalid token")


async def test_an_expiring_token_closes_the_connection_with_4403(subgraphs: Subgraphs) -> None:
    config = {**JWT, "subscriptions": {"init_timeout": SLOW_INIT}}
    with running(subgraphs, config) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws, {"authorization": token(seconds=2)})
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            before_close = await _until_closed(ws)
            closed = ws.close_code, ws.close_reason
        await _subscribed(0)
    assert before_close == []  # no `error` for the subscription: 4403 says why
    assert closed == (4403, "Forbidden: token expired")


async def test_a_subscription_failing_as_the_token_expires_gets_no_error(
    subgraphs: Subgraphs,
) -> None:
    config = {**JWT, "subscriptions": {"init_timeout": SLOW_INIT, "max_event_bytes": 4096}}
    exp = int(time.time()) + 3
    with running(subgraphs, config) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws, {"authorization": token(exp=exp)})
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            # half a second before `exp`, the upstream fails (as a subgraph dropping the
            # expiring token's socket does)
            await asyncio.sleep(exp - 0.5 - time.time())
            HUB.publish("p1", review("x" * 10_000))
            before_close = await _until_closed(ws)
            closed = ws.close_code, ws.close_reason
    assert before_close == []
    assert closed == (4403, "Forbidden: token expired")


async def test_per_connection_and_total_limits(subgraphs: Subgraphs) -> None:
    limits = {"subscriptions": {"max_per_connection": 2, "max_total": 3}}
    with running(subgraphs, limits) as stack:
        async with await _open(stack.ws_url) as one, await _open(stack.ws_url) as two:
            await _init(one)
            await _init(two)
            for op_id in ("1", "2", "3"):
                await _send(one, _subscribe(op_id))
            over_connection = await _receive(one)
            await _send(two, _subscribe("a"))
            await _subscribed(3)
            await _send(two, _subscribe("b"))
            over_total = await _receive(two)
    assert over_connection["id"] == "3" and over_connection["type"] == "error"
    assert over_connection["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
    assert over_total["id"] == "b" and over_total["type"] == "error"
    assert over_total["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"


async def test_an_oversized_subgraph_event_ends_the_subscription(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"max_event_bytes": 4096}}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            HUB.publish("p1", review("x" * 10_000))
            message = await _receive(ws)
        await _subscribed(0)
    assert message["type"] == "error" and message["id"] == "1"
    assert message["payload"][0]["extensions"] == {
        "code": "SUBSCRIPTION_EVENT_TOO_LARGE",
        "serviceName": "reviews",
    }


async def test_a_reload_ends_the_subscriptions_whose_plan_changed(subgraphs: Subgraphs) -> None:
    _, urls = subgraphs
    # the new supergraph has no Product.price: the first plan no longer holds
    without_price = compose_live(urls, lambda name, sdl: sdl.replace("  price: Int!\n", ""))
    with running(subgraphs) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("price"))
            await _send(ws, _subscribe("body", 'subscription { reviewAdded(upc: "p1") { body } }'))
            await _subscribed(2)

            async def swap() -> None:
                """Reload, as the reloader does, on the router's loop."""
                stack.app.swap(stack.app.assembly.router(without_price))

            stack.router.call(swap)
            stopped = await _receive(ws)
            await _subscribed(1)
            HUB.publish("p1", review("still here"))
            kept = await _receive(ws)
    assert stopped["id"] == "price" and stopped["type"] == "error"
    assert stopped["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_SCHEMA_RELOAD"
    assert kept == {
        "id": "body",
        "type": "next",
        "payload": {"data": {"reviewAdded": {"body": "still here"}}},
    }


BODY_QUERY = 'subscription { reviewAdded(upc: "p1") { body } }'
VIEWER_QUERY = 'subscription { reviewAdded(upc: "p1") { viewer } }'
STILL_HERE = {"body": "still here"}


async def test_a_subscription_admitted_before_a_reload_is_checked_when_it_starts(
    subgraphs: Subgraphs,
) -> None:
    """Admitted on the old supergraph, reserved after the reload: the reload's own check
    did not see it, so it is checked as it starts (the pieces ws.py and sse.py call, with
    the reload between them, as a slow authorization lets it happen)."""
    _, urls = subgraphs
    scoped = compose_live(urls, scoped_body)
    with running(subgraphs, {"auth": {"jwt": {"secret": SECRET}}}) as stack:
        app = stack.app
        received: list[dict[str, Any]] = []

        async def emit(payload: dict[str, Any]) -> None:
            received.append(payload)

        async def race() -> tuple[Any, list[dict[str, Any]]]:
            """Admit both, reload, then reserve and run them as the protocols do."""
            admitted = [
                await app.admit(
                    GraphQLRequest(query, None, None, None), {}, "r", MEDIA, streaming=True
                )
                for query in (BODY_QUERY, VIEWER_QUERY)
            ]
            app.swap(app.assembly.router(scoped))
            body, viewer = (app.subscriptions.reserve(one) for one in admitted)
            stopped = await app.subscriptions.run(body, emit)
            task = asyncio.get_running_loop().create_task(app.subscriptions.run(viewer, emit))
            await wait_until(lambda: HUB.active == 1)
            HUB.publish("p1", review("still here"))
            await wait_until(lambda: bool(received))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return stopped, received

        stopped, kept = stack.router.call(race)
        assert app.subscriptions.running == set()
    assert stopped == [
        {
            "message": "The subscription was closed: the supergraph changed and its plan no "
            "longer holds. Subscribe again.",
            "extensions": {"code": "SUBSCRIPTION_SCHEMA_RELOAD"},
        }
    ]
    assert kept == [{"data": {"reviewAdded": {"viewer": None}}}]


async def test_a_reload_hiding_a_field_ends_the_subscriptions_it_hides_it_from(
    subgraphs: Subgraphs,
) -> None:
    _, urls = subgraphs
    # the new supergraph keeps every plan but gives Review.body to `staff` only
    scoped = compose_live(urls, scoped_body)
    with running(subgraphs, {"auth": {"jwt": {"secret": SECRET}}}) as stack:
        async with await _open(stack.ws_url) as anonymous, await _open(stack.ws_url) as staff:
            await _init(anonymous)
            await _init(staff, {"Authorization": token(scope="staff")})
            await _send(anonymous, _subscribe("body", BODY_QUERY))
            await _send(anonymous, _subscribe("viewer", VIEWER_QUERY))
            await _send(staff, _subscribe("body", BODY_QUERY))
            await _subscribed(3)

            async def swap() -> None:
                """Reload, as the reloader does, on the router's loop."""
                stack.app.swap(stack.app.assembly.router(scoped))

            stack.router.call(swap)
            stopped = await _receive(anonymous)
            await _subscribed(2)
            HUB.publish("p1", review("still here"))
            kept = [await _receive(anonymous), await _receive(staff)]
    assert stopped["id"] == "body" and stopped["type"] == "error"
    assert stopped["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_SCHEMA_RELOAD"
    assert kept == [
        {"id": "viewer", "type": "next", "payload": {"data": {"reviewAdded": {"viewer": None}}}},
        {
            "id": "body",
            "type": "next",
            "payload": {"data": {"reviewAdded": {"body": "still here"}}},
        },
    ]


async def test_a_subscription_authorization_empties_answers_its_errors(
    subgraphs: Subgraphs,
) -> None:
    with running(subgraphs, edit=scoped_body) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1", BODY_QUERY))
            answer, end = await _receive(ws), await _receive(ws)
    # as a query answers it: Review.body and reviewAdded are non-null, so data is null
    unauthorized = {
        "message": "Unauthorized field or type",
        "path": ["reviewAdded", "body"],
        "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
    }
    assert answer == {
        "id": "1",
        "type": "next",
        "payload": {"data": None, "errors": [unauthorized]},
    }
    assert end == {"id": "1", "type": "complete"}


async def test_plain_http_refuses_subscriptions_with_a_code(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with httpx.AsyncClient() as client:
            answer = await client.post(stack.http_url, json={"query": REVIEW_QUERY})
    assert answer.status_code == 406
    assert answer.json()["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_STREAM_REQUIRED"


async def test_disabled_subscriptions_are_refused(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"enabled": False}}) as stack:
        async with await _open(stack.ws_url) as ws:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            refused = await _receive(ws)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTIONS_NOT_SUPPORTED"


async def test_metrics_count_active_subscriptions_and_events(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        metrics_url = stack.http_url.replace("/graphql", "/metrics")
        async with await _open(stack.ws_url) as ws, httpx.AsyncClient() as client:
            await _init(ws)
            await _send(ws, _subscribe("1"))
            await _subscribed(1)
            HUB.publish("p1", review())
            await _receive(ws)
            during = (await client.get(metrics_url)).text
            await _send(ws, {"id": "1", "type": "complete"})
            await _subscribed(0)
            await wait_until(lambda: not stack.app.subscriptions.running)
            after = (await client.get(metrics_url)).text
    assert "shopgraph_subscriptions_active 1.0" in during
    assert "shopgraph_subscription_events_total 1.0" in during
    assert "shopgraph_subscriptions_active 0.0" in after


def test_a_subscription_plans_to_subscribe_then_entity_fetches(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        plan = stack.app.router.plan_text(REVIEW_QUERY)
    assert plan == PLAN


PLAN = """QueryPlan {
  Subscription {
    Primary: {
      Fetch(service: "reviews") {
        subscription Watch__reviews__0 {
          reviewAdded(upc: "p1") {
            body
            viewer
            product {
              upc
              __typename
            }
          }
        }
      }
    },
    Rest: {
      Flatten(path: "reviewAdded.product") {
        Fetch(service: "products") {
          {
            ... on Product {
              __typename
              upc
            }
          } =>
          query Watch__products__1($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Product {
                name
                price
              }
            }
          }
        }
      }
    }
  }
}"""


async def test_upgrades_are_bounded_like_any_request(subgraphs: Subgraphs) -> None:
    config = {"server": {"max_connections": 2, "max_head_bytes": 1024}}
    with running(subgraphs, config) as stack:
        padding = {"x-padding": "a" * 2000}
        with pytest.raises(InvalidStatus) as large:
            await connect(stack.ws_url, subprotocols=[PROTOCOL], additional_headers=padding)
        async with await _open(stack.ws_url) as one, await _open(stack.ws_url) as two:
            await _init(one)
            await _init(two)
            # both WebSockets count in the connection cap
            with pytest.raises(InvalidStatus) as busy:
                await _open(stack.ws_url)
    assert large.value.response.status_code == 431
    assert busy.value.response.status_code == 503
