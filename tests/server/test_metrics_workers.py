"""`shopgraph router --workers 2`: /metrics gives the totals of every worker process
(prometheus_client's multiprocess mode, in a private directory the command removes)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from tests.server.test_http_server_limits import RouterProcess, running_router

REQUESTS = 20
COUNT = re.compile(r'^shopgraph_requests_total\{operation="Workers",status="200"\} (\S+)$', re.M)


def _metrics_dirs(router: RouterProcess) -> set[str]:
    """The multiprocess directories in the environments of the router's worker processes."""
    pid = router.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = set()
    for child in children:
        for entry in Path(f"/proc/{child}/environ").read_bytes().split(b"\0"):
            name, _, value = entry.partition(b"=")
            if name == b"PROMETHEUS_MULTIPROC_DIR":
                found.add(value.decode())
    return found


def test_the_request_count_is_the_total_of_all_workers(tmp_path: Path):
    with running_router(tmp_path, {}, "--workers", "2") as router:
        base = f"http://127.0.0.1:{router.port}"
        [shared] = _metrics_dirs(router)
        assert os.path.isdir(shared)
        body = {"query": "query Workers { alphaHeaders }"}
        for _ in range(REQUESTS):
            # a new connection each time, so the workers take turns accepting them
            with httpx.Client() as client:
                assert client.post(f"{base}/graphql", json=body).status_code == 200
        counts = []
        for _ in range(6):  # whichever worker answers the scrape
            with httpx.Client() as client:
                counts.append(COUNT.findall(client.get(f"{base}/metrics").text))
    assert counts == [[f"{REQUESTS}.0"]] * 6
    assert router.subgraph_calls() == REQUESTS
    assert not os.path.exists(shared)  # removed when the command stopped


def test_a_multiprocess_directory_the_environment_does_not_name_is_refused(tmp_path, monkeypatch):
    """Values reach files only through $PROMETHEUS_MULTIPROC_DIR; any other directory
    would be scraped empty, so it is refused (found by review)."""
    from router.server.metrics import MULTIPROCESS_DIR, RouterMetrics

    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with pytest.raises(ValueError, match=MULTIPROCESS_DIR):
        RouterMetrics(str(tmp_path))
