"""Driving the playground page in headless Chromium: shared by the browser tests and the
README screenshots (`python -m tests.playground.screenshots`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
VIEWPORT = {"width": 1280, "height": 800}  # the size the playground must be readable at
RESULT_EDITOR = ".result-window .CodeMirror"


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (the system's, as `shopgraph test` installs it)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def editor_value(page: Any, selector: str) -> str:
    """The text of the CodeMirror editor at `selector`."""
    value: str = await page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.getValue()", selector
    )
    return value


async def open_playground(page: Any, base: str) -> None:
    """Load the playground from the router at `base` and wait until GraphiQL is up."""
    await page.goto(f"{base}/graphql")  # a browser's Accept: text/html gets the playground
    await page.wait_for_selector(".graphiql-container")


async def log_in(page: Any, email: str, password: str) -> None:
    """Log in with the Authorization pane, which sets the Authorization header."""
    await page.get_by_label("Show Authorization").click()
    form = page.locator("[data-testid=login-form]")
    await form.locator("input[name=email]").fill(email)
    await form.locator("input[name=password]").fill(password)
    await form.get_by_role("button", name="Log in").click()
    await page.get_by_text(f"Logged in as {email}.").wait_for()


async def run_operation(page: Any) -> dict[str, Any]:
    """Run the operation in the editor; the response GraphiQL shows, parsed."""
    await page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.setValue('')", RESULT_EDITOR
    )
    await page.locator(".graphiql-execute-button").click()
    await page.wait_for_function(
        "(selector) => document.querySelector(selector).CodeMirror.getValue().includes('\"data\"')",
        arg=RESULT_EDITOR,
    )
    result: dict[str, Any] = json.loads(await editor_value(page, RESULT_EDITOR))
    return result


async def show_pane(page: Any, title: str) -> None:
    """Open one of the playground's panes ("Query plan", "Trace", "Authorization")."""
    button = page.get_by_label(f"Show {title}")
    if await button.count():  # "Hide <title>" when it is already open
        await button.click()
    await page.locator(".graphiql-doc-explorer-title", has_text=title).wait_for()
