"""Under attack, others are served: hostile traffic against a router while an ordinary
client keeps asking its usual question.

One attacker sends a mix of hostile and malformed requests (fragment-spread bombs,
alias and token floods, deep selections, deep and huge variables, broken JSON, bad
UTF-8, odd content types and methods, oversized bodies, distinct heavy operations to
churn the plan cache, the same against /plan) from several connections at once. An
ordinary client meanwhile repeats one cross-subgraph query and checks every answer.
The report gives the ordinary client's latencies, every status the attacker got
(none may be 5xx), and the router's RSS before, during and after.

    python -m bench.attack                   # 10,000 hostile requests, bench subgraphs
    python -m bench.attack --count 2000 --update-docs

The suite runs a fixed slice of this (tests/test_attack.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import proc

ORDINARY = (
    "query Ordinary { topProducts(first: 3) { upc name price inStock "
    "reviews { body author { username } } } }"
)
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Probe:
    """One hostile request."""

    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    params: str = ""


def _post(kind: str, payload: Any, path: str = "/graphql") -> Probe:
    return Probe(kind, "POST", path, JSON, json.dumps(payload).encode())


def _bomb(levels: int) -> str:
    fragments = [f"fragment B{i} on Product {{ ...B{i + 1} ...B{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment B{levels} on Product {{ upc name }}")
    return "{ topProducts { ...B0 } }\n" + "\n".join(fragments)


def _deep(levels: int) -> str:
    chain = "reviews { product { " * (levels // 2)
    return "{ topProducts { " + chain + "upc" + " } }" * (levels // 2) + " } }"


def _heavy_distinct(rng: random.Random) -> str:
    """A valid operation near the field limit, different every time (churns caches)."""
    fields = " ".join(f"a{rng.randrange(10**9)}_{i}: upc" for i in range(60))
    return "{ topProducts { " + fields + " reviews { id body } } }"


def _deep_variables(levels: int) -> bytes:
    """A body whose variable nests `levels` lists deep (written out: json.dumps recurses)."""
    query = b'"query Q($n: Int) { topProducts(first: $n) { upc } }"'
    value = b"[" * levels + b"1" + b"]" * levels
    return b'{"query": ' + query + b', "variables": {"n": ' + value + b"}}"


PROBES: dict[str, Callable[[random.Random], Probe]] = {
    "fragment-bomb": lambda r: _post("fragment-bomb", {"query": _bomb(r.randrange(16, 40))}),
    "alias-flood": lambda r: _post(
        "alias-flood",
        {"query": "{ topProducts { " + " ".join(f"a{i}: upc" for i in range(5000)) + " } }"},
    ),
    "token-flood": lambda r: _post("token-flood", {"query": "{ " + "__typename " * 100_000 + "}"}),
    "deep-selection": lambda r: _post("deep-selection", {"query": _deep(r.randrange(100, 190))}),
    "heavy-distinct": lambda r: _post("heavy-distinct", {"query": _heavy_distinct(r)}),
    "plan-bomb": lambda r: _post("plan-bomb", {"query": _bomb(30)}, "/plan"),
    "broken-json": lambda r: Probe("broken-json", "POST", "/graphql", JSON, b'{"query": "{ to'),
    "not-an-object": lambda r: Probe("not-an-object", "POST", "/graphql", JSON, b"[1, 2, 3]"),
    "bad-utf8": lambda r: Probe(
        "bad-utf8", "POST", "/graphql", JSON, b'{"query": "{ \xff\xfe__typename }"}'
    ),
    "wrong-types": lambda r: _post(
        "wrong-types", {"query": 5, "variables": "x", "operationName": ["a"]}
    ),
    "wrong-variable-type": lambda r: _post(
        "wrong-variable-type",
        {"query": "query Q($n: Int) { topProducts(first: $n) { upc } }", "variables": {"n": "x"}},
    ),
    "huge-variables": lambda r: _post(
        "huge-variables",
        {
            "query": "query Q($n: Int) { topProducts(first: $n) { upc } }",
            "variables": {"n": 1, "pad": ["x" * 100] * 15_000},
        },
    ),
    "deep-variables": lambda r: Probe(
        "deep-variables", "POST", "/graphql", JSON, _deep_variables(r.randrange(100, 1000))
    ),
    "oversized-body": lambda r: Probe(
        "oversized-body", "POST", "/graphql", JSON, b'{"query": "' + b"a" * 3_000_000 + b'"}'
    ),
    "odd-content-type": lambda r: Probe(
        "odd-content-type",
        "POST",
        "/graphql",
        {"content-type": r.choice(["text/plain", "application/xml", "multipart/form-data",
                                   "application/json; charset=latin-7", ""])},
        b'{"query": "{ __typename }"}',
    ),
    "odd-method": lambda r: Probe(
        "odd-method", r.choice(["PUT", "DELETE", "PATCH"]), "/graphql", JSON
    ),
    "bad-get": lambda r: Probe(
        "bad-get", "GET", "/graphql", {"accept": "application/json"},
        params=r.choice(["query=%ZZ", "query=mutation{x}", "variables=%7B", "query=" + "{a" * 500]),
    ),
    "unknown-field": lambda r: _post("unknown-field", {"query": "{ nope { nope } }"}),
    "long-comment": lambda r: _post(
        "long-comment", {"query": f"#{r.randrange(10**9)}" + "x" * 1_000_000 + "\n{ __typename }"}
    ),
    "long-operation-name": lambda r: _post(
        "long-operation-name", {"query": "{ __typename }", "operationName": "N" * 1_000_000}
    ),
}


# kinds whose request never varies: built once, since the attacker's CPU is not the point
CONSTANT = frozenset(PROBES) - {"fragment-bomb", "deep-selection", "heavy-distinct",
                                "deep-variables", "odd-content-type", "odd-method", "bad-get",
                                "long-comment"}


def hostile_requests(
    count: int, seed: int = 1, kinds: Iterable[str] | None = None
) -> Iterator[Probe]:
    """`count` hostile requests, every kind (or those given) in turn, reproducible from
    `seed`."""
    rng = random.Random(seed)
    kinds = sorted(kinds or PROBES)
    built: dict[str, Probe] = {}
    for index in range(count):
        kind = kinds[index % len(kinds)]
        if kind in CONSTANT:
            if kind not in built:
                built[kind] = PROBES[kind](rng)
            yield built[kind]
        else:
            yield PROBES[kind](rng)


@dataclass
class AttackReport:
    hostile: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # "kind: status"
    transport_errors: list[str] = field(default_factory=list)
    ordinary_latencies: list[float] = field(default_factory=list)
    cold_latencies: list[float] = field(default_factory=list)  # never-seen operations
    slowest_by_kind: dict[str, float] = field(default_factory=dict)  # seconds
    ordinary_wrong: int = 0
    rss_baseline_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_after_mib: float = 0.0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The figures, rounded for a report."""
        latencies = sorted(self.ordinary_latencies) or [0.0]
        cold = sorted(self.cold_latencies) or [0.0]
        return {
            "hostile_requests": self.hostile,
            "seconds": round(self.seconds, 1),
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors": len(self.server_errors),
            "transport_errors": len(self.transport_errors),
            "ordinary_requests": len(self.ordinary_latencies),
            "ordinary_wrong": self.ordinary_wrong,
            "ordinary_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "ordinary_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)
            if len(latencies) > 1
            else round(latencies[0] * 1000, 1),
            "ordinary_worst_ms": round(latencies[-1] * 1000, 1),
            "ordinary_cold_requests": len(self.cold_latencies),
            "ordinary_cold_p50_ms": round(statistics.median(cold) * 1000, 1),
            "ordinary_cold_worst_ms": round(cold[-1] * 1000, 1),
            "rss_baseline_mib": round(self.rss_baseline_mib, 1),
            "rss_peak_mib": round(self.rss_peak_mib, 1),
            "rss_growth_mib": round(self.rss_peak_mib - self.rss_baseline_mib, 1),
            "rss_after_mib": round(self.rss_after_mib, 1),
            "slowest_hostile_ms": {
                kind: round(seconds * 1000, 1)
                for kind, seconds in sorted(self.slowest_by_kind.items(), key=lambda kv: -kv[1])
            },
        }


