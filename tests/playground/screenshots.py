"""The README's playground screenshots, taken from the running shop.

`python -m tests.playground.screenshots [--out docs/images]` starts `shopgraph dev` on free
ports (its own data folder), logs in as alice, and saves, at 1280x800:
- playground-plan.png: the plan diagram of the default query, one fetch selected;
- playground-trace.png: the trace waterfall after running it.
Then it stops the stack. Chromium and Playwright as the browser tests use them.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tests.playground.pages import (
    VIEWPORT,
    chromium,
    log_in,
    open_playground,
    run_operation,
    show_pane,
)
from tests.server.dev_stack import DevStack, new_stack

OUT = Path("docs/images")
MAX_BYTES = 200_000  # each PNG stays small enough for the repository


async def capture(stack: DevStack, out: Path) -> list[Path]:
    """Take both screenshots from the running `stack` into `out`; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    plan, trace = out / "playground-plan.png", out / "playground-trace.png"
    async with chromium() as browser:
        page = await browser.new_page(viewport=VIEWPORT)
        await open_playground(page, stack.router_url)
        await log_in(page, "alice@example.com", "alice-password")
        await show_pane(page, "Query plan")
        orders = page.locator("[data-testid=plan-diagram] [data-fetch-service=orders]")
        await orders.click()  # its operation shows under the diagram
        await page.wait_for_timeout(300)  # the edges are drawn after layout
        await page.screenshot(path=plan)
        await run_operation(page)
        await show_pane(page, "Trace")
        await page.locator("[data-testid=trace] [data-trace-service]").first.wait_for()
        await page.screenshot(path=trace)
    return [plan, trace]


def main() -> int:
    """Start the shop, take the screenshots, stop it; 1 when a PNG is too big."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    args = parser.parse_args()
    stack = new_stack()
    stack.start()
    try:
        written = asyncio.run(capture(stack, args.out))
    finally:
        stack.stop()
    status = 0
    for path in written:
        size = path.stat().st_size
        print(f"wrote {path} ({size:,} bytes)")
        if size > MAX_BYTES:
            print(f"{path} is over {MAX_BYTES:,} bytes")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
