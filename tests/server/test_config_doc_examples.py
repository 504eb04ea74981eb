"""The error messages docs/configuration.md shows are the ones `shopgraph router` prints.

A review found the example listing an old set of limit options; this keeps the page
in step with the code: each documented line is what the real command writes for the
config it describes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"
# the configs the page's examples are about, in the order it shows them
EXAMPLES = ["traffic: {retries: -1}\n", "limits: {max_depht: 3}\n"]


def _documented_errors() -> list[str]:
    """The `shopgraph router: ...` lines of the page's first code block."""
    text = DOC.read_text()
    block = text.split("```", 2)[1]
    return [line for line in block.splitlines() if line.startswith("shopgraph router: ")]


def test_documented_config_errors_are_the_real_ones(tmp_path: Path) -> None:
    printed = []
    for number, config in enumerate(EXAMPLES):
        path = tmp_path / f"router-{number}.yaml"
        path.write_text(config)
        done = subprocess.run(
            [sys.executable, "-m", "router.cli", "router", "--config", str(path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,  # liveness guard: the command stops at once on a bad config
        )
        assert (done.returncode, done.stdout) == (1, "")
        printed.append(done.stderr.strip())
    assert _documented_errors() == printed
