"""The code is ruff-clean under pyproject.toml's rules (CI runs only the test command)."""

import subprocess
import sys

from tests.paths import REPO


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
