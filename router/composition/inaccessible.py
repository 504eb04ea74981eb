"""@inaccessible rules: the API schema (supergraph minus @inaccessible) must be valid."""

from __future__ import annotations

from router.federation.typeref import is_non_null, named_type

from .composed import ComposedArgument, ComposedField, ComposedSupergraph, ComposedType
from .errors import Report


def validate_inaccessible(sg: ComposedSupergraph, report: Report) -> None:
    """Report what @inaccessible would leave broken in the API schema."""
    if not sg.uses_inaccessible:
        return
    query = sg.types.get(sg.roots.get("query", ""))
    if query is not None and query.inaccessible:
        report.error(
            "QUERY_ROOT_TYPE_INACCESSIBLE",
            f'Type "{query.name}" is @inaccessible but is the query root type, which must '
            "be in the API schema.",
            _where(sg, query.name),
            query.name,
        )
    for t in sg.types.values():
        if t.inaccessible:
            continue
        _check_children(sg, report, t)
        for f in [*t.fields.values(), *t.input_fields.values()]:
            _check_field(sg, report, t, f)
        _check_implemented_fields(sg, report, t)


def _where(
    sg: ComposedSupergraph, type_name: str, field_name: str | None = None
) -> tuple[str, ...]:
    """The subgraphs defining an element, for error reports."""
    t = sg.types.get(type_name)
    if t is None:
        return ()
    graphs = [j.graph for j in t.join_types]
    f = t.fields.get(field_name) if field_name else None
    if f is not None and any(j.graph for j in f.join_fields):
        graphs = [j.graph for j in f.join_fields if j.graph]
    return tuple(dict.fromkeys(sg.graph_name(g) for g in graphs))


def _hidden(sg: ComposedSupergraph, type_name: str) -> bool:
    t = sg.types.get(type_name)
    return t is not None and t.inaccessible


def _check_children(sg: ComposedSupergraph, report: Report, t: ComposedType) -> None:
    """A visible type needs a visible field, value or member."""
    children = list(t.fields.values()) or list(t.input_fields.values()) or list(t.values.values())
    if children and all(c.inaccessible for c in children):
        report.error(
            "ONLY_INACCESSIBLE_CHILDREN",
            f'Type "{t.name}" is in the API schema but all of its '
            f"{'values' if t.values else 'fields'} are @inaccessible.",
            _where(sg, t.name),
            t.name,
        )
    if t.kind == "UNION" and t.members and all(_hidden(sg, m) for m in t.members):
        report.error(
            "ONLY_INACCESSIBLE_CHILDREN",
            f'Type "{t.name}" is in the API schema but all of its members are @inaccessible.',
            _where(sg, t.name),
            t.name,
        )


def _check_field(
    sg: ComposedSupergraph,
    report: Report,
    t: ComposedType,
    f: ComposedField | ComposedArgument,
) -> None:
    """A hidden input field must be optional; a visible field must not use a hidden type."""
    coordinate = f"{t.name}.{f.name}"
    if f.inaccessible:
        if t.kind == "INPUT_OBJECT" and is_non_null(f.type) and f.default is None:
            report.error(
                "REQUIRED_INACCESSIBLE",
                f'Input field "{coordinate}" is @inaccessible but is a required '
                f"input field of its type.",
                _where(sg, t.name, f.name),
                coordinate,
            )
        return
    _check_reference(sg, report, f.type, coordinate, _where(sg, t.name, f.name))
    for a in getattr(f, "args", {}).values():
        _check_argument(sg, report, t, f, a)


def _check_argument(
    sg: ComposedSupergraph,
    report: Report,
    t: ComposedType,
    f: ComposedField,
    a: ComposedArgument,
) -> None:
    """A hidden argument must be optional; a visible one must not use a hidden type."""
    arg_coordinate = f"{t.name}.{f.name}({a.name}:)"
    if a.inaccessible:
        if is_non_null(a.type) and a.default is None:
            report.error(
                "REQUIRED_INACCESSIBLE",
                f'Argument "{arg_coordinate}" is @inaccessible but is a '
                "required argument of its field.",
                _where(sg, t.name, f.name),
                arg_coordinate,
            )
    else:
        _check_reference(sg, report, a.type, arg_coordinate, _where(sg, t.name, f.name))


def _check_reference(
    sg: ComposedSupergraph, report: Report, type_ref: str, coordinate: str, where: tuple[str, ...]
) -> None:
    """An element of the API schema must not use a hidden type."""
    if _hidden(sg, named_type(type_ref)):
        report.error(
            "REFERENCED_INACCESSIBLE",
            f'Type "{named_type(type_ref)}" is @inaccessible but is referenced by '
            f'"{coordinate}", which is in the API schema.',
            where,
            coordinate,
        )


def _check_implemented_fields(sg: ComposedSupergraph, report: Report, t: ComposedType) -> None:
    """A field implementing a visible interface field must be visible too."""
    for itf_name in t.interfaces:
        itf = sg.types.get(itf_name)
        if itf is None or itf.inaccessible:
            continue
        for fname, itf_field in itf.fields.items():
            impl = t.fields.get(fname)
            if impl is not None and impl.inaccessible and not itf_field.inaccessible:
                report.error(
                    "IMPLEMENTED_BY_INACCESSIBLE",
                    f'Field "{t.name}.{fname}" is @inaccessible but implements the '
                    f'interface field "{itf_name}.{fname}", which is in the API '
                    "schema.",
                    _where(sg, t.name, fname),
                    f"{t.name}.{fname}",
                )
