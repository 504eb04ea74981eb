"""`shopgraph test`: install what the test suite needs, then run pytest.

On a fresh machine this is the only thing to run after `pip install -e '.[dev]'`:
it brings in system packages (Chromium for the playground test) and the npm
tools some tests use, then runs the suite. Each step is skipped when already
satisfied, so repeated runs cost nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HELP = "install test prerequisites (chromium, npm tools) and run the test suite"
PASSES_UNKNOWN_ARGS = True  # everything not ours goes to pytest

ROOT = Path(__file__).resolve().parents[2]

# npm projects whose node_modules some tests need; each holds a package.json
# and package-lock.json so installs are reproducible.
NPM_PROJECTS: tuple[str, ...] = ("tests/conformance/tools", "tests/http_audit")
APT_PACKAGES: dict[str, str] = {"chromium": "chromium"}  # executable -> Debian package


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-install", action="store_true", help="skip installing prerequisites")


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def install_prerequisites() -> None:
    missing = [pkg for exe, pkg in APT_PACKAGES.items() if shutil.which(exe) is None]
    if missing and shutil.which("apt-get"):
        _run(["apt-get", "update", "-q"])
        env_cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        subprocess.run(env_cmd, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if shutil.which("npm"):
        for project in NPM_PROJECTS:
            folder = ROOT / project
            if not (folder / "node_modules").is_dir():
                _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder)


def run(args: argparse.Namespace) -> int:
    if not args.no_install:
        install_prerequisites()
    pytest_args = [a for a in args.extra_args if a != "--"]
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)
