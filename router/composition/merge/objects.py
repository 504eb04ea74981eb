"""Merging object and interface types: their rules, then each field's."""

from __future__ import annotations

from ..composed import ComposedType
from ..model import Subgraph, SubgraphType
from .context import FieldSources, MergeContext, Sources
from .fields import field_sources, merge_field
from .override import validate_override
from .sharing import validate_field_sharing, validate_shared_runtime_types
from .wording import human_list

_ROOT_TYPES = ("Query", "Mutation", "Subscription")


def merge_object(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """Merge an object type's fields; a type left without fields is dropped."""
    is_entity = any(t.keys for _, t in sources)
    if is_entity and any(not t.keys for _, t in sources):
        ctx.hint(
            "INCONSISTENT_ENTITY",
            f'Type "{st.name}" is declared as an entity (has a @key applied) in some '
            "but not all defining subgraphs.",
            [sg.name for sg, _ in sources],
            st.name,
        )
    for name, fsources in field_sources(sources).items():
        if not is_entity and st.name not in _ROOT_TYPES:
            _hint_value_type_field_missing(ctx, st, name, fsources)
        override = validate_override(ctx, st, name, fsources)
        field = merge_field(ctx, st, name, fsources, override)
        if field is not None:
            validate_field_sharing(ctx, st, field, fsources, override)
            validate_shared_runtime_types(ctx, st, field, fsources, override)
    if not st.fields:
        del ctx.out.types[st.name]


def _hint_value_type_field_missing(
    ctx: MergeContext, st: ComposedType, name: str, fsources: FieldSources
) -> None:
    missing = [
        sg.name
        for sg, f in fsources
        if f is None and not all(x.external for x in sg.types[st.name].fields.values())
    ]
    if missing:
        ctx.hint(
            "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD",
            f'Field "{st.name}.{name}" of non-entity object type "{st.name}" '
            f'is defined in some but not all subgraphs that define "{st.name}"',
            missing,
            f"{st.name}.{name}",
        )


def merge_interface(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """Check an interface's keys and @interfaceObject uses, then merge its fields."""
    implementations = ctx.out.possible_types(st.name)
    for sg, t in sources:
        if t.kind == "INTERFACE" and any(k.is_resolvable for k in t.keys):
            _check_key_has_implementations(ctx, st, sg, t, implementations)
        if t.interface_object:
            _check_interface_object_alone(ctx, st, sg, implementations)
    has_key = any(t.keys for _, t in sources)
    for name, fsources in field_sources(sources).items():
        if not has_key:
            _hint_value_interface_field_missing(ctx, st, name, fsources)
        override = validate_override(ctx, st, name, fsources)
        merge_field(ctx, st, name, fsources, override)


def _check_key_has_implementations(
    ctx: MergeContext,
    st: ComposedType,
    sg: Subgraph,
    t: SubgraphType,
    implementations: list[str],
) -> None:
    """A resolvable interface key needs every implementation in that subgraph."""
    local = set(sg.possible_types(st.name))
    missing = [i for i in implementations if i not in local]
    if not missing:
        return
    key = next(k for k in t.keys if k.is_resolvable)
    ctx.error(
        "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
        f'[{sg.name}] Interface type "{st.name}" has a resolvable key '
        f'(@key(fields: "{key.fields}")) in subgraph "{sg.name}" but that '
        "subgraph is missing some of the supergraph implementation types "
        f'of "{st.name}". Subgraph "{sg.name}" should define '
        f"{human_list(missing, 'type', 'types')} (and have "
        f'{"them" if len(missing) > 1 else "it"} implement "{st.name}").',
        [sg.name],
        st.name,
    )


def _check_interface_object_alone(
    ctx: MergeContext, st: ComposedType, sg: Subgraph, implementations: list[str]
) -> None:
    """A subgraph with an @interfaceObject must not define the implementations."""
    defined = [i for i in implementations if i in sg.types]
    if defined:
        ctx.error(
            "INTERFACE_OBJECT_USAGE_ERROR",
            f'[{sg.name}] Interface type "{st.name}" is defined as an '
            f'@interfaceObject in subgraph "{sg.name}" so that subgraph should '
            f'not define any of the implementation types of "{st.name}", but '
            f"it defines {human_list(defined, 'type', 'types')}",
            [sg.name],
            st.name,
        )


def _hint_value_interface_field_missing(
    ctx: MergeContext, st: ComposedType, name: str, fsources: FieldSources
) -> None:
    missing = [
        sg.name
        for sg, f in fsources
        if f is None
        and not (
            sg.types[st.name].interface_object or ctx.provided_by_interface_object(name, st.name)
        )
    ]
    if missing:
        ctx.hint(
            "INCONSISTENT_INTERFACE_VALUE_TYPE_FIELD",
            f'Field "{st.name}.{name}" of interface type "{st.name}" is defined '
            f'in some but not all subgraphs that define "{st.name}"',
            missing,
            f"{st.name}.{name}",
        )
