"""@join__field: which subgraphs resolve a merged field, and how (only when it says something)."""

from __future__ import annotations

from ..composed import ComposedField, JoinField
from .context import FieldSources, MergeContext
from .override import Overrides


def add_join_fields(
    ctx: MergeContext,
    field: ComposedField,
    fsources: FieldSources,
    override: Overrides,
    all_equal: bool,
) -> None:
    """One @join__field per subgraph resolving `field`, unless none would say anything."""
    if not _needs_join_fields(fsources, override, all_equal):
        return
    for sg, f in fsources:
        if f is None:
            continue
        outcome = override[sg.name]
        if outcome.unused and not outcome.label:
            continue
        field.join_fields.append(
            JoinField(
                graph=ctx.graph[sg.name],
                requires=f.requires,
                provides=f.provides,
                type=None if all_equal else f.type,
                external=f.external,
                override=f.override_from,
                used_overridden=outcome.used,
                override_label=outcome.label,
            )
        )


def _needs_join_fields(fsources: FieldSources, override: Overrides, all_equal: bool) -> bool:
    """False when the field is resolved alike by every subgraph defining its type."""
    if not all_equal:
        return True
    if any(o.used or o.label for o in override.values()):
        return True
    for sg, f in fsources:
        if f is None or override[sg.name].unused:
            return True  # the type is in this subgraph but the field is not (or no longer)
        if f.external or f.provides or f.requires:
            return True
    return False
