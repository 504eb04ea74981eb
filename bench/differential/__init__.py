"""Differential testing of shopgraph's router against Apollo Gateway and Hive Gateway.

    python -m bench.differential                         # every scenario, seed 1, 50 ops each
    python -m bench.differential --scenario keys-single --count 200
    python -m bench.differential --random                # a fresh seed, printed
    python -m bench.differential --record-slice          # rewrite the pytest slice

For each conformance scenario (tests/conformance/scenarios/) random valid operations are
generated over the API schema (generate.py, values from the scenario's cases: values.py),
then sent to Apollo Gateway, Hive Gateway (gateways.py; pinned in bench/package.json) and
our router on the recorded supergraph and on shopgraph's own composition (harness.py).
Where the references agree and ours does not, that is a disagreement (compare.py).
The summary is printed and the JSON report written to bench/results/differential.json
(report.py); the exit code is nonzero on any disagreement. slices.py keeps the small
recorded slice that the regular test suite replays without node.
"""