def _rss_mib(pid: int) -> float:
    return proc.sample(pid).rss_kib / 1024


async def _send(client: httpx.AsyncClient, probe: Probe, report: AttackReport) -> None:
    url = probe.path + (f"?{probe.params}" if probe.params else "")
    started = time.perf_counter()
    try:
        response = await client.request(
            probe.method, url, headers=probe.headers, content=probe.body or None
        )
    except httpx.HTTPError as error:
        report.transport_errors.append(f"{probe.kind}: {type(error).__name__}")
        return
    seconds = time.perf_counter() - started
    report.slowest_by_kind[probe.kind] = max(report.slowest_by_kind.get(probe.kind, 0), seconds)
    report.statuses[response.status_code] += 1
    if response.status_code >= 500:
        report.server_errors.append(f"{probe.kind}: {response.status_code}")


async def _attacker(
    client: httpx.AsyncClient, probes: Iterator[Probe], report: AttackReport
) -> None:
    for probe in probes:
        report.hostile += 1
        await _send(client, probe, report)


def _ordinary(router_url: str, expected: Any, stop: Any, results: Any) -> None:
    """The ordinary client, in a process of its own so that generating the attack never
    delays it: asks its query every 20 ms until `stop` is set — every tenth time under
    a new operation name, so the router has never seen it (a cold plan) — then sends
    (latencies, cold latencies, wrong answers) through `results`."""
    latencies: list[float] = []
    cold: list[float] = []
    wrong = 0
    with httpx.Client(base_url=router_url, timeout=30.0) as client:
        for count in itertools.count(1):
            if stop.is_set():
                break
            fresh = count % 10 == 0
            query = ORDINARY.replace("Ordinary", f"Ordinary{count}") if fresh else ORDINARY
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": query})
            (cold if fresh else latencies).append(time.perf_counter() - started)
            if response.status_code != 200 or response.json() != expected:
                wrong += 1
            time.sleep(0.02)
    results.send((latencies, cold, wrong))


