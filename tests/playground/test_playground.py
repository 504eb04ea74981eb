"""The playground in real headless Chromium against the real stack (`shopgraph dev`):
log in through the router, run a query joining orders, products and stock, and see
the result and the router's query plan. Every request stays on the router."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.server.dev_stack import DevStack, product_facts, running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

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
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _editor_value(page: Any, selector: str) -> str:
    value: str = await page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.getValue()", selector
    )
    return value


async def test_log_in_run_a_joined_query_and_see_its_plan(dev_stack: DevStack, browser: Any):
    base = dev_stack.router_url
    page = await browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    await page.goto(f"{base}/graphql")  # a browser's Accept: text/html gets the playground
    await page.wait_for_selector(".graphiql-container")

    # Log in through the router with the Authorization pane; it sets the header.
    await page.get_by_label("Show Authorization").click()
    form = page.locator("[data-testid=login-form]")
    await form.locator("input[name=email]").fill("alice@example.com")
    await form.locator("input[name=password]").fill("alice-password")
    await form.get_by_role("button", name="Log in").click()
    await page.get_by_text("Logged in as alice@example.com.").wait_for()
    # ... in GraphiQL's headers editor (open, as the playground starts with it shown).
    headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    headers = json.loads(await _editor_value(page, headers_editor))
    assert list(headers) == ["Authorization"]
    assert headers["Authorization"].startswith("Bearer ")

    # Type the operation into the editor; the plan pane follows the editor and shows the
    # router's plan for exactly this operation.
    expected_plan = httpx.post(f"{base}/plan", json={"query": QUERY}).json()["plan"]
    for service in ("accounts", "orders", "products", "inventory"):
        assert f'Fetch(service: "{service}")' in expected_plan
    await page.get_by_label("Show Query plan").click()
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(QUERY)
    plan = page.locator("[data-testid=plan]")
    await plan.filter(has_text="OrdersWithStock").wait_for()
    assert await plan.inner_text() == expected_plan

    # Run it: the result joins orders, products and stock for the logged-in user.
    await page.locator(".graphiql-execute-button").click()
    await page.wait_for_function(
        "() => document.querySelector('.result-window .CodeMirror')"
        ".CodeMirror.getValue().includes('\"data\"')"
    )
    result = json.loads(await _editor_value(page, ".result-window .CodeMirror"))
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
