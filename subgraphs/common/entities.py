"""`_entities`: representations are checked before a resolver or PostgreSQL sees them.

A subgraph's port can be reached without the router, and `_Any` accepts any
JSON, so a representation is client input like any argument. `EntitySchema`
is the Federation schema every subgraph builds; its `_entities` resolver

- refuses more than `max_representations` representations in one request
  (SHOPGRAPH_MAX_REPRESENTATIONS, default 10,000) with BAD_USER_INPUT, before
  any of them is resolved;
- checks each representation against the entity type it names: an object whose
  `__typename` is an entity type this subgraph resolves, holding every field of
  one of its `@key`s and no field its `resolve_reference` does not take, each
  key value of its declared scalar type (an `ID` is a UUID string: every id in
  this shop is one). One that fails is BAD_USER_INPUT for that entity alone
  (path `["_entities", i]`, `extensions.field` naming the representation's
  field); the others are resolved as usual.

Loaders query the keys in chunks of IN_LIST_CHUNK (`in_chunks`), so even an
allowed batch never comes near PostgreSQL's 32,767 parameters per statement.

No `from __future__ import annotations` here: strawberry reads the resolver's
annotations at runtime.
"""

import inspect
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from .errors import BadUserInput
from .settings import positive_int
from .types import echo

ENV = "SHOPGRAPH_MAX_REPRESENTATIONS"
# The router sends one `_entities` request per fetch, deduplicated: a page is at
# most 100 items and an operation at most 64 aliases (the router's limits), so
# its largest batches in this shop are a few thousand entities.
DEFAULT_MAX_REPRESENTATIONS = 10_000
# Keys per SQL statement: PostgreSQL takes at most 32,767 parameters in one.
IN_LIST_CHUNK = 1_000
_NOT_FIELDS = frozenset({"info", "self", "cls"})
_INT_RANGE = range(-(2**31), 2**31)

T = TypeVar("T")


