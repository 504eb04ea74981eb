"""schema/<name>.graphql is exactly what each running subgraph serves as `_service { sdl }`."""

from __future__ import annotations

import pytest
from subgraph_stack import Stack

from subgraphs.sdl import REGENERATE, snapshot_path, snapshot_text
from subgraphs.stack import SUBGRAPHS


@pytest.mark.parametrize("name", SUBGRAPHS)
async def test_served_sdl_matches_snapshot(stack: Stack, name: str) -> None:
    served = (await stack.data(name, "{ _service { sdl } }"))["_service"]["sdl"]
    path = snapshot_path(name)
    assert path.exists(), f"{path} is missing; run `{REGENERATE}` to write it"
    assert snapshot_text(served) == path.read_text(), (
        f"schema/{name}.graphql differs from what the {name} subgraph serves; "
        f"run `{REGENERATE}` to regenerate it and commit the result"
    )
    assert "specs.apollo.dev/federation/v2" in served
