"""bench/scaling.py's arithmetic: the scaling figures, the median round and the curve
on paper."""

from __future__ import annotations

from pathlib import Path

from bench.scaling import Case, _over_rounds, _point_at, _scaling


def _case(workers: int, rps: float, cores: float, cpu_ms: float) -> Case:
    case = Case(workers, "1" if workers == 1 else "0,1", "0" if workers == 1 else "0,1")
    case.rps, case.router_cores, case.router_cpu_ms_per_request = rps, cores, cpu_ms
    case.rps_per_router_core = rps / cores
    return case


def test_the_scaling_is_given_raw_and_per_router_core():
    # 2 workers got only 1.5 cores (the load generator took the rest): 1.5x raw, but each
    # router-core served as many requests as the single worker's core
    one, two = _case(1, 200, 1.0, 5.0), _case(2, 300, 1.5, 5.0)
    one.correct = two.correct = True
    two.worker_cpu_share = (0.55, 0.45)
    figures = _scaling(one, two)
    assert figures["ok"] is True
    assert figures["worker_balance"] == 0.818
    assert figures["scaling_raw"] == 1.5
    assert figures["scaling_per_router_core"] == 2.0
    assert figures["meets_1_8x_raw"] is False
    curve = figures["paper_curve"]
    assert curve["rps_ideal"] == {"4": 800, "8": 1600, "16": 3200}
    assert curve["rps_derated"] == curve["rps_ideal"]  # no per-core loss measured


def test_a_per_core_loss_is_taken_again_at_each_doubling():
    one, two = _case(1, 200, 1.0, 5.0), _case(2, 360, 2.0, 5.5)
    curve = _scaling(one, two)["paper_curve"]
    assert curve["per_core_efficiency_1_to_2"] == 0.9
    # 4 cores: two doublings, 4 x 200 x 0.9^2
    assert curve["rps_derated"] == {"4": 648, "8": 1166, "16": 2100}
    assert curve["rps_ideal"] == {"4": 727, "8": 1455, "16": 2909}


def test_the_supergraph_copy_points_at_the_bench_subgraphs_port(tmp_path: Path):
    source = tmp_path / "in.graphql"
    source.write_text('@join__graph(name: "a", url: "http://127.0.0.1:4200/accounts")\n'
                      '@join__graph(name: "b", url: "http://127.0.0.1:4200/products")\n')
    (tmp_path / "out").mkdir()
    moved = _point_at(source, 4999, tmp_path / "out")
    assert moved.read_text() == source.read_text().replace(":4200/", ":4999/")


def test_a_per_core_gain_is_not_extrapolated():
    one, two = _case(1, 200, 1.0, 5.0), _case(2, 440, 2.0, 4.5)
    curve = _scaling(one, two)["paper_curve"]
    assert curve["per_core_efficiency_1_to_2"] == 1.0
    assert curve["rps_derated"] == {"4": 800, "8": 1600, "16": 3200}


def test_the_round_with_the_median_scaling_per_router_core_is_given_and_every_round_listed():
    pairs = [
        (_case(1, 300, 1.0, 3.3), _case(2, 480, 1.8, 3.75)),  # 1.778x per core
        (_case(1, 250, 1.0, 4.0), _case(2, 540, 1.8, 3.33)),  # 2.4x
        (_case(1, 290, 1.0, 3.45), _case(2, 520, 1.8, 3.46)),  # 1.992x
    ]
    for one, two in pairs:
        one.correct = two.correct = True
        two.worker_cpu_share = (0.5, 0.5)
    pairs[1][1].disturbed = True
    figures = _over_rounds(pairs)
    assert figures["scaling_per_router_core"] == 1.992
    assert figures["scaling_raw"] == 1.793
    assert [case["rps"] for case in figures["cases"]] == [290, 520]
    assert [r["scaling_per_router_core"] for r in figures["rounds"]] == [1.778, 2.4, 1.992]
    assert figures["rounds"][0] == {
        "scaling_raw": 1.6, "scaling_per_router_core": 1.778, "rps": [300, 480],
        "router_cpu_ms_per_request": [3.3, 3.75],
    }
    assert figures["disturbed"] is True  # any round disturbed, not only the median one
