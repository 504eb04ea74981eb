"""One guard for every string a client sends to any subgraph.

PostgreSQL text cannot hold NUL, so a NUL byte that reaches SQL fails the
statement (a 500 for a client's typo, and a log line full of parameters); an
unbounded string costs memory, hashing time and index work. `InputGuard` is a
graphql-core middleware the app factory installs: before a field's resolver
runs it walks the field's coerced arguments (nested input objects, lists and
the JSON inside custom scalars such as `_Any` representations) and refuses a
NUL character or an over-long string with BAD_USER_INPUT naming the input
path (`["input", "email"]`, like userErrors' `field`).

Every string is at most DEFAULT_MAX_LENGTH characters (IDs at most
ID_MAX_LENGTH); an argument or input field can set a tighter limit with
`metadata=max_length(n)` on `strawberry.argument` / `strawberry.field`. The
domains' own rules (an email's shape, a 200-character key) stay userErrors
inside these bounds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLResolveInfo,
    GraphQLScalarType,
    TypeMetaFieldDef,
)

from .errors import BadUserInput
from .types import echo

MAX_LENGTH_KEY = "shopgraph.max_length"
DEFAULT_MAX_LENGTH = 10_000
# Ids in this shop are UUIDs; 256 leaves room for other opaque ids without
# letting an id argument carry a document.
ID_MAX_LENGTH = 256
# JSON in a custom scalar (`_Any` representations) nests at most this deep: the
# router's max_nesting, and far more than any entity key needs.
MAX_JSON_NESTING = 64
# How much of a too-deep path an error names.
SHOWN_PATH = 8

Path = tuple[str, ...]


def max_length(limit: int) -> dict[str, int]:
    """Metadata for `strawberry.field`/`strawberry.argument`: a tighter limit for this input."""
    return {MAX_LENGTH_KEY: limit}


def _declared_limit(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    strawberry_definition = (definition.extensions or {}).get("strawberry-definition")
    metadata = getattr(strawberry_definition, "metadata", None) or {}
    limit = metadata.get(MAX_LENGTH_KEY)
    return limit if isinstance(limit, int) else None


def _type_limit(type_: GraphQLInputType) -> int:
    named = type_
    while isinstance(named, GraphQLNonNull | GraphQLList):
        named = named.of_type
    if isinstance(named, GraphQLScalarType) and named.name == "ID":
        return ID_MAX_LENGTH
    return DEFAULT_MAX_LENGTH


def _check_string(value: str, path: Path, limit: int) -> None:
    name = ".".join(path)
    if "\x00" in value:
        raise BadUserInput(f"`{name}` must not contain a NUL character (\\u0000)", field=list(path))
    if len(value) > limit:
        raise BadUserInput(f"`{name}` is too long: at most {limit} characters", field=list(path))


def _children(
    value: Any, type_: GraphQLInputType | None, path: Path, limit: int
) -> Iterator[tuple[Any, GraphQLInputType | None, Path, int]]:
    """The values inside `value`, each with its type (None = untyped JSON), path and limit."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        for name, field in type_.fields.items():
            key = field.out_name or name
            if key in value:
                field_limit = _declared_limit(field) or _type_limit(field.type)
                yield value[key], field.type, (*path, name), field_limit
    elif isinstance(value, Mapping):  # JSON inside a custom scalar: keys are input too
        for key, item in value.items():
            step = echo(str(key))  # a key is client input: named in errors, not echoed whole
            yield key, None, (*path, step), limit
            yield item, None, (*path, step), limit
    elif isinstance(value, list | tuple):
        item_type = type_.of_type if isinstance(type_, GraphQLList) else None
        for index, item in enumerate(value):
            yield item, item_type, (*path, str(index)), limit


def check_value(value: Any, type_: GraphQLInputType | None, path: Path, limit: int) -> None:
    """Raise BadUserInput for the first NUL or over-long string anywhere in `value`, or
    for JSON nested deeper than MAX_JSON_NESTING.

    Iterative, so JSON nested as deep as the HTTP layer allows cannot overflow the stack
    here, and refused before a resolver's `str(value)` could.
    """
    pending = [(value, type_, path, limit)]
    while pending:
        current, current_type, current_path, current_limit = pending.pop()
        if len(current_path) > MAX_JSON_NESTING:
            shown = list(current_path[:SHOWN_PATH])
            raise BadUserInput(
                f"`{'.'.join(shown)}…` nests too deeply: at most {MAX_JSON_NESTING} levels",
                field=shown,
            )
        if isinstance(current, str):
            _check_string(current, current_path, current_limit)
        elif current is not None:
            # reversed, so the first offending input in document order is the one reported
            pending.extend(
                reversed(list(_children(current, current_type, current_path, current_limit)))
            )


def check_arguments(arguments: Mapping[str, GraphQLArgument], values: Mapping[str, Any]) -> None:
    """Check one field's coerced argument values against its argument definitions."""
    for name, argument in arguments.items():
        key = argument.out_name or name
        if key in values:
            limit = _declared_limit(argument) or _type_limit(argument.type)
            check_value(values[key], argument.type, (name,), limit)


class InputGuard:
    """graphql-core middleware: arguments are checked before the field's resolver runs."""

    def resolve(self, next_: Any, root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        """Check `args` (fields without arguments pass straight through), then resolve."""
        if args:
            field = (
                TypeMetaFieldDef
                if info.field_name == "__type"
                else info.parent_type.fields.get(info.field_name)
            )
            if field is not None:
                check_arguments(field.args, args)
        return next_(root, info, **args)