async def _watch_rss(pid: int, report: AttackReport, done: asyncio.Event) -> None:
    while not done.is_set():
        report.rss_peak_mib = max(report.rss_peak_mib, _rss_mib(pid))
        await asyncio.sleep(0.1)


async def attack(
    router_url: str,
    pid: int,
    *,
    count: int = 10_000,
    connections: int = 8,
    seed: int = 1,
    kinds: Iterable[str] | None = None,
) -> AttackReport:
    """Run the attack against the router at `router_url` (process `pid`, for RSS)."""
    report = AttackReport()
    timeout = httpx.Timeout(30.0)
    limits = httpx.Limits(max_connections=connections + 2)
    async with httpx.AsyncClient(base_url=router_url, timeout=timeout, limits=limits) as hostile:
        expected = (await hostile.post("/graphql", json={"query": ORDINARY})).json()
        if "errors" in expected:
            raise RuntimeError(f"the ordinary query fails before the attack: {expected}")
        for _ in range(20):  # warm: the baseline is a router that has served
            await hostile.post("/graphql", json={"query": ORDINARY})
        report.rss_baseline_mib = report.rss_peak_mib = _rss_mib(pid)
        done = asyncio.Event()
        stop = multiprocessing.Event()
        receiving, sending = multiprocessing.Pipe(duplex=False)
        client = multiprocessing.Process(
            target=_ordinary, args=(router_url, expected, stop, sending), daemon=True
        )
        client.start()
        watcher = asyncio.create_task(_watch_rss(pid, report, done))
        probes = hostile_requests(count, seed, kinds)
        started = time.perf_counter()
        try:
            await asyncio.gather(
                *(_attacker(hostile, probes, report) for _ in range(connections))
            )
        finally:
            report.seconds = time.perf_counter() - started
            done.set()
            stop.set()
            await watcher
            report.ordinary_latencies, report.cold_latencies, report.ordinary_wrong = (
                receiving.recv()
            )
            client.join(10)
        report.rss_after_mib = _rss_mib(pid)
    return report


def main(argv: list[str] | None = None) -> int:
    """Start the bench subgraphs and a shopgraph router, attack it, print the figures."""
    from bench import run

    parser = argparse.ArgumentParser(prog="python -m bench.attack", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", action="append", choices=sorted(PROBES),
                        help="only this kind of hostile request (repeatable)")
    parser.add_argument("--update-docs", action="store_true")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="shopgraph-attack-"))
    try:
        port = run.free_port()
        subgraphs = (sys.executable, "-m", "bench.subgraph_server", "--port", str(port))
        with run.started(subgraphs, "0-1", folder / "subgraphs.log") as sub:
            run.wait_subgraphs(sub, port, folder / "subgraphs.log")
            gateway = run.shopgraph_gateway(1, run.supergraph_for(port, folder))
            with run.started(gateway.command, "0-1", folder / "router.log") as router:
                url = f"http://127.0.0.1:{gateway.port}"
                run.wait_ready(f"{url}/graphql", router, folder / "router.log")
                report = asyncio.run(
                    attack(url, router.pid, count=options.count,
                           connections=options.connections, seed=options.seed,
                           kinds=options.kind)
                )
                alive = router.poll() is None
        summary = {**report.summary(), "router_alive": alive}
        print(json.dumps(summary, indent=2))
        if options.update_docs:
            update_docs(summary)
        return 0 if alive and not report.server_errors and not report.ordinary_wrong else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- attack:begin -->", "<!-- attack:end -->"


def update_docs(summary: dict[str, Any]) -> None:
    """Replace the attack section of docs/performance.md with these figures."""
    rows = "\n".join(
        f"| {key} | {value} |" for key, value in summary.items() if key != "slowest_hostile_ms"
    )
    slowest = ", ".join(f"{k} {v} ms" for k, v in summary["slowest_hostile_ms"].items())
    section = (
        f"{BEGIN}\n_Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        "`python -m bench.attack`._\n\n| figure | value |\n|---|---|\n"
        f"{rows}\n\nSlowest answer per hostile kind (client side, 8 connections at once): "
        f"{slowest}.\n{END}"
    )
    text = DOCS.read_text()
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text += "\n## Under attack\n\n" + section + "\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
