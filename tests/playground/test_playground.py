"""The playground in real headless Chromium against the real stack (`shopgraph dev`):
log in through the router, run a query joining orders, products and stock, and see
the result, the router's query plan (as a diagram and as text) and the trace waterfall
of the subgraph calls. Every request stays on the router."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.commands.compose import SubgraphEntry, sources_from_urls
from router.composition import compose
from router.core import Router
from router.playground import DEFAULT_QUERY
from subgraphs.stack import SUBGRAPHS
from tests.playground.pages import (
    RESULT_EDITOR,
    VIEWPORT,
    chromium,
    editor_value,
    log_in,
    open_playground,
    run_operation,
    show_pane,
)
from tests.server.dev_stack import DevStack, login, product_facts, running_stack

ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots of each run (gitignored)

QUERY = """query OrdersWithStock {
  me {
    email
    orders(first: 10) {
      nodes {
        id
        lines {
          quantity
          product { id name stock { available } }
        }
      }
    }
  }
}"""

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is installed by `shopgraph test`"
)


@pytest.fixture(scope="session")
def dev_stack(request: pytest.FixtureRequest) -> DevStack:
    return running_stack(request)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as instance:
        yield instance


def _router_plan(stack: DevStack, query: str) -> list[tuple[int, str]]:
    """(fetch id, service) of each fetch in the plan of a router composed, as `shopgraph
    dev` composes it, from the running subgraphs: the router's own plan for `query`."""
    entries = [SubgraphEntry(name, stack.subgraph_url(name)) for name in SUBGRAPHS]
    sdl = compose(sources_from_urls(entries)).supergraph_sdl
    assert sdl is not None
    plan = Router.from_supergraph(sdl).plan(query)
    return [(fetch.id, fetch.service) for fetch in plan.fetches()]


async def test_log_in_run_a_joined_query_and_see_its_plan(dev_stack: DevStack, browser: Any):
    base = dev_stack.router_url
    page = await browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    await open_playground(page, base)

    # Log in through the router with the Authorization pane; it sets the header.
    await log_in(page, "alice@example.com", "alice-password")
    # ... in GraphiQL's headers editor (open, as the playground starts with it shown).
    headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    headers = json.loads(await editor_value(page, headers_editor))
    assert list(headers) == ["Authorization"]
    assert headers["Authorization"].startswith("Bearer ")

    # Type the operation into the editor; the plan pane follows the editor and shows the
    # router's plan for exactly this operation (its text one click away from the diagram).
    expected_plan = httpx.post(f"{base}/plan", json={"query": QUERY}).json()["plan"]
    for service in ("accounts", "orders", "products", "inventory"):
        assert f'Fetch(service: "{service}")' in expected_plan
    await page.get_by_label("Show Query plan").click()
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(QUERY)
    await page.get_by_role("tab", name="Text").click()
    plan = page.locator("[data-testid=plan]")
    await plan.filter(has_text="OrdersWithStock").wait_for()
    assert await plan.inner_text() == expected_plan

    # Run it: the result joins orders, products and stock for the logged-in user.
    result = await run_operation(page)
    assert "errors" not in result, result
    me = result["data"]["me"]
    assert me["email"] == "alice@example.com"
    lines = [line for order in me["orders"]["nodes"] for line in order["lines"]]
    assert lines
    facts = product_facts(dev_stack, sorted({line["product"]["id"] for line in lines}))
    for line in lines:
        name, available = facts[line["product"]["id"]]
        assert line["product"]["name"] == name
        assert line["product"]["stock"] == {"available": available}

    assert page_errors == []
    assert requested and all(url.startswith(base + "/") for url in requested), requested
    await page.close()


def _ms(value: float) -> str:
    """A duration as the waterfall prints it (JavaScript's toFixed: halves round up)."""
    places = Decimal("0.01") if value < 10 else Decimal("0.1")
    return str(Decimal(value).quantize(places, rounding=ROUND_HALF_UP))


async def _diagram_fetches(page: Any) -> list[tuple[int, str]]:
    found: list[list[Any]] = await page.eval_on_selector_all(
        "[data-testid=plan-diagram] [data-fetch-service]",
        "nodes => nodes.map(n => [Number(n.dataset.fetchId), n.dataset.fetchService])",
    )
    return [(fetch_id, service) for fetch_id, service in found]


