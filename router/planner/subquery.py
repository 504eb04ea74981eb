"""The selection sets of subgraph operations, built up while planning, then printed."""

from __future__ import annotations

from graphql import ArgumentNode, DirectiveNode, VariableNode, print_ast, visit
from graphql.language import Visitor

# Where a subgraph operation had to alias a field, how to give the response back its
# client keys: {key in the subgraph response: (key in the merged data, nested renames)}
Renames = dict[str, tuple[str, "Renames | None"]]


class SubField:
    """One field of a subgraph operation, with its sub-selection when it has one."""

    __slots__ = ("arguments", "data_key", "directives", "name", "response_key", "selection")

    def __init__(
        self,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...] = (),
        directives: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
        data_key: str | None = None,
    ) -> None:
        self.response_key = response_key  # the key in the subgraph operation
        self.data_key = data_key or response_key  # the key in the merged data
        self.name = name
        self.arguments = arguments
        self.directives = directives
        self.selection: SubSelection | None = SubSelection() if composite else None


def _print_args(arguments: tuple[ArgumentNode, ...]) -> str:
    if not arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in arguments) + ")"


class SubSelection:
    """Fields by type condition (`None`: the position's own type), in insertion order.

    Two type conditions may select the same response key with types that differ in
    this subgraph (nullability, list or child type): GraphQL's "fields can merge"
    rule would reject the operation, so the later one gets an alias here and its
    value is renamed back when the response is merged (see `renames`).
    """

    __slots__ = ("aliases", "parts", "shapes")

    def __init__(self) -> None:
        self.parts: dict[str | None, dict[str, SubField]] = {}
        self.shapes: dict[str, str] = {}
        self.aliases: dict[tuple[str, str], str] = {}

    def is_empty(self) -> bool:
        """Whether no field was added (the fetch would ask for nothing)."""
        return not any(self.parts.values())

    def add(
        self,
        type_condition: str | None,
        response_key: str,
        name: str,
        arguments: tuple[ArgumentNode, ...] = (),
        directives: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
        type_ref: str | None = None,
        data_key: str | None = None,
    ) -> SubField:
        """The field at `response_key` under `type_condition`, added unless there; aliased
        when this subgraph types the key otherwise elsewhere in the selection (`type_ref`)."""
        data_key = data_key or response_key
        if type_ref is not None:
            first = self.shapes.setdefault(response_key, type_ref)
            if first != type_ref:
                alias = self.aliases.get((response_key, type_ref))
                if alias is None:
                    alias = f"{response_key}__alias_{len(self.aliases)}"
                    self.aliases[(response_key, type_ref)] = alias
                response_key = alias
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
        field = SubField(response_key, name, arguments, directives, composite, data_key)
        part[response_key] = field
        return field

    def renames(self) -> Renames | None:
        """How to rename the aliased keys of the answer back (None: nothing aliased)."""
        tree: Renames = {}
        for fields in self.parts.values():
            for key, field in fields.items():
                nested = field.selection.renames() if field.selection is not None else None
                if key == field.data_key and nested is None:
                    continue
                if key in tree:
                    nested = _merge_renames(tree[key][1], nested)
                tree[key] = (field.data_key, nested)
        return tree or None

    def print(self, indent: str = "") -> str:
        """The selection set as GraphQL text, nested lines indented from `indent`."""
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
        """Add the names of the variables the selection uses to `into`."""
        for fields in self.parts.values():
            for f in fields.values():
                for node in (*f.arguments, *f.directives):
                    _collect_variables(node, into)
                if f.selection is not None:
                    f.selection.variables(into)


def _merge_renames(a: Renames | None, b: Renames | None) -> Renames | None:
    if a is None:
        return b
    if b is None:
        return a
    merged = dict(a)
    for key, (data_key, nested) in b.items():
        merged[key] = (
            data_key,
            _merge_renames(merged[key][1], nested) if key in merged else nested,
        )
    return merged


def apply_renames(value: object, renames: Renames) -> None:
    """Rename aliased keys of a subgraph response back to the client's keys, in place."""
    if isinstance(value, list):
        for item in value:
            apply_renames(item, renames)
        return
    if not isinstance(value, dict):
        return
    for key, (data_key, nested) in renames.items():
        if key not in value:
            continue
        child = value.pop(key) if key != data_key else value[key]
        if nested is not None and child is not None:
            apply_renames(child, nested)
        if key != data_key:
            value[data_key] = child


def renamed_path(path: list[str | int], renames: Renames) -> list[str | int]:
    """A subgraph error's path with the client's keys in place of the planner's aliases."""
    out: list[str | int] = []
    level: Renames | None = renames
    for step in path:
        if isinstance(step, str) and level is not None and step in level:
            data_key, level = level[step]
            out.append(data_key)
        else:
            if isinstance(step, str):
                level = None  # below a key the planner did not alias: nothing to rename
            out.append(step)
    return out


class _VariableCollector(Visitor):
    """Gathers the names of the variables used in an AST node."""

    def __init__(self, into: set[str]) -> None:
        super().__init__()
        self.into = into

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        """Note the variable (graphql-core's visitor hook)."""
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
