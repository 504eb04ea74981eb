"""Stage 5: project merged subgraph data onto the client's operation in one pass.

Request order and client aliases, `__typename`, type conditions by `__typename`,
`@skip`/`@include` with variables, and null propagation: a null (or an invalid
value) in a non-null position nulls the nearest nullable parent, with an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
)

from router.operation import Conditions, Field, Operation, SelectionSet

_BUBBLE = object()  # a non-null violation travelling up to the nearest nullable parent


def included(conditions: Conditions, variables: Mapping[str, Any]) -> bool:
    if conditions is None:
        return True
    return any(
        all(bool(variables.get(var)) == want for var, want in conjunction)
        for conjunction in conditions
    )


class _Shaper:
    __slots__ = ("completion", "path", "variables")

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.completion: list[dict[str, Any]] = []
        self.path: list[str | int] = []

    def _null_error(self, field: Field) -> None:
        self.completion.append(
            {
                "message": f"Cannot return null for non-nullable field "
                f"{field.parent_type}.{field.name}.",
                "path": list(self.path),
                "extensions": {"code": "INVALID_GRAPHQL"},
            }
        )

    def object(self, selection: SelectionSet, value: dict[str, Any], typename: str) -> Any:
        fields = selection.by_type.get(typename)
        if fields is None:
            fields = selection.uniform
            if fields is None:
                return None
        out: dict[str, Any] = {}
        path = self.path
        variables = self.variables
        for field in fields:
            if field.conditions is not None and not included(field.conditions, variables):
                continue
            key = field.response_key
            if field.name == "__typename":
                out[key] = typename
                continue
            path.append(key)
            result = self.complete(field, field.type, value.get(key))
            path.pop()
            if result is _BUBBLE:
                return _BUBBLE
            out[key] = result
        return out

    def complete(self, field: Field, ftype: GraphQLOutputType, value: Any) -> Any:
        if isinstance(ftype, GraphQLNonNull):
            result = self.complete(field, ftype.of_type, value)
            if result is None:
                self._null_error(field)
                return _BUBBLE
            return result
        if value is None:
            return None
        if isinstance(ftype, GraphQLList):
            if not isinstance(value, list):
                return None
            items: list[Any] = []
            path = self.path
            inner = ftype.of_type
            for index, item in enumerate(value):
                path.append(index)
                result = self.complete(field, inner, item)
                path.pop()
                if result is _BUBBLE:
                    return None
                items.append(result)
            return items
        selection = field.selection
        if selection is not None:
            if not isinstance(value, dict):
                return None
            typename = value.get("__typename") or selection.type_name
            result = self.object(selection, value, typename)
            return None if result is _BUBBLE else result
        if isinstance(ftype, GraphQLEnumType) and value not in ftype.values:
            self.errors.append(
                {
                    "message": f'Enum "{ftype.name}" cannot represent value: {_json_repr(value)}',
                    "path": list(self.path),
                }
            )
            return None
        return value


def _json_repr(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def shape_response(
    operation: Operation,
    data: dict[str, Any] | None,
    variables: Mapping[str, Any],
    introspection: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The client's `data`, and the value-completion problems met on the way.

    A null where the schema promises non-null is reported apart from `errors` (as
    Apollo's gateways do, under `extensions.valueCompletion`): it is a symptom, and
    when a subgraph failed, that subgraph's error already explains it.
    """
    shaper = _Shaper(variables)
    root = operation.root_type
    out: dict[str, Any] = {}
    source = data or {}
    for field in operation.selection.fields_for(root):
        if field.conditions is not None and not included(field.conditions, variables):
            continue
        key = field.response_key
        if field.name == "__typename":
            out[key] = root
            continue
        if field.name in ("__schema", "__type"):
            out[key] = (introspection or {}).get(key)
            continue
        shaper.path.append(key)
        result = shaper.complete(field, field.type, source.get(key))
        shaper.path.pop()
        if result is _BUBBLE:
            return None, shaper.completion
        out[key] = result
    return out, shaper.completion
