"""Under attack, others are served (issue 10): a fixed slice of `python -m bench.attack`.

The bench subgraphs and `shopgraph router` run as real processes; one client sends
hostile and malformed requests of every kind from eight connections while another
repeats an ordinary cross-subgraph query. Pass/fail is about outcomes, not speed
(latency figures live in bench/ and docs/performance.md): the router stays up, no
client mistake gets a 5xx or a dropped connection, every ordinary answer is right and
the ordinary client keeps being served throughout, and the router's memory stays
within 100 MB of its baseline.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.attack import PROBES, attack  # noqa: E402

HOSTILE = 1_500
CPUS = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))


def test_hostile_traffic_leaves_an_ordinary_client_served(tmp_path: Path):
    port = run.free_port()
    subgraphs = (sys.executable, "-m", "bench.subgraph_server", "--port", str(port))
    with run.started(subgraphs, CPUS, tmp_path / "subgraphs.log") as sub:
        run.wait_subgraphs(sub, port, tmp_path / "subgraphs.log")
        gateway = run.shopgraph_gateway(1, run.supergraph_for(port, tmp_path))
        with run.started(gateway.command, CPUS, tmp_path / "router.log") as router:
            url = f"http://127.0.0.1:{gateway.port}"
            run.wait_ready(f"{url}/graphql", router, tmp_path / "router.log")
            report = asyncio.run(attack(url, router.pid, count=HOSTILE))
            assert router.poll() is None, (tmp_path / "router.log").read_text()[-3000:]
    assert report.hostile == HOSTILE
    assert set(report.slowest_by_kind) == set(PROBES)
    assert report.server_errors == []
    assert report.transport_errors == []
    assert sum(report.statuses.values()) == HOSTILE
    assert all(400 <= status < 500 or status == 200 for status in report.statuses)
    assert report.ordinary_wrong == 0
    assert len(report.ordinary_latencies) >= 20
    assert report.rss_peak_mib - report.rss_baseline_mib < 100
