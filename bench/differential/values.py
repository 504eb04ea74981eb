"""Argument values for generated operations: a per-scenario pool plus typed fallbacks.

The pool is read from the scenario's cases: every literal argument value and every
variable value its queries use, filed by schema coordinate (`Query.product(id:)`) and
by named input type (`ID`, `Color`, `OrderInput`, ...). Input objects and lists are
taken apart too, so their fields and items feed the pool of their own types. Values
are kept in their JSON form (enum values by name), the form a variables object uses;
`literal()` prints one as GraphQL source.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Undefined,
    VariableNode,
    Visitor,
    get_named_type,
    is_input_type,
    parse,
    type_from_ast,
    validate,
    value_from_ast_untyped,
    visit,
)
from graphql.execution.values import get_variable_values

# fallbacks when the scenario's cases never used a value of the type
_INTS = (0, 1, 2, 3, 10)
_FLOATS = (0.5, 1.0, 2.5)
_STRINGS = ("1", "a")


@dataclass
class ValuePool:
    """Values seen in a scenario's cases, by coordinate and by named input type."""

    by_coordinate: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    by_type: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    strings: list[str] = field(default_factory=list)

    def add(self, type_: GraphQLInputType, value: Any, coordinate: str | None = None) -> None:
        """File `value` (JSON form, already shaped for `type_`) and its parts."""
        if coordinate is not None:
            _append(self.by_coordinate[coordinate], value)
        self._add_typed(type_, value)

    def _add_typed(self, type_: GraphQLInputType, value: Any) -> None:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None:
            return
        if isinstance(type_, GraphQLList):
            for item in value if isinstance(value, list) else [value]:
                self._add_typed(type_.of_type, item)
            return
        _append(self.by_type[type_.name], value)
        if isinstance(value, str):
            _append(self.strings, value)
        if isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
            for name, item in value.items():
                input_field = type_.fields.get(name)
                if input_field is not None:
                    self._add_typed(input_field.type, item)


def _append(values: list[Any], value: Any) -> None:
    if value not in values:
        values.append(value)


def build_pool(
    schema: GraphQLSchema, operations: Iterable[tuple[str, Mapping[str, Any] | None]]
) -> ValuePool:
    """The pool of argument values used by `operations` ((query, variables) pairs)."""
    pool = ValuePool()
    for query, variables in operations:
        try:
            document = parse(query)
        except GraphQLSyntaxError:
            continue
        if validate(schema, document):
            continue  # cases that test invalid requests would only feed invalid values
        _collect(schema, document, _valid_variables(schema, document, variables), pool)
    return pool


def _valid_variables(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The variables when they coerce for every operation of `document`, else none."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and isinstance(
            get_variable_values(
                schema, definition.variable_definitions or (), dict(variables or {})
            ),
            list,
        ):
            return {}
    return dict(variables or {})


def _collect(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], pool: ValuePool
) -> None:
    type_info = TypeInfo(schema)

    class Collector(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            argument = type_info.get_argument()
            field_def = type_info.get_field_def()
            parent = type_info.get_parent_type()
            if argument is None:
                return
            if isinstance(node.value, VariableNode):
                name = node.value.name.value
                if name not in variables:
                    return
                value = variables[name]
            else:
                value = value_from_ast_untyped(node.value, variables)
            coordinate = None
            if field_def is not None and parent is not None:
                field_name = next(
                    (n for n, f in getattr(parent, "fields", {}).items() if f is field_def), None
                )
                if field_name is not None:
                    coordinate = f"{parent.name}.{field_name}({node.name.value}:)"
            pool.add(argument.type, value, coordinate)

    # variables used where the argument is not directly a variable (inside lists or
    # input objects) still feed the pool: file every variable by its declared type
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for var in definition.variable_definitions or ():
                name = var.variable.name.value
                declared = type_from_ast(schema, var.type)
                if name in variables and is_input_type(declared):
                    pool.add(declared, variables[name])
    visit(document, TypeInfoVisitor(type_info, Collector()))


class ValueChooser:
    """Draws argument values for one scenario: the pool first, then typed fallbacks."""

    def __init__(self, pool: ValuePool, rng: random.Random) -> None:
        self.pool = pool
        self.rng = rng

    def value_for(self, type_: GraphQLInputType, coordinate: str | None = None) -> Any:
        """A value valid for `type_` (JSON form); pool values of `coordinate` preferred."""
        if coordinate is not None:
            seen = self.pool.by_coordinate.get(coordinate)
            if seen and self.rng.random() < 0.7:
                return self.rng.choice(seen)
        return self._typed(type_, depth=0)

    def _typed(self, type_: GraphQLInputType, depth: int) -> Any:
        nullable = not isinstance(type_, GraphQLNonNull)
        if not nullable:
            type_ = type_.of_type  # type: ignore[union-attr]
        elif self.rng.random() < 0.05:
            return None
        if isinstance(type_, GraphQLList):
            return [self._typed(type_.of_type, depth + 1) for _ in range(self.rng.randint(1, 2))]
        named = get_named_type(type_)
        seen = self.pool.by_type.get(named.name)
        if seen and self.rng.random() < 0.8:
            return self.rng.choice(seen)
        if isinstance(named, GraphQLEnumType):
            return self.rng.choice(list(named.values))
        if isinstance(named, GraphQLInputObjectType):
            return self._input_object(named, depth)
        return self._scalar(named)

    def _input_object(self, type_: GraphQLInputObjectType, depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for name, input_field in type_.fields.items():
            required = (
                isinstance(input_field.type, GraphQLNonNull)
                and input_field.default_value is Undefined
            )
            if required or (depth < 2 and self.rng.random() < 0.3):
                value[name] = self._typed(input_field.type, depth + 1)
        return value

    def _scalar(self, type_: GraphQLScalarType) -> Any:
        name = type_.name
        if name == "Int":
            return self.rng.choice(_INTS)
        if name == "Float":
            return self.rng.choice(_FLOATS)
        if name == "Boolean":
            return self.rng.random() < 0.5
        strings = self.pool.strings or list(_STRINGS)
        return self.rng.choice(strings)


def literal(value: Any, type_: GraphQLInputType) -> str:
    """`value` (JSON form) printed as a GraphQL literal of `type_`."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return "null"
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return "[" + ", ".join(literal(item, type_.of_type) for item in items) + "]"
    if isinstance(type_, GraphQLEnumType):
        return str(value)
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        parts = []
        for name, item in value.items():
            input_field = type_.fields.get(name)
            item_type = input_field.type if input_field is not None else _ANY_SCALAR
            parts.append(f"{name}: {literal(item, item_type)}")
        return "{" + ", ".join(parts) + "}"
    return _untyped_literal(value)


_ANY_SCALAR = GraphQLScalarType("AnyScalar")


def _untyped_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value)) + ".0"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_untyped_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_untyped_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot print {value!r} as a GraphQL literal")
