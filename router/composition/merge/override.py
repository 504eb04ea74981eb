"""@override: where a field moves from one subgraph to another, and its progressive labels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..composed import ComposedType
from ..model import Subgraph, SubgraphField
from .context import FieldSources, MergeContext

_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


@dataclass(slots=True)
class OverrideOutcome:
    """What @override means for one subgraph's copy of a field."""

    used: bool = False  # overridden, but still used by a @key, @requires, @provides or interface
    unused: bool = False  # overridden and used by nothing: the copy is dropped
    label: str | None = None  # progressive @override label (set on both subgraphs involved)
    unknown_target: bool = False  # its @override(from:) names no subgraph


# Subgraph name -> outcome, for every subgraph defining the field's type.
Overrides = dict[str, OverrideOutcome]
_ByName = dict[str, tuple[Subgraph, SubgraphField | None]]


def validate_override(
    ctx: MergeContext,
    st: ComposedType,
    name: str,
    fsources: FieldSources,
) -> Overrides:
    """Check the @override applications of field `name` and say what each copy becomes."""
    outcomes: Overrides = {sg.name: OverrideOutcome() for sg, _ in fsources}
    coordinate = f"{st.name}.{name}"
    by_name: _ByName = {sg.name: (sg, f) for sg, f in fsources}
    with_override = [sg.name for sg, f in fsources if f is not None and f.override_from]
    for sg_name in with_override:
        sg, f = by_name[sg_name]
        assert f is not None and f.override_from is not None
        if sg.types[st.name].interface_object:
            ctx.error(
                "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                "@override is not yet supported on fields of @interfaceObject types: "
                f'cannot be used on field "{coordinate}" on subgraph "{sg_name}".',
                [sg_name],
                coordinate,
            )
            continue
        from_field = _source_field(ctx, coordinate, sg_name, f.override_from, by_name, outcomes)
        if from_field is not None:
            _override(ctx, coordinate, sg_name, f, from_field, outcomes)
    return outcomes


def _source_field(
    ctx: MergeContext,
    coordinate: str,
    sg_name: str,
    source: str,
    by_name: _ByName,
    outcomes: Overrides,
) -> SubgraphField | None:
    """The overridden copy in the `from` subgraph; None, with a report, when there is none."""
    if source not in {sg.name for sg in ctx.subgraphs}:
        outcomes[sg_name].unknown_target = True
        ctx.hint(
            "FROM_SUBGRAPH_DOES_NOT_EXIST",
            f'Source subgraph "{source}" for field "{coordinate}" on subgraph '
            f'"{sg_name}" does not exist.',
            [sg_name],
            coordinate,
        )
    elif source == sg_name:
        ctx.error(
            "OVERRIDE_FROM_SELF_ERROR",
            f'Source and destination subgraphs "{source}" are the same for '
            f'overridden field "{coordinate}"',
            [sg_name],
            coordinate,
        )
    elif (other := by_name.get(source)) is not None and _has_override(other[1]):
        ctx.error(
            "OVERRIDE_SOURCE_HAS_OVERRIDE",
            f'Field "{coordinate}" on subgraph "{sg_name}" is also marked with '
            f'directive @override in subgraph "{source}". Only one @override '
            "directive is allowed per field.",
            [sg_name, source],
            coordinate,
        )
    elif other is None or other[1] is None:
        ctx.hint(
            "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
            f'Field "{coordinate}" on subgraph "{sg_name}" no longer exists in the '
            "from subgraph. The @override directive can be removed.",
            [sg_name],
            coordinate,
        )
    else:
        return other[1]
    return None


def _has_override(f: SubgraphField | None) -> bool:
    return f is not None and bool(f.override_from)


def _override(
    ctx: MergeContext,
    coordinate: str,
    sg_name: str,
    f: SubgraphField,
    from_field: SubgraphField,
    outcomes: Overrides,
) -> None:
    """`f` in `sg_name` takes over `from_field`: check the pair, note what the source becomes."""
    source = f.override_from
    assert source is not None
    conflict = _conflicting_directive(f, from_field, sg_name, source)
    if conflict is not None:
        directive, where = conflict
        ctx.error(
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            f'@override cannot be used on field "{coordinate}" on subgraph '
            f'"{sg_name}" since "{coordinate}" on "{where}" is marked with '
            f'directive "@{directive}"',
            [sg_name, source],
            coordinate,
        )
        return
    label = f.override_label
    _note_overridden(ctx, coordinate, sg_name, source, from_field, label, outcomes)
    if label is not None:
        _check_label(ctx, coordinate, sg_name, source, label, outcomes)


def _conflicting_directive(
    f: SubgraphField, from_field: SubgraphField, sg_name: str, source: str
) -> tuple[str, str] | None:
    """(directive, subgraph) that forbids the override, if any."""
    if from_field.requires:
        return "requires", source
    if from_field.provides:
        return "provides", source
    if f.external:
        return "external", sg_name
    return None


def _note_overridden(
    ctx: MergeContext,
    coordinate: str,
    sg_name: str,
    source: str,
    from_field: SubgraphField,
    label: str | None,
    outcomes: Overrides,
) -> None:
    """Record whether the overridden copy is still used, hinting it can go where it can."""
    if from_field.external:
        ctx.hint(
            "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
            f'Field "{coordinate}" on subgraph "{sg_name}" is not resolved '
            f'anymore by the from subgraph (it is marked "@external" in '
            f'"{source}"). The @override directive can be removed.',
            [sg_name],
            coordinate,
        )
    elif from_field.used:
        outcomes[source].used = True
        if not label:
            ctx.hint(
                "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                f'Field "{coordinate}" on subgraph "{source}" is overridden. '
                "It is still used in some federation directive(s) (@key, "
                "@requires, and/or @provides) and/or to satisfy interface "
                "constraint(s), but consider marking it @external explicitly "
                "or removing it along with its references.",
                [source],
                coordinate,
            )
    else:
        outcomes[source].unused = True
        if not label:
            ctx.hint(
                "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                f'Field "{coordinate}" on subgraph "{source}" is overridden. Consider removing it.',
                [source],
                coordinate,
            )


def _check_label(
    ctx: MergeContext,
    coordinate: str,
    sg_name: str,
    source: str,
    label: str,
    outcomes: Overrides,
) -> None:
    """A progressive override label is a name or `percent(x)` with 0 <= x <= 100."""
    if not _valid_label(label):
        ctx.error(
            "OVERRIDE_LABEL_INVALID",
            f'Invalid @override label "{label}" on field "{coordinate}" '
            f'on subgraph "{sg_name}": labels must start with a letter '
            "and after that may contain alphanumerics, underscores, "
            "minuses, colons, periods, or slashes. Alternatively, labels "
            'may be of the form "percent(x)" where x is a float between '
            "0-100 inclusive.",
            [sg_name],
            coordinate,
        )
        return
    outcomes[sg_name].label = label
    outcomes[source].label = label
    ctx.hint(
        "OVERRIDE_MIGRATION_IN_PROGRESS",
        f'Field "{coordinate}" is currently being migrated with '
        "progressive @override. Once the migration is complete, "
        f'remove the field from subgraph "{source}".',
        [source],
        coordinate,
    )


def _valid_label(label: str) -> bool:
    if _LABEL.match(label):
        return True
    m = _PERCENT.match(label)
    return bool(m) and 0 <= float(m[1]) <= 100
