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
    """One operation standing for several entity fetches: for each, in order, the name
    that is both the alias its `_entities` answer comes under and the variable its
    representations go in."""

    operation: str
    names: tuple[str, ...]


@lru_cache(maxsize=512)
def batch_operation(operations: tuple[tuple[str, str], ...]) -> Batch | None:
    """The batch of the (operation text, representations variable) pairs, or None when
    they cannot share one request."""
    try:
        found = [_plain_entities_operation(text, own) for text, own in operations]
    except GraphQLError:
        return None
    definitions = [d for d in found if d is not None]
    if len(definitions) != len(found):
        return None
    declared = _shared_variables(definitions, operations)
    if declared is None:
        return None
    taken = set(declared)
    fields: list[FieldNode] = []
    names: list[str] = []
    for index, (definition, (_, own)) in enumerate(zip(definitions, operations, strict=True)):
        name = _unused(f"_b{index}", taken)
        taken.add(name)
        declared[name] = _renamed(_declaration(definition, own), name)  # type: ignore[arg-type]
        field = definition.selection_set.selections[0]
        fields.append(_aliased(field, name, own))  # type: ignore[arg-type]
        names.append(name)
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=definitions[0].name,
        variable_definitions=tuple(declared.values()),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    text = print_ast(DocumentNode(definitions=(operation,)))
    return Batch(text, tuple(names))


def _shared_variables(
    definitions: list[OperationDefinitionNode], operations: tuple[tuple[str, str], ...]
) -> dict[str, VariableDefinitionNode] | None:
    """The variables the operations declare besides their representations, each once;
    None when two declare one with different types."""
    declared: dict[str, VariableDefinitionNode] = {}
    for definition, (_, own) in zip(definitions, operations, strict=True):
        for variable in definition.variable_definitions or ():
            name = variable.variable.name.value
            if name == own:
                continue
            known = declared.get(name)
            if known is not None and print_ast(known.type) != print_ast(variable.type):
                return None
            declared.setdefault(name, variable)
    return declared


def _plain_entities_operation(text: str, own: str) -> OperationDefinitionNode | None:
    """The operation of `text` when it is a plain `_entities` query (the planner's),
    its representations in the variable `own`."""
    document = parse(text, no_location=True)
    if len(document.definitions) != 1:
        return None
    definition = document.definitions[0]
    if not isinstance(definition, OperationDefinitionNode):
        return None
    if definition.operation != OperationType.QUERY or definition.directives:
        return None
    if _declaration(definition, own) is None:
        return None
    selections = definition.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.name.value != "_entities" or field.alias is not None or field.directives:
        return None
    return definition


def _declaration(definition: OperationDefinitionNode, name: str) -> VariableDefinitionNode | None:
    """The operation's declaration of the variable `name`."""
    for variable in definition.variable_definitions or ():
        if variable.variable.name.value == name:
            return variable
    return None


def _renamed(variable: VariableDefinitionNode, name: str) -> VariableDefinitionNode:
    """`variable`'s declaration under `name` (its type, no default or directives)."""
    return VariableDefinitionNode(
        variable=VariableNode(name=NameNode(value=name)),
        type=variable.type,
        default_value=None,
        directives=(),
    )


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
