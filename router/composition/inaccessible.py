"""@inaccessible rules: the API schema (supergraph minus @inaccessible) must be valid."""

from __future__ import annotations

from router.federation.typeref import named_type

from .composed import ComposedSupergraph
from .errors import Report


def validate_inaccessible(sg: ComposedSupergraph, report: Report) -> None:
    if not sg.uses_inaccessible:
        return

    def where(type_name: str, field_name: str | None = None) -> tuple[str, ...]:
        """The subgraphs defining an element, for error reports."""
        t = sg.types.get(type_name)
        if t is None:
            return ()
        graphs = [j.graph for j in t.join_types]
        f = t.fields.get(field_name) if field_name else None
        if f is not None and any(j.graph for j in f.join_fields):
            graphs = [j.graph for j in f.join_fields if j.graph]
        return tuple(dict.fromkeys(sg.graph_name(g) for g in graphs))

    def hidden(type_name: str) -> bool:
        t = sg.types.get(type_name)
        return t is not None and t.inaccessible

    query = sg.types.get(sg.roots.get("query", ""))
    if query is not None and query.inaccessible:
        report.error(
            "QUERY_ROOT_TYPE_INACCESSIBLE",
            f'Type "{query.name}" is @inaccessible but is the query root type, which must '
            "be in the API schema.",
            where(query.name),
            query.name,
        )
    for t in sg.types.values():
        if t.inaccessible:
            continue
        children = (
            list(t.fields.values()) or list(t.input_fields.values()) or list(t.values.values())
        )
        if children and all(c.inaccessible for c in children):
            report.error(
                "ONLY_INACCESSIBLE_CHILDREN",
                f'Type "{t.name}" is in the API schema but all of its '
                f"{'values' if t.values else 'fields'} are @inaccessible.",
                where(t.name),
                t.name,
            )
        if t.kind == "UNION" and t.members and all(hidden(m) for m in t.members):
            report.error(
                "ONLY_INACCESSIBLE_CHILDREN",
                f'Type "{t.name}" is in the API schema but all of its members are @inaccessible.',
                where(t.name),
                t.name,
            )
        for f in [*t.fields.values(), *t.input_fields.values()]:
            coordinate = f"{t.name}.{f.name}"
            if f.inaccessible:
                if t.kind == "INPUT_OBJECT" and f.type.endswith("!") and f.default is None:
                    report.error(
                        "REQUIRED_INACCESSIBLE",
                        f'Input field "{coordinate}" is @inaccessible but is a required '
                        f"input field of its type.",
                        where(t.name, f.name),
                        coordinate,
                    )
                continue
            if hidden(named_type(f.type)):
                report.error(
                    "REFERENCED_INACCESSIBLE",
                    f'Type "{named_type(f.type)}" is @inaccessible but is referenced by '
                    f'"{coordinate}", which is in the API schema.',
                    where(t.name, f.name),
                    coordinate,
                )
            for a in getattr(f, "args", {}).values():
                arg_coordinate = f"{coordinate}({a.name}:)"
                if a.inaccessible:
                    if a.type.endswith("!") and a.default is None:
                        report.error(
                            "REQUIRED_INACCESSIBLE",
                            f'Argument "{arg_coordinate}" is @inaccessible but is a '
                            "required argument of its field.",
                            where(t.name, f.name),
                            arg_coordinate,
                        )
                elif hidden(named_type(a.type)):
                    report.error(
                        "REFERENCED_INACCESSIBLE",
                        f'Type "{named_type(a.type)}" is @inaccessible but is referenced '
                        f'by "{arg_coordinate}", which is in the API schema.',
                        where(t.name, f.name),
                        arg_coordinate,
                    )
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
                        where(t.name, fname),
                        f"{t.name}.{fname}",
                    )
