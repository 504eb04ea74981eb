"""Where the checkout's files are, for tests (run-time code never looks them up from __file__)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "schema"
