"""Hot reload: a changed supergraph file or changed subgraph SDLs take effect without a
restart; a broken one leaves the previous supergraph serving."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from router import Router
from router.composition import SubgraphSource, compose
from router.reload import Reloader, SubgraphsSource
from router.server import create_app
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.router.test_cli import _free_port, _shopgraph

EXTRA_FIELD = "\nextend type Query { greeting: String }\n"


def _composed(scenario: Scenario, extra: str = "") -> str:
    sources = [
        SubgraphSource(name, f"http://{name}.invalid", sdl + (extra if name == "products" else ""))
        for name, sdl in scenario.subgraph_sdls.items()
    ]
    result = compose(sources)
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


@pytest.fixture
def live_server(keys_single: Scenario):
    """The keys-single subgraphs, products already serving the extra field."""
    with SubgraphServer() as server:
        for name, resolvers in keys_single.resolvers.items():
            sdl = keys_single.subgraph_sdls[name] + (EXTRA_FIELD if name == "products" else "")
            server.mount("live", name, sdl, resolvers)
        yield server


def test_changed_supergraph_file_is_picked_up_and_a_broken_one_ignored(
    tmp_path: Path, keys_single: Scenario, live_server: SubgraphServer
):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(_composed(keys_single))
    config = tmp_path / "router.yaml"
    urls = live_server.subgraph_urls("live")
    config.write_text("subgraphs:\n" + "".join(f"  {n}:\n    url: {u}\n" for n, u in urls.items()))
    port = _free_port()
    process = subprocess.Popen(
        _shopgraph(
            "router",
            "--supergraph",
            str(supergraph),
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
            "--poll-interval",
            "0.2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"

    def greeting() -> dict:
        return httpx.post(f"{base}/graphql", json={"query": "{ greeting }"}).json()

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health").status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_for(healthy)
        assert greeting()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

        supergraph.write_text(_composed(keys_single, EXTRA_FIELD))
        _wait_for(lambda: "errors" not in greeting())
        assert greeting() == {"data": {"greeting": None}}

        supergraph.write_text("this is not a supergraph {")
        time.sleep(1.0)  # several polls
        assert greeting() == {"data": {"greeting": None}}
        product = httpx.post(
            f"{base}/graphql", json={"query": '{ product(upc: "p1") { upc } }'}
        ).json()
        assert product == {"data": {"product": {"upc": "p1"}}}
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "supergraph reload from file" in stderr.decode()
    assert "still serving the previous one" in stderr.decode()


async def test_live_subgraphs_are_recomposed_when_their_sdl_changes(
    keys_single: Scenario, live_server: SubgraphServer
):
    urls = live_server.subgraph_urls("live")
    async with httpx.AsyncClient() as client:
        source = SubgraphsSource(urls, client)
        first = await source.changed()
        assert first is not None and "join__Graph" in first
        assert await source.changed() is None  # nothing changed

        app = create_app(Router.from_supergraph(first, subgraph_urls=urls))
        reloader = Reloader(
            source, lambda sdl: app.swap(Router.from_supergraph(sdl, subgraph_urls=urls)), 1.0
        )
        original = app.router

        # a subgraph now breaks composition: the old supergraph keeps serving
        products = keys_single.resolvers["products"]
        broken = keys_single.subgraph_sdls["products"] + "\ntype Review { id: Int }\n"
        live_server.mount("live", "products", broken, products)
        assert await reloader.check_once() is False
        assert reloader.failures == 1 and app.router is original

        # a compatible change is composed and swapped in
        changed = keys_single.subgraph_sdls["products"] + EXTRA_FIELD + EXTRA_FIELD.replace(
            "greeting", "farewell"
        )
        live_server.mount("live", "products", changed, products)
        assert await reloader.check_once() is True
        assert app.router is not original
        response = await app.router.execute("{ greeting farewell }")
        assert response == {"data": {"greeting": None, "farewell": None}}
        await app.router.aclose()
        await original.aclose()


async def test_a_reload_unfreezes_the_heap_frozen_at_start(tmp_path: Path, keys_single: Scenario):
    """The start-up heap is frozen (shopgraph router's `_settle_heap`); the router it holds
    is garbage after a reload, and frozen objects in reference cycles are never collected,
    so the reload unfreezes them."""
    import asyncio
    import gc

    from router.commands import router as command

    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(_composed(keys_single))
    app = command.build_app(
        {"supergraph": str(supergraph), "subgraphs": {}, "config": None, "poll_interval": 0.05}
    )
    messages: asyncio.Queue[dict] = asyncio.Queue()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    lifespan = asyncio.create_task(app({"type": "lifespan"}, messages.get, send))
    try:
        await messages.put({"type": "lifespan.startup"})
        while not sent:
            await asyncio.sleep(0.01)
        command._settle_heap()
        assert gc.get_freeze_count() > 0
        served = app.router
        await asyncio.sleep(0.2)  # the watcher has read the file as served
        supergraph.write_text(_composed(keys_single, EXTRA_FIELD))
        for _ in range(200):
            if app.router is not served:
                break
            await asyncio.sleep(0.05)
        assert app.router is not served
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        await messages.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(lifespan, 10)