async def _check_default_diagram(page: Any, base: str, expected: list[tuple[int, str]]) -> None:
    """The diagram of the default query: one node per fetch of the router's own plan, in
    its order, the dependencies as edges: accounts -> orders -> (products, inventory)."""
    await show_pane(page, "Query plan")
    diagram = page.locator("[data-testid=plan-diagram]")
    await diagram.locator("[data-fetch-service]").nth(len(expected) - 1).wait_for()
    assert await _diagram_fetches(page) == expected
    assert await diagram.locator(".shopgraph-parallel [data-fetch-service]").count() == 2
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=plan-diagram] .shopgraph-edge').length === 3"
    )
    entity = diagram.locator("[data-fetch-service=orders]")
    assert await entity.locator(".shopgraph-fetch-path").inner_text() == "\u2937\u00a0me"
    # A fetch reached with the keyboard shows the operation it sends.
    answer = httpx.post(f"{base}/plan", json={"query": DEFAULT_QUERY}).json()
    await entity.focus()
    details = page.locator(".shopgraph-fetch-details")
    caption = await details.locator(".shopgraph-caption").inner_text()
    assert caption == "Fetch #1 to orders, entities at me"
    sent = answer["tree"]["node"]["nodes"][1]["node"]["operation"]
    assert await details.locator("pre").inner_text() == sent
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "plan-diagram.png")

    # The text plan is one click (or one arrow key) away, and back.
    await page.get_by_role("tab", name="Text").click()
    assert await page.locator("[data-testid=plan]").inner_text() == answer["plan"]
    assert await diagram.count() == 0
    await page.get_by_role("tab", name="Text").press("ArrowLeft")
    assert await page.get_by_role("tab", name="Diagram").get_attribute("aria-selected") == "true"
    assert await diagram.locator("[data-fetch-service]").count() == len(expected)


async def _check_waterfall(page: Any, trace: dict[str, Any]) -> None:
    """One bar per subgraph call in `trace`, in start order, each with its details."""
    calls = trace["fetches"]
    await show_pane(page, "Trace")
    waterfall = page.locator("[data-testid=trace]")
    await waterfall.locator("[data-trace-service]").nth(len(calls) - 1).wait_for()
    bars = await waterfall.locator("[data-trace-service]").evaluate_all(
        "bars => bars.map(b => b.getAttribute('data-trace-service'))"
    )
    assert bars == [call["service"] for call in sorted(calls, key=lambda c: c["startMs"])]
    total = max([trace["durationMs"]] + [c["startMs"] + c["durationMs"] for c in calls])
    summary = await waterfall.locator(".shopgraph-wf-summary").inner_text()
    assert summary == f"MyOrders: {len(calls)} subgraph calls in {_ms(total)} ms"
    # Each bar's details (its title, and its row's label for screen readers) in full.
    call = next(c for c in calls if c["service"] == "orders")
    assert call["entities"] == 1
    row = waterfall.get_by_role("listitem").filter(has=page.locator("[data-trace-service=orders]"))
    assert await row.get_attribute("aria-label") == (
        f"orders \u00b7 entities at me \u00b7 starts at {_ms(call['startMs'])} ms \u00b7 "
        f"takes {_ms(call['durationMs'])} ms \u00b7 {call['bytes']} bytes \u00b7 1 entity"
    )
    await page.screenshot(path=ARTIFACTS / "trace-waterfall.png")


async def test_the_default_query_drawn_as_a_plan_diagram_and_a_trace_waterfall(
    dev_stack: DevStack, browser: Any
):
    base = dev_stack.router_url
    page = await browser.new_page(viewport=VIEWPORT)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    traced: list[str | None] = []
    page.on(
        "request",
        lambda r: (
            traced.append(r.headers.get("shopgraph-trace"))
            if r.url == f"{base}/graphql" and r.method == "POST"
            else None
        ),
    )
    await open_playground(page, base)
    await log_in(page, "alice@example.com", "alice-password")
    traced.clear()  # the login mutation is not GraphiQL's; only runs from the editor count

    expected = _router_plan(dev_stack, DEFAULT_QUERY)
    assert [service for _, service in expected] == ["accounts", "orders", "products", "inventory"]
    await _check_default_diagram(page, base, expected)

    # Run it: the request asks for a trace, the answer carries one (a call per fetch of
    # the plan, as alice has orders), and the waterfall draws it.
    result = await run_operation(page)
    assert traced == ["1"]
    assert "errors" not in result, result
    trace = result["extensions"]["trace"]
    assert sorted(c["service"] for c in trace["fetches"]) == sorted(s for _, s in expected)
    await _check_waterfall(page, trace)
    assert page_errors == []
    await page.close()


