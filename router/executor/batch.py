"""Entity fetches to one subgraph that a plan runs in parallel, sent as one request.

A plan often has several `_entities` fetches to the same subgraph in one Parallel node
(products for the reviews of users and for the reviews of top products, say). Each
costs the router a request and the subgraph a round of parsing and validation. They can
go as one operation instead, each fetch's `_entities` field under an alias of its own
and its representations in a variable of its own:

    query Name($_b0: [_Any!]!, $_b1: [_Any!]!, $first: Int) {
      _b0: _entities(representations: $_b0) { ... }
      _b1: _entities(representations: $_b1) { ... }
    }

The batched text is built once per combination of operations (cached). Operations that
do not have the planner's plain shape (one `_entities` root field, no fragments, no
operation directives) are not batched; nor are two that declare one variable with
different types.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    print_ast,
)


@dataclass(frozen=True, slots=True)
class Batch:
    """One operation standing for several entity fetches: for each, in order, the alias
    its `_entities` answer comes under and the variable its representations go in."""

    operation: str
    aliases: tuple[str, ...]
    variables: tuple[str, ...]


@lru_cache(maxsize=512)
def batch_operation(operations: tuple[tuple[str, str], ...]) -> Batch | None:
    """The batch of the (operation text, representations variable) pairs, or None when
    they cannot share one request."""
    try:
        definitions = [_plain_entities_operation(text) for text, _ in operations]
    except GraphQLError:
        return None
    if any(d is None for d in definitions):
        return None
    declared: dict[str, VariableDefinitionNode] = {}
    for definition, (_, own) in zip(definitions, operations, strict=True):
        for variable in definition.variable_definitions or ():  # type: ignore[union-attr]
            name = variable.variable.name.value
            if name == own:
                continue
            known = declared.get(name)
            if known is not None and print_ast(known.type) != print_ast(variable.type):
                return None
            declared.setdefault(name, variable)
    taken = set(declared)
    fields: list[FieldNode] = []
    aliases: list[str] = []
    names: list[str] = []
    for index, (definition, (_, own)) in enumerate(zip(definitions, operations, strict=True)):
        name = _unused(f"_b{index}", taken)
        taken.add(name)
        own_definition = next(
            v for v in definition.variable_definitions if v.variable.name.value == own  # type: ignore[union-attr]
        )
        declared[name] = VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=name)),
            type=own_definition.type,
            default_value=None,
            directives=(),
        )
        field = definition.selection_set.selections[0]  # type: ignore[union-attr]
        fields.append(_aliased(field, name, own))  # type: ignore[arg-type]
        aliases.append(name)
        names.append(name)
    first = definitions[0]
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=first.name,  # type: ignore[union-attr]
        variable_definitions=tuple(declared.values()),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    text = print_ast(DocumentNode(definitions=(operation,)))
    return Batch(text, tuple(aliases), tuple(names))


def _plain_entities_operation(text: str) -> OperationDefinitionNode | None:
    """The operation of `text` when it is a plain `_entities` query (the planner's)."""
    document = parse(text, no_location=True)
    if len(document.definitions) != 1:
        return None
    definition = document.definitions[0]
    if not isinstance(definition, OperationDefinitionNode):
        return None
    if definition.operation != OperationType.QUERY or definition.directives:
        return None
    selections = definition.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.name.value != "_entities" or field.alias is not None or field.directives:
        return None
    return definition


def _aliased(field: FieldNode, alias: str, own: str) -> FieldNode:
    """`field` under `alias`, its representations read from `$alias` instead of `$own`."""
    arguments = tuple(
        ArgumentNode(name=a.name, value=VariableNode(name=NameNode(value=alias)))
        if isinstance(a.value, VariableNode) and a.value.name.value == own
        else a
        for a in field.arguments or ()
    )
    return FieldNode(
        alias=NameNode(value=alias),
        name=field.name,
        arguments=arguments,
        directives=(),
        selection_set=field.selection_set,
    )


def _unused(name: str, taken: set[str]) -> str:
    """`name`, with underscores added until no variable of the batch has it."""
    while name in taken:
        name = "_" + name
    return name
