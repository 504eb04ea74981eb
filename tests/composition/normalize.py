"""Compare supergraph SDLs up to ordering (of types, fields, directives, values)."""

from graphql import parse, print_ast
from graphql.language import ast


def _directives(node) -> tuple[str, ...]:
    return tuple(sorted(print_ast(d) for d in node.directives or ()))


def _input(node: ast.InputValueDefinitionNode) -> tuple:
    default = print_ast(node.default_value) if node.default_value else None
    return (node.name.value, print_ast(node.type), default,
            node.description.value if node.description else None, _directives(node))


def normalized(sdl: str) -> dict:
    out: dict = {}
    for d in parse(sdl, no_location=True).definitions:
        name = d.name.value if getattr(d, "name", None) else "schema"
        entry: dict = {"kind": d.kind, "directives": _directives(d)}
        if getattr(d, "description", None):
            entry["description"] = d.description.value
        if isinstance(d, ast.DirectiveDefinitionNode):
            entry["locations"] = tuple(sorted(loc.value for loc in d.locations))
            entry["args"] = tuple(sorted(_input(a) for a in d.arguments or ()))
            entry["repeatable"] = d.repeatable
            name = "@" + name
        for attr in ("interfaces", "types"):
            if getattr(d, attr, None):
                entry[attr] = tuple(sorted(t.name.value for t in getattr(d, attr)))
        if getattr(d, "values", None):
            entry["values"] = {v.name.value: _directives(v) for v in d.values}
        if getattr(d, "operation_types", None):
            entry["roots"] = {o.operation.value: o.type.name.value for o in d.operation_types}
        if getattr(d, "fields", None):
            fields = {}
            for f in d.fields:
                if isinstance(f, ast.FieldDefinitionNode):
                    fields[f.name.value] = (
                        print_ast(f.type), tuple(_input(a) for a in f.arguments or ()),
                        _directives(f), f.description.value if f.description else None)
                else:
                    fields[f.name.value] = _input(f)
            entry["fields"] = fields
        out[name] = entry
    return out


def differences(expected: str, actual: str) -> list[str]:
    a, b = normalized(expected), normalized(actual)
    problems = [f"missing {n}" for n in a.keys() - b.keys()]
    problems += [f"unexpected {n}" for n in b.keys() - a.keys()]
    for name in a.keys() & b.keys():
        if a[name] != b[name]:
            for key in a[name].keys() | b[name].keys():
                if a[name].get(key) != b[name].get(key):
                    problems.append(f"{name}.{key}: expected {a[name].get(key)!r}, "
                                    f"got {b[name].get(key)!r}")
    return sorted(problems)
