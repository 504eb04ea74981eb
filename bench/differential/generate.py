"""Random valid operations over a scenario's API schema.

`generate_operations` draws query operations from a seeded `random.Random`: nested
selections down to a bounded depth, named and inline fragments (type conditions on
interfaces, unions and their possible types, and on the types an object belongs to),
aliases (a field twice under two aliases, with other arguments where it takes any),
arguments as literals or variables, `@skip`/`@include` with literals and variables, and
`__typename` anywhere. Every operation is validated with graphql-core against the API
schema (its variables coerced too); invalid ones, such as overlapping fields that
cannot merge, are discarded. Mutations and subscriptions are never generated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    Undefined,
    get_named_type,
    is_composite_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from bench.differential.values import ValueChooser, ValuePool, literal

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


@dataclass(frozen=True)
class Operation:
    """One generated request: the document and its variables object (None: no variables)."""

    query: str
    variables: dict[str, Any] | None = None

    def key(self) -> str:
        return self.query + "\0" + json.dumps(self.variables, sort_keys=True)


@dataclass(frozen=True)
class Limits:
    """Bounds on the size of a generated operation."""

    max_depth: int = 4  # nested composite fields below the root
    max_fields: int = 4  # fields drawn per selection set (before duplicates/fragments)
    max_root_fields: int = 3
    max_selections: int = 50  # fields per operation, after which only leaves are drawn
    max_fragment_nesting: int = 2  # fragments inside fragments at the same level


@dataclass
class GenerationStats:
    """How many drafts were discarded, and why (the valid ones are the operations)."""

    invalid: int = 0
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _block(head: str, body: Sequence[str]) -> list[str]:
    return [head + " {", *("  " + line for line in body), "}"]


class _Draft:
    """The state of one operation being drawn."""

    def __init__(
        self, schema: GraphQLSchema, chooser: ValueChooser, rng: random.Random, limits: Limits
    ) -> None:
        self.schema = schema
        self.chooser = chooser
        self.rng = rng
        self.limits = limits
        self.var_defs: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: dict[str, tuple[str, list[str]]] = {}  # name -> (condition, body)
        self.size = 0
        self.aliases = 0
        self.fragment_nesting = 0
        # arguments of each unaliased field name, kept stable so that selections of the
        # same response key merge (otherwise most drafts would fail validation)
        self.plain_arguments: dict[str, str] = {}

    # -- operation -------------------------------------------------------------------

    def operation(self) -> Operation:
        assert self.schema.query_type is not None
        body = self.selection_set(self.schema.query_type, depth=0)
        if self.var_defs:
            head = f"query Q({', '.join(self.var_defs)})"
        elif self.rng.random() < 0.5:
            head = "query Q"
        else:
            head = ""
        lines = _block(head, body)
        if not head:
            lines[0] = "{"  # the query shorthand
        for name, (condition, fragment_body) in self.fragments.items():
            lines += ["", *_block(f"fragment {name} on {condition}", fragment_body)]
        return Operation("\n".join(lines) + "\n", dict(self.variables) or None)

    # -- selection sets --------------------------------------------------------------

    def selection_set(self, parent: Composite, depth: int) -> list[str]:
        items: list[list[str]] = []
        root = depth == 0
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            limit = self.limits.max_root_fields if root else self.limits.max_fields
            for name, field_def in self._pick_fields(parent, depth, limit):
                items.append(self.field(parent, name, field_def, depth))
                if self.rng.random() < 0.15:  # the same field again under an alias
                    items.append(self.field(parent, name, field_def, depth, alias=True))
        if not root:
            fragment_odds = 0.6 if isinstance(parent, GraphQLUnionType) else (
                0.45 if isinstance(parent, GraphQLInterfaceType) else 0.15
            )
            tries = 3 if isinstance(parent, GraphQLUnionType) else 2
            for _ in range(tries):
                if self.rng.random() < fragment_odds:
                    fragment = self.fragment(parent, depth)
                    if fragment:
                        items.append(fragment)
        if not items or self.rng.random() < (0.35 if isinstance(parent, GraphQLUnionType) else 0.2):
            items.insert(self.rng.randint(0, len(items)), ["__typename" + self.directives()])
        if all(item[0].startswith("__typename @") for item in items):
            items.append(["__typename"])  # a selection set must not be all conditional
        return [line for item in items for line in item]

    def _pick_fields(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, depth: int, limit: int
    ) -> list[tuple[str, GraphQLField]]:
        full = self.size >= self.limits.max_selections
        candidates = [
            (name, field_def)
            for name, field_def in parent.fields.items()
            if not name.startswith("__")
            and (
                (depth < self.limits.max_depth and not full)
                or not is_composite_type(get_named_type(field_def.type))
            )
        ]
        if not candidates:
            return []
        count = min(len(candidates), self.rng.randint(1, limit))
        return self.rng.sample(candidates, count)

    def field(
        self,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        name: str,
        field_def: GraphQLField,
        depth: int,
        alias: bool = False,
    ) -> list[str]:
        self.size += 1
        if not alias and self.rng.random() < 0.12:
            alias = True
        response_key = name
        head = name
        if alias:
            self.aliases += 1
            response_key = f"a{self.aliases}"
            head = f"{response_key}: {name}"
        arguments = self.arguments(parent.name, name, field_def.args, stable=not alias)
        head += arguments + self.directives()
        named = get_named_type(field_def.type)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return _block(head, self.selection_set(named, depth + 1))
        return [head]

    # -- fragments -------------------------------------------------------------------

    def fragment(self, parent: Composite, depth: int) -> list[str] | None:
        if self.fragment_nesting >= self.limits.max_fragment_nesting:
            return None
        conditions = self._conditions(parent)
        if not conditions or self.rng.random() < 0.06:
            # no type condition (an interface without implementations has no other),
            # usually with a directive
            self.fragment_nesting += 1
            body = self.selection_set(parent, depth)
            self.fragment_nesting -= 1
            return _block("..." + self.directives(0.8), body)
        reusable = [n for n, (c, _) in self.fragments.items() if c in conditions]
        if reusable and self.rng.random() < 0.3:
            return ["..." + self.rng.choice(reusable) + self.directives()]
        condition = self.rng.choice(conditions)
        condition_type = self.schema.get_type(condition)
        assert isinstance(condition_type, GraphQLObjectType | GraphQLInterfaceType
                          | GraphQLUnionType)
        self.fragment_nesting += 1
        body = self.selection_set(condition_type, depth)
        self.fragment_nesting -= 1
        if self.rng.random() < 0.35:
            name = f"F{len(self.fragments) + 1}"
            self.fragments[name] = (condition, body)
            return ["..." + name + self.directives()]
        return _block(f"... on {condition}" + self.directives(), body)

    def _conditions(self, parent: Composite) -> list[str]:
        """Type conditions valid inside `parent`; concrete types listed twice (likelier)."""
        possible = {t.name for t in self._possible(parent)}
        concrete = sorted(possible)
        abstract = [
            named.name
            for named in self.schema.type_map.values()
            if isinstance(named, GraphQLInterfaceType | GraphQLUnionType)
            and not named.name.startswith("__")
            and possible & {t.name for t in self._possible(named)}
        ]
        return concrete * 2 + abstract

    def _possible(self, type_: GraphQLNamedType) -> Sequence[GraphQLObjectType]:
        if isinstance(type_, GraphQLObjectType):
            return [type_]
        assert isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
        return self.schema.get_possible_types(type_)

    # -- arguments, variables, directives --------------------------------------------

    def arguments(
        self, parent: str, name: str, args: dict[str, GraphQLArgument], stable: bool
    ) -> str:
        if not args:
            return ""
        if stable and name in self.plain_arguments and self.rng.random() < 0.9:
            return self.plain_arguments[name]
        parts = []
        for arg_name, arg in args.items():
            required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
            if not required and self.rng.random() < 0.55:
                continue
            coordinate = f"{parent}.{name}({arg_name}:)"
            if self.rng.random() < 0.25:
                parts.append(f"{arg_name}: {self.variable(arg, coordinate)}")
            else:
                value = self.chooser.value_for(arg.type, coordinate)
                parts.append(f"{arg_name}: {literal(value, arg.type)}")
        text = f"({', '.join(parts)})" if parts else ""
        if stable:
            self.plain_arguments.setdefault(name, text)
        return text

    def variable(self, arg: GraphQLArgument, coordinate: str) -> str:
        name = f"v{len(self.var_defs)}"
        self.var_defs.append(f"${name}: {arg.type}")
        omit = not isinstance(arg.type, GraphQLNonNull) and self.rng.random() < 0.15
        if not omit:  # an omitted nullable variable leaves the argument unset
            self.variables[name] = self.chooser.value_for(arg.type, coordinate)
        return "$" + name

    def directives(self, odds: float = 0.12) -> str:
        if self.rng.random() >= odds:
            return ""
        directive = self.rng.choice(("skip", "include"))
        if self.rng.random() < 0.5:
            value = "true" if self.rng.random() < 0.5 else "false"
        else:
            name = f"b{len(self.var_defs)}"
            self.var_defs.append(f"${name}: Boolean!")
            self.variables[name] = self.rng.random() < 0.5
            value = "$" + name
        return f" @{directive}(if: {value})"


def check(schema: GraphQLSchema, operation: Operation) -> str | None:
    """Why `operation` is not a valid request for `schema`, or None when it is."""
    document = parse(operation.query)
    errors = validate(schema, document)
    if errors:
        return errors[0].message
    definition = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    coerced = get_variable_values(
        schema, definition.variable_definitions or (), dict(operation.variables or {})
    )
    if isinstance(coerced, list):
        return coerced[0].message
    return None


def generate_operations(
    schema: GraphQLSchema,
    pool: ValuePool,
    rng: random.Random,
    count: int,
    limits: Limits | None = None,
    stats: GenerationStats | None = None,
) -> list[Operation]:
    """`count` distinct valid query operations for `schema` (fewer if drafts run out)."""
    limits = limits or Limits()
    stats = stats if stats is not None else GenerationStats()
    chooser = ValueChooser(pool, rng)
    seen: set[str] = set()
    operations: list[Operation] = []
    for _ in range(count * 40):
        if len(operations) >= count:
            break
        operation = _Draft(schema, chooser, rng, limits).operation()
        if operation.key() in seen:
            stats.duplicates += 1
            continue
        seen.add(operation.key())
        reason = check(schema, operation)
        if reason is not None:
            stats.invalid += 1
            short = reason.split(" Use different aliases")[0][:80]
            stats.reasons[short] = stats.reasons.get(short, 0) + 1
            continue
        operations.append(operation)
    return operations