DEFERRED = """query DeferredStock {
  products(first: 3) {
    nodes {
      name
      ... @defer(label: "stock") { stock { available } }
    }
  }
}"""

CONDITIONAL = """query MaybeStock($withStock: Boolean!) {
  products(first: 3) { nodes { name stock @include(if: $withStock) { available } } }
}"""


async def _type_operation(page: Any, text: str) -> None:
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def _edges(page: Any, kind: str) -> int:
    count: int = await page.locator(f"[data-testid=plan-diagram] .shopgraph-edge-{kind}").count()
    return count


async def test_a_deferred_part_is_marked_in_the_diagram_and_the_waterfall(
    dev_stack: DevStack, browser: Any
):
    page = await browser.new_page(viewport=VIEWPORT)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    await open_playground(page, dev_stack.router_url)
    await _type_operation(page, DEFERRED)

    # The primary fetch, then the deferred part (dashed, labelled) with its own fetch,
    # which waits for fetch #0: a "deferred" edge from it.
    expected = _router_plan(dev_stack, DEFERRED)
    assert [service for _, service in expected] == ["products", "inventory"]
    part = page.locator("[data-testid=plan-diagram] .shopgraph-deferred")
    await part.locator("[data-fetch-service=inventory]").wait_for()
    assert await _diagram_fetches(page) == expected
    assert await part.count() == 1
    caption = await part.locator(".shopgraph-caption").inner_text()
    assert caption == 'Deferred "stock" at products.nodes.@, after #0\ndeferred'
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=plan-diagram] .shopgraph-edge').length === 1"
    )
    assert await _edges(page, "deferred") == 1

    # Run over multipart (GraphiQL's fetcher): the waterfall gathers the trace of both
    # payloads, the deferred call's bar marked as such.
    await page.locator(".graphiql-execute-button").click()
    await show_pane(page, "Trace")
    summary = page.locator("[data-testid=trace] .shopgraph-wf-summary")
    await summary.filter(has_text="(2 payloads)").wait_for()
    assert (await summary.inner_text()).startswith("DeferredStock: 2 subgraph calls in ")
    rows = page.locator("[data-testid=trace] [role=listitem]")
    services = await rows.locator("[data-trace-service]").evaluate_all(
        "bars => bars.map(b => b.getAttribute('data-trace-service'))"
    )
    assert services == ["products", "inventory"]
    assert await rows.nth(0).get_attribute("class") == "shopgraph-wf-row"
    assert await rows.nth(1).get_attribute("class") == "shopgraph-wf-row shopgraph-wf-deferred"
    label = await rows.nth(1).get_attribute("aria-label")
    assert label is not None and label.endswith(" \u00b7 3 entities \u00b7 deferred part stock")
    assert page_errors == []
    await page.close()


async def test_a_condition_shows_both_branches(dev_stack: DevStack, browser: Any):
    page = await browser.new_page(viewport=VIEWPORT)
    await open_playground(page, dev_stack.router_url)
    await _type_operation(page, CONDITIONAL)

    condition = page.locator("[data-testid=plan-diagram] .shopgraph-condition")
    await condition.wait_for()
    assert await _diagram_fetches(page) == _router_plan(dev_stack, CONDITIONAL)
    branches = condition.locator(".shopgraph-branch")
    assert await branches.count() == 2
    include, skip = branches.nth(0), branches.nth(1)
    assert await include.locator(".shopgraph-caption").inner_text() == "Include (if $withStock)"
    assert await include.locator("[data-fetch-service]").get_attribute("data-fetch-service") == (
        "inventory"
    )
    assert await skip.locator(".shopgraph-caption").inner_text() == "Skip (unless $withStock)"
    assert await skip.locator(".shopgraph-empty").inner_text() == "nothing to fetch"
    assert await skip.locator("[data-fetch-service]").count() == 0
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=plan-diagram] .shopgraph-edge-stage')"
        ".length === 1"
    )

    # A "shopgraph-trace" header set in the headers editor wins over the playground's own:
    # "0" asks for no trace, and the Trace pane says none came.
    await _set_variables(page, {"withStock": True})
    headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    await page.evaluate(
        "([selector, text]) => document.querySelector(selector).CodeMirror.setValue(text)",
        [headers, json.dumps({"shopgraph-trace": "0"})],
    )
    result = await run_operation(page)
    assert "extensions" not in result and len(result["data"]["products"]["nodes"]) == 3
    await show_pane(page, "Trace")
    assert await page.locator("[data-testid=trace-empty]").count() == 1
    await page.close()


FOLLOW_ORDER = """subscription FollowOrder($id: ID!) {
  orderStatusChanged(orderId: $id) { status lines { product { name } } }
}"""

