"""A field resolved by several subgraphs: it must be @shareable, with compatible runtime types."""

from __future__ import annotations

from router.federation.typeref import named_type

from ..composed import ComposedField, ComposedType
from .context import FieldSources, MergeContext
from .override import Overrides
from .wording import human_list


def validate_field_sharing(
    ctx: MergeContext,
    st: ComposedType,
    field: ComposedField,
    fsources: FieldSources,
    override: Overrides,
) -> None:
    """INVALID_FIELD_SHARING when a non-shareable field is resolved by more than one subgraph."""
    resolving, shareable, non_shareable = _resolvers(ctx, st, field, fsources, override)
    if not non_shareable or not (shareable or len(non_shareable) > 1):
        return
    coordinate = f"{st.name}.{field.name}"
    which = human_list(non_shareable) if shareable else "all of them"
    extra = ""
    unknown = [sg.name for sg, _ in fsources if override[sg.name].unknown_target]
    if unknown:
        extra = (
            f' (please note that "{coordinate}" has an @override directive in '
            f'"{unknown[0]}" that targets an unknown subgraph so this could be due '
            "to misspelling the @override(from:) argument)"
        )
    ctx.error(
        "INVALID_FIELD_SHARING",
        f'Non-shareable field "{coordinate}" is resolved from multiple subgraphs: '
        f"it is resolved from {human_list(resolving)} and defined as "
        f"non-shareable in {which}{extra}",
        [r.split('"')[0] for r in resolving],
        coordinate,
    )


def _resolvers(
    ctx: MergeContext,
    st: ComposedType,
    field: ComposedField,
    fsources: FieldSources,
    override: Overrides,
) -> tuple[list[str], list[str], list[str]]:
    """(resolving, shareable, non-shareable) labels of the subgraphs resolving the field."""
    resolving: list[str] = []
    non_shareable: list[str] = []
    shareable: list[str] = []
    for sg, f in fsources:
        if f is None:
            continue
        if override[sg.name].used or override[sg.name].unused:
            continue
        if f.external and (st.name, f.name) not in ctx.partial[sg.name]:
            continue
        resolving.append(sg.name)
        (shareable if f.shareable else non_shareable).append(sg.name)
    # Implementations also get fields that an @interfaceObject resolves.
    for itf in st.interfaces:
        for sg in ctx.subgraphs:
            t = sg.types.get(itf)
            if t is None or not t.interface_object or st.name in sg.types:
                continue
            f = t.fields.get(field.name)
            if f is not None and not f.external:
                label = f'{sg.name}" (through @interfaceObject field "{itf}.{f.name})'
                resolving.append(label)
                (shareable if f.shareable else non_shareable).append(label)
    return resolving, shareable, non_shareable


def validate_shared_runtime_types(
    ctx: MergeContext,
    st: ComposedType,
    field: ComposedField,
    fsources: FieldSources,
    override: Overrides,
) -> None:
    """A shared field with an abstract type must resolve to the same runtime types
    everywhere: no common type is an error, different sets are a hint."""
    per_subgraph: dict[str, frozenset[str]] = {}
    for sg, f in fsources:
        if f is None or f.external or override[sg.name].used:
            continue
        if override[sg.name].unused:
            continue
        # only where the subgraph itself declares an abstract type (a subgraph
        # returning one object type is covered by the field-type merge rules)
        named = named_type(f.type)
        target = sg.types.get(named)
        if target is not None and target.kind in ("INTERFACE", "UNION"):
            per_subgraph[sg.name] = frozenset(sg.possible_types(named))
    if len(per_subgraph) < 2 or len(set(per_subgraph.values())) == 1:
        return
    coordinate = f"{st.name}.{field.name}"
    common = frozenset.intersection(*per_subgraph.values())
    listing = "; ".join(
        f'"{name}": {", ".join(sorted(types)) or "none"}' for name, types in per_subgraph.items()
    )
    if not common:
        ctx.error(
            "SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES",
            f'Shared field "{coordinate}" return type "{field.type}" has a '
            f"non-intersecting set of possible runtime types across subgraphs: {listing}.",
            list(per_subgraph),
            coordinate,
        )
    else:
        ctx.hint(
            "INCONSISTENT_RUNTIME_TYPES_FOR_SHAREABLE_RETURN",
            f'Shared field "{coordinate}" return type "{field.type}" has different sets '
            f"of possible runtime types across subgraphs: {listing}. Make sure every "
            f"subgraph only resolves it to {', '.join(sorted(common))}.",
            list(per_subgraph),
            coordinate,
        )
