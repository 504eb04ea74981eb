"""Field sets: the `fields` strings of `@key`, `@requires` and `@provides` (and `join__` twins).

Parsed once per distinct text (cached): as graphql-core's selection set for the
router, which walks it like any query, and as `Selection`s for composition, which
validates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import GraphQLSyntaxError, OperationDefinitionNode, SelectionSetNode, parse
from graphql.language import ast


class FieldSetError(Exception):
    """A field set that is not valid; `code_suffix` completes the composition error code."""

    def __init__(self, code_suffix: str, message: str) -> None:
        super().__init__(message)
        self.code_suffix = code_suffix
        self.message = message


@dataclass(frozen=True, slots=True)
class Selection:
    """One selection of a field set: a field, or an inline fragment (`name == ""`)."""

    name: str  # field name, or "" for an inline fragment
    type_condition: str | None = None
    children: tuple[Selection, ...] = ()
    directives: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def parse_selection_set(text: str) -> SelectionSetNode:
    """The field set as a selection set; raises GraphQLSyntaxError if it does not parse."""
    document = parse("{" + text + "}", no_location=True)
    # The text is wrapped in braces, so the first definition is always that operation.
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


@lru_cache(maxsize=4096)
def parse_field_set(text: str) -> tuple[Selection, ...]:
    """The field set as `Selection`s; raises FieldSetError if it is not a valid field set."""
    try:
        selection_set = parse_selection_set(text)
    except GraphQLSyntaxError as exc:
        raise FieldSetError("INVALID_FIELDS", exc.message) from None
    return _convert(selection_set)


def _convert(node: ast.SelectionSetNode | None) -> tuple[Selection, ...]:
    if node is None:
        return ()
    out: list[Selection] = []
    for sel in node.selections:
        directives = tuple(d.name.value for d in sel.directives or ())
        if isinstance(sel, ast.FieldNode):
            children = _convert(sel.selection_set)
            out.append(Selection(sel.name.value, None, children, directives))
        elif isinstance(sel, ast.InlineFragmentNode):
            condition = sel.type_condition.name.value if sel.type_condition else None
            out.append(Selection("", condition, _convert(sel.selection_set), directives))
        else:
            raise FieldSetError("INVALID_FIELDS", "fragment spreads are not allowed in field sets")
    return tuple(out)
