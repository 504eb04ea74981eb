"""compose(): subgraph SDLs in, supergraph SDL (or errors) out. A pure function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import CompositionError, CompositionHint, Report
from .fed1 import upgrade_fed1
from .merge import merge
from .model import SubgraphSource
from .printer import print_supergraph
from .satisfiability import check_satisfiability
from .settle import mark_used_fields, settle_fake_externals, settle_shareables
from .subgraph import read_subgraph
from .validate import validate_subgraph


@dataclass(frozen=True)
class CompositionResult:
    """The supergraph SDL (None when composition failed), errors and hints."""

    supergraph_sdl: str | None
    errors: tuple[CompositionError, ...] = ()
    hints: tuple[CompositionHint, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether composition succeeded."""
        return self.supergraph_sdl is not None


def compose(subgraphs: Sequence[SubgraphSource]) -> CompositionResult:
    """Parse, upgrade, validate, merge and check the subgraphs; print the supergraph."""
    report = Report()

    def failed() -> CompositionResult:
        """The result of a failed composition: what was reported so far."""
        return CompositionResult(None, tuple(report.errors), tuple(report.hints))

    names = [s.name for s in subgraphs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        report.error(
            "INVALID_SUBGRAPH_NAME", f'A subgraph named "{name}" is given more than once.', (name,)
        )
    if not subgraphs:
        report.error("NO_QUERIES", "No subgraphs to compose.")
    if report.errors:
        return failed()
    parsed = [read_subgraph(source, report) for source in subgraphs]
    if report.errors:
        return failed()
    models = [p for p in parsed if p is not None]
    for sg in models:
        if sg.fed2:
            settle_fake_externals(sg)
    upgrade_fed1(models, report)
    for sg in models:
        if sg.fed2:
            mark_used_fields(sg)
            validate_subgraph(sg, report)
        settle_shareables(sg)
    if report.errors:
        return failed()
    supergraph = merge(models, report)
    if supergraph is None or report.errors:
        return failed()
    check_satisfiability(supergraph, report)
    if report.errors:
        return failed()
    return CompositionResult(print_supergraph(supergraph), (), tuple(report.hints))
