"""The selection sets of subgraph operations, built up while planning, then printed."""

from __future__ import annotations

from graphql import ArgumentNode, DirectiveNode, VariableNode, print_ast, visit
from graphql.language import Visitor


class SubField:
    __slots__ = ("arguments", "directives", "name", "response_key", "selection")

    def __init__(
        self,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...] = (),
        directives: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
    ) -> None:
        self.response_key = response_key
        self.name = name
        self.arguments = arguments
        self.directives = directives
        self.selection: SubSelection | None = SubSelection() if composite else None

    def signature(self) -> tuple[str, str]:
        return self.name, _print_args(self.arguments)


def _print_args(arguments: tuple[ArgumentNode, ...]) -> str:
    if not arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in arguments) + ")"


class SubSelection:
    """Fields by type condition (`None`: the position's own type), in insertion order."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: dict[str | None, dict[str, SubField]] = {}

    def is_empty(self) -> bool:
        return not any(self.parts.values())

    def find(self, type_condition: str | None, response_key: str) -> SubField | None:
        return self.parts.get(type_condition, {}).get(response_key)

    def add(
        self,
        type_condition: str | None,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...] = (),
        directives: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
    ) -> SubField:
        part = self.parts.setdefault(type_condition, {})
        existing = part.get(response_key)
        if existing is not None:
            if existing.directives != directives:
                # Merged occurrences under different conditions: fetch unconditionally,
                # the response shaper still applies each client condition.
                existing.directives = tuple(
                    d for d in existing.directives if d.name.value not in ("skip", "include")
                )
            return existing
        field = SubField(response_key, name, arguments, directives, composite)
        part[response_key] = field
        return field

    def print(self, indent: str = "") -> str:
        inner = indent + "  "
        lines: list[str] = []
        for type_condition, fields in self.parts.items():
            if not fields:
                continue
            if type_condition is None:
                lines.extend(_print_field(f, inner) for f in fields.values())
            else:
                body = "\n".join(_print_field(f, inner + "  ") for f in fields.values())
                lines.append(f"{inner}... on {type_condition} {{\n{body}\n{inner}}}")
        return "{\n" + "\n".join(lines) + "\n" + indent + "}"

    def variables(self, into: set[str]) -> None:
        for fields in self.parts.values():
            for f in fields.values():
                for node in (*f.arguments, *f.directives):
                    _collect_variables(node, into)
                if f.selection is not None:
                    f.selection.variables(into)


class _VariableCollector(Visitor):
    def __init__(self, into: set[str]) -> None:
        super().__init__()
        self.into = into

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.into.add(node.name.value)


def _collect_variables(node: ArgumentNode | DirectiveNode, into: set[str]) -> None:
    visit(node, _VariableCollector(into))


def _print_field(field: SubField, indent: str) -> str:
    alias = f"{field.response_key}: " if field.response_key != field.name else ""
    text = f"{indent}{alias}{field.name}{_print_args(field.arguments)}"
    for directive in field.directives:
        text += " " + print_ast(directive)
    if field.selection is not None:
        text += " " + field.selection.print(indent)
    return text
