"""The state one merge shares between its steps: inputs, report and the supergraph being built."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from router.federation.specs import join_version

from ..composed import ComposedGraph, ComposedSupergraph
from ..errors import Report
from ..model import Subgraph, SubgraphField, SubgraphType
from ..settle import partially_external

# Every subgraph defining a type, with its definition.
Sources = list[tuple[Subgraph, SubgraphType]]
# Every subgraph defining a type, with its definition of one field (None where it lacks it).
FieldSources = list[tuple[Subgraph, SubgraphField | None]]
# How an enum is used so far: ("Input" | "Output" | "Both", an input example, an output example).
EnumUsage = tuple[str, str | None, str | None]


@dataclass(slots=True)
class MergeContext:
    """Everything the merge steps read and write; built by `new_context`."""

    subgraphs: list[Subgraph]  # sorted by name: every "for each subgraph" follows this order
    report: Report
    out: ComposedSupergraph
    graph: dict[str, str]  # subgraph name -> its join__Graph enum value
    partial: dict[str, set[tuple[str, str]]]  # subgraph -> external fields a @provides makes local
    enum_usage: dict[str, EnumUsage] = field(default_factory=dict)
    composed: dict[str, list[str]] = field(default_factory=dict)  # directive -> composing subgraphs

    def error(self, code: str, message: str, subgraphs=(), coordinate: str | None = None) -> None:
        """Report a composition error."""
        self.report.error(code, message, tuple(subgraphs), coordinate)

    def hint(self, code: str, message: str, subgraphs=(), coordinate: str | None = None) -> None:
        """Report a composition hint."""
        self.report.hint(code, message, tuple(subgraphs), coordinate)

    def sources(self, name: str) -> Sources:
        """The subgraphs defining type `name`, with their definition of it."""
        return [(sg, sg.types[name]) for sg in self.subgraphs if name in sg.types]

    def is_repeatable(self, directive: str) -> bool:
        """Whether the first subgraph defining `directive` declares it repeatable."""
        for sg in self.subgraphs:
            d = sg.directive_defs.get(directive)
            if d is not None:
                return d.repeatable
        return False

    def provided_by_interface_object(self, field_name: str, interface: str) -> bool:
        """Whether some subgraph resolves `interface.field_name` through an @interfaceObject."""
        for sg in self.subgraphs:
            t = sg.types.get(interface)
            if t is not None and t.interface_object:
                f = t.fields.get(field_name)
                if f is not None and not f.external:
                    return True
        return False


def new_context(subgraphs: Sequence[Subgraph], report: Report) -> MergeContext:
    """A context with the graphs named and an empty supergraph to fill."""
    ordered = sorted(subgraphs, key=lambda s: s.name)
    enum_names = _graph_enum_names(ordered)
    return MergeContext(
        subgraphs=ordered,
        report=report,
        out=ComposedSupergraph(
            graphs=[
                ComposedGraph(e, sg.name, sg.url) for sg, e in zip(ordered, enum_names, strict=True)
            ],
            join_version=join_version_for(ordered),
        ),
        graph={sg.name: e for sg, e in zip(ordered, enum_names, strict=True)},
        partial={sg.name: partially_external(sg) for sg in ordered},
    )


def _graph_enum_names(subgraphs: Sequence[Subgraph]) -> list[str]:
    """join__Graph values, numbered where two subgraph names sanitize alike."""
    names = [graph_enum_name(s.name) for s in subgraphs]
    counts = Counter(names)
    seen: Counter[str] = Counter()
    enum_names = []
    for n in names:
        if counts[n] > 1:
            seen[n] += 1
            enum_names.append(f"{n}_{seen[n]}")
        else:
            enum_names.append(n)
    return enum_names


def graph_enum_name(name: str) -> str:
    """A subgraph name as a GraphQL enum value: upper case, no leading digit or `_<digits>` end."""
    sanitized = re.sub(r"\W", "_", name)
    if re.match(r"^\d", sanitized):
        sanitized = "_" + sanitized
    if re.search(r"_\d+$", sanitized):
        sanitized += "_"
    return sanitized.upper()


def join_version_for(subgraphs: Sequence[Subgraph]) -> str:
    """The join spec version the newest Federation version among the subgraphs needs."""
    versions = [sg.fed_version for sg in subgraphs if sg.fed2]
    return join_version(max(versions) if versions else (2, 0))