def in_chunks(values: Sequence[T], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size`, for one SQL IN (...) each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def max_representations_setting() -> int:
    """SHOPGRAPH_MAX_REPRESENTATIONS as a positive integer (the default if unset)."""
    return positive_int(os.environ, ENV, DEFAULT_MAX_REPRESENTATIONS)


@dataclass(frozen=True)
class EntityType:
    """What a representation of one entity type may hold."""

    name: str
    resolve: Any  # the type's resolve_reference
    takes_info: bool
    keys: tuple[tuple[str, ...], ...]  # each @key's field names
    scalars: Mapping[str, str]  # key field -> its scalar type's name
    accepted: frozenset[str] | None  # fields resolve_reference takes; None: any


def _key_fields(directive: Any) -> tuple[str, ...] | None:
    fields = str(directive.fields)
    if "{" in fields:  # a nested key: its inner values are checked by the resolver
        return None
    return tuple(fields.replace(",", " ").split())


def _scalar_name(graphql_type: Any) -> str | None:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return graphql_type.name if isinstance(graphql_type, GraphQLScalarType) else None


def entity_type(origin: type, graphql_type: GraphQLObjectType) -> EntityType | None:
    """The rules for `origin`'s representations, or None if this subgraph does not
    resolve it (no resolve_reference, or only `@key(resolvable: false)`)."""
    definition = origin.__strawberry_definition__  # type: ignore[attr-defined]
    keys = [d for d in definition.directives if isinstance(d, Key) and d.resolvable is not False]
    resolve = getattr(origin, "resolve_reference", None)
    if resolve is None or not keys:
        return None
    parameters = inspect.signature(resolve).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    flat = [fields for fields in map(_key_fields, keys) if fields is not None]
    scalars = {
        name: scalar
        for fields in flat
        for name in fields
        if name in graphql_type.fields
        and (scalar := _scalar_name(graphql_type.fields[name].type)) is not None
    }
    return EntityType(
        name=graphql_type.name,
        resolve=resolve,
        takes_info="info" in parameters,
        keys=tuple(flat),
        scalars=scalars,
        accepted=None if takes_any else frozenset(parameters) - _NOT_FIELDS,
    )


def _value_problem(scalar: str, value: Any) -> str | None:
    if scalar == "ID":
        if not isinstance(value, str):
            return "must be a string"
        try:
            uuid.UUID(value)
        except ValueError:
            return "must be a UUID"
    elif scalar == "String" and not isinstance(value, str):
        return "must be a string"
    elif scalar == "Int" and (
        isinstance(value, bool) or not isinstance(value, int) or value not in _INT_RANGE
    ):
        return "must be a 32-bit integer"
    elif scalar == "Boolean" and not isinstance(value, bool):
        return "must be a boolean"
    return None


def check_representation(kind: EntityType, index: int, representation: Mapping[str, Any]) -> None:
    """Raise BadUserInput for the first thing wrong with one representation of `kind`."""
    at = f"representations.{index}"
    for name in representation:
        if kind.accepted is not None and name not in kind.accepted:
            shown = echo(str(name))
            raise BadUserInput(
                f"`{at}.{shown}` is not a field of a {kind.name} representation",
                field=["representations", str(index), shown],
            )
    if kind.keys and not any(all(f in representation for f in key) for key in kind.keys):
        keys = " or ".join("`" + " ".join(key) + "`" for key in kind.keys)
        raise BadUserInput(
            f"`{at}` must hold a key of {kind.name}: {keys}",
            field=["representations", str(index)],
        )
    for name, scalar in kind.scalars.items():
        if name in representation:
            problem = _value_problem(scalar, representation[name])
            if problem is not None:
                raise BadUserInput(
                    f"`{at}.{name}` {problem}", field=["representations", str(index), name]
                )


class EntitySchema(strawberry.federation.Schema):
    """strawberry's Federation schema whose `_entities` checks its input first."""

    def __init__(self, *args: Any, max_representations: int | None = None, **kwargs: Any) -> None:
        # set before the base class builds the Query type with our resolver
        self.max_representations = max_representations or max_representations_setting()
        self._entity_types: dict[str, EntityType | None] = {}
        super().__init__(*args, **kwargs)

    def _entity_type(self, name: str) -> EntityType | None:
        found = self.schema_converter.type_map.get(name)
        if found is None:
            return None  # not cached: the name is the client's
        if name not in self._entity_types:
            graphql_type = self._schema.get_type(name)
            origin = getattr(getattr(found, "definition", None), "origin", None)
            self._entity_types[name] = (
                entity_type(origin, graphql_type)
                if origin is not None and isinstance(graphql_type, GraphQLObjectType)
                else None
            )
        return self._entity_types[name]

    def _resolve_one(self, info: Info, index: int, representation: Any) -> Any:
        """One entity (or its awaitable); an exception object is that entity's error."""
        at = ["representations", str(index)]
        if not isinstance(representation, Mapping):
            return BadUserInput(f"`{'.'.join(at)}` must be an object with `__typename`", field=at)
        type_name = representation.get("__typename")
        kind = self._entity_type(type_name) if isinstance(type_name, str) else None
        if kind is None:
            return BadUserInput(
                f"`{'.'.join(at)}.__typename` must name an entity type this subgraph resolves",
                field=[*at, "__typename"],
            )
        fields = {k: v for k, v in representation.items() if k != "__typename"}
        try:
            check_representation(kind, index, fields)
            if kind.takes_info:
                fields["info"] = info
            return kind.resolve(**fields)
        except Exception as error:  # reported at this entity's path, like strawberry does
            return error

    def entities_resolver(  # type: ignore[override]
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Each representation's entity (or its error), once the batch is within the cap."""
        if len(representations) > self.max_representations:
            error = BadUserInput(
                f"`representations` holds {len(representations)} entities: at most "
                f"{self.max_representations} in one request",
                field=["representations"],
            )
            error.extensions["maxRepresentations"] = self.max_representations
            raise error
        return [
            self._resolve_one(info, index, representation)
            for index, representation in enumerate(representations)
        ]
