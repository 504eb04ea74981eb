"""Declares every supergraph type with its kind before any is merged, checking kinds agree."""

from __future__ import annotations

from ..composed import ComposedType
from .context import MergeContext
from .wording import KIND_NAMES, human_list


def add_types_shallow(ctx: MergeContext) -> list[str]:
    """Add an empty ComposedType per type name; return the names in first-seen order."""
    kinds: dict[str, str] = {}
    per_subgraph: dict[str, list[tuple[str, str]]] = {}
    interface_objects: set[str] = set()
    for sg in ctx.subgraphs:
        for t in sg.types.values():
            kind = "INTERFACE" if t.interface_object else t.kind
            if t.interface_object:
                interface_objects.add(t.name)
            kinds.setdefault(t.name, kind)
            per_subgraph.setdefault(t.name, []).append((sg.name, kind))
    for name, entries in per_subgraph.items():
        _check_kinds_agree(ctx, name, entries)
    for name in interface_objects:
        _check_interface_object_has_interface(ctx, name, per_subgraph[name])
    for name, kind in kinds.items():
        ctx.out.types[name] = ComposedType(kind=kind, name=name)
    return list(kinds)


def _check_kinds_agree(ctx: MergeContext, name: str, entries: list[tuple[str, str]]) -> None:
    if len({k for _, k in entries}) <= 1:
        return
    by_kind: dict[str, list[str]] = {}
    for sg_name, k in entries:
        by_kind.setdefault(k, []).append(sg_name)
    parts = [f"{KIND_NAMES[k]} in {human_list(s)}" for k, s in by_kind.items()]
    ctx.error(
        "TYPE_KIND_MISMATCH",
        f'Type "{name}" has mismatched kind: it is defined as ' + " but ".join(parts),
        [s for s, _ in entries],
        name,
    )


def _check_interface_object_has_interface(
    ctx: MergeContext, name: str, entries: list[tuple[str, str]]
) -> None:
    if any(sg.types[name].kind == "INTERFACE" for sg in ctx.subgraphs if name in sg.types):
        return
    ctx.error(
        "INTERFACE_OBJECT_USAGE_ERROR",
        f'Type "{name}" is declared with @interfaceObject in all the subgraphs '
        f"in which it is defined (it is defined in "
        f"{human_list([s for s, _ in entries])} but should be defined as an "
        "interface in at least one subgraph)",
        [s for s, _ in entries],
        name,
    )