WATCH_STOCK = """subscription WatchStock($id: ID!) {
  stockChanged(productId: $id) { available }
}"""

ADJUST = """mutation Adjust($input: AdjustStockInput!) {
  adjustStock(input: $input) { product { stock { available } } userErrors { message } }
}"""


async def _set_variables(page: Any, variables: dict[str, Any]) -> None:
    await page.evaluate(
        "(text) => document.querySelector('.graphiql-editor-tool .graphiql-editor .CodeMirror')"
        ".CodeMirror.setValue(text)",
        json.dumps(variables),
    )


async def _result_when(page: Any, key: str, timeout_ms: int) -> dict[str, Any] | None:
    """The result pane's response once it mentions `key`; None if it does not in time."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_function(
            "(key) => document.querySelector('.result-window .CodeMirror')"
            ".CodeMirror.getValue().includes(key)",
            arg=key,
            timeout=timeout_ms,
        )
    except PlaywrightTimeout:
        return None
    result: dict[str, Any] = json.loads(await editor_value(page, RESULT_EDITOR))
    return result


def _adjust(stack: DevStack, token: str, product_id: str, delta: int) -> int:
    """Change the product's stock through the router as an admin; its new availability."""
    key = f"playground-test-{uuid.uuid4()}"
    variables = {"input": {"productId": product_id, "delta": delta, "idempotencyKey": key}}
    body = stack.graphql(ADJUST, variables, token)
    assert body["data"]["adjustStock"]["userErrors"] == [], body
    available: int = body["data"]["adjustStock"]["product"]["stock"]["available"]
    return available


async def _check_subscription_diagram(page: Any, dev_stack: DevStack) -> None:
    """The plan: the long-lived subscription fetch, then what runs for each event."""
    await _type_operation(page, FOLLOW_ORDER)
    subscription = page.locator("[data-testid=plan-diagram] .shopgraph-subscription")
    await subscription.locator("[data-fetch-service=products]").wait_for()
    assert await _diagram_fetches(page) == _router_plan(dev_stack, FOLLOW_ORDER)
    assert await _diagram_fetches(page) == [(0, "orders"), (1, "products")]
    captions = await subscription.locator(
        ".shopgraph-branch > .shopgraph-caption"
    ).all_inner_texts()
    assert captions == ["Primary: the subscription", "Rest: run for each event"]
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=plan-diagram] .shopgraph-edge-event')"
        ".length === 1"
    )


async def test_a_subscription_drawn_and_run_over_graphql_ws(dev_stack: DevStack, browser: Any):
    page = await browser.new_page(viewport=VIEWPORT)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    await open_playground(page, dev_stack.router_url)
    await log_in(page, "admin@shopgraph.dev", "admin-password")
    await show_pane(page, "Query plan")

    await _check_subscription_diagram(page, dev_stack)

    # Run one: GraphiQL subscribes over graphql-transport-ws on /graphql with the
    # Authorization header; a stock change made through the router arrives as an event.
    token = login(dev_stack, "admin@shopgraph.dev", "admin-password")
    product = dev_stack.graphql("{ products(first: 1) { nodes { id } } }")
    product_id = product["data"]["products"]["nodes"][0]["id"]
    await _type_operation(page, WATCH_STOCK)
    await _set_variables(page, {"id": product_id})
    # GraphiQL has taken the new operation in once the plan pane shows its plan
    primary = "[data-testid=plan-diagram] .shopgraph-subscription [data-fetch-service=inventory]"
    await page.locator(primary).wait_for()
    await page.locator(".graphiql-execute-button").click()
    changed, seen = 0, None
    for _ in range(20):  # the subgraph subscription starts asynchronously: retry a bounded while
        available = _adjust(dev_stack, token, product_id, 1)
        changed += 1
        seen = await _result_when(page, "stockChanged", timeout_ms=1000)
        if seen is not None:
            break
    # events come in order: the pane ends on the last change's
    last = await _result_when(page, f'"available": {available}', timeout_ms=5000)
    _adjust(dev_stack, token, product_id, -changed)
    assert seen is not None
    assert last == {"data": {"stockChanged": {"available": available}}}
    await show_pane(page, "Trace")
    assert await page.locator("[data-testid=trace-empty]").inner_text() == (
        "The last answer carried no trace: the router adds one to queries and mutations in "
        "development (shopgraph dev) or for callers allowed to trace (see docs/playground.md); "
        "subscription events carry none."
    )
    assert page_errors == []
    await page.close()
