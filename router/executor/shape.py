"""Stage 5: project merged subgraph data onto the client's operation in one pass.

Request order and client aliases, `__typename`, type conditions by `__typename`,
`@skip`/`@include` with variables, and null propagation: a null (or an invalid
value) in a non-null position nulls the nearest nullable parent.

The walk is compiled once per operation (`compile_shape`) into small closures
specialised by each field's type — nullable leaves are copied without a call, and
response paths are only materialised when an error needs one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
)

from router.executor import shape_source
from router.operation import Conditions, Field, Operation, SelectionSet

_BUBBLE = object()  # a non-null violation travelling up to the nearest nullable parent
_INVALID = object()  # an object whose __typename clients cannot see at its position

# A response path as a linked list: (parent, key); materialised only for errors.
PathNode = tuple[Any, str | int] | None
Completer = Callable[["_Run", Any, PathNode, "str | int"], Any]
# (response key, completer or None for a plain copy, conditions, is __typename)
FieldStep = tuple[str, Completer | None, Conditions, bool]


def included(conditions: Conditions, variables: Mapping[str, Any]) -> bool:
    """Whether `variables` satisfy one of the alternative @skip/@include `conditions`."""
    if conditions is None:
        return True
    return any(
        all(bool(variables.get(var)) == want for var, want in conjunction)
        for conjunction in conditions
    )


def _materialise(path: PathNode, key: str | int) -> list[str | int]:
    keys: list[str | int] = [key]
    while path is not None:
        path, step = path
        keys.append(step)
    keys.reverse()
    return keys


class _Run:
    """One shaping pass: the request's variables and the problems met."""

    __slots__ = ("completion", "invalid", "variables")

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.completion: list[dict[str, Any]] = []
        # where the last invalid object was nulled: that null needs no second note
        self.invalid: tuple[PathNode, str | int] | None = None

    def problem(self, message: str, path: PathNode, key: str | int) -> None:
        """Note a value-completion problem at the response path `path` + `key`."""
        self.completion.append(
            {
                "message": message,
                "path": _materialise(path, key),
                "extensions": {"code": "INVALID_GRAPHQL"},
            }
        )


class _CompiledSelection:
    """A selection set compiled: the steps to shape an object, per concrete type."""

    __slots__ = ("abstract", "by_type", "orders", "type_name", "uniform")

    def __init__(self) -> None:
        self.type_name = ""
        self.by_type: dict[str, tuple[FieldStep, ...]] = {}
        self.uniform: tuple[FieldStep, ...] | None = None
        self.orders: Mapping[str, tuple[tuple[str, Any], ...]] = {}
        # the API schema's interfaces and unions (an @interfaceObject answers with the
        # interface's name): any other __typename outside by_type is not a possible type
        self.abstract: frozenset[str] | None = None


def _shape_object(
    run: _Run, compiled: _CompiledSelection, value: dict[str, Any], here: PathNode
) -> Any:
    """The client's object for `value`; _BUBBLE when a non-null field came out null,
    _INVALID when its __typename is not possible here."""
    # hot: runs for every object of every response; per field it calls nothing but the
    # field's completer and, when conditional, `included` (keep it so)
    typename = value.get("__typename") or compiled.type_name
    try:
        steps = compiled.by_type.get(typename)
    except TypeError:  # a list or an object for a __typename: no type's name
        return _INVALID
    if steps is None:
        abstract = compiled.abstract
        if abstract is not None and compiled.by_type and typename not in abstract:
            return _INVALID  # e.g. an @inaccessible type: no client may see it
        steps = compiled.uniform
        if steps is None:
            return None
    out: dict[str, Any] = {}
    get = value.get
    for key, complete, conditions, is_typename in steps:
        if conditions is not None and not included(conditions, run.variables):
            continue
        if is_typename:
            out[key] = typename
        elif complete is None:
            out[key] = get(key)
        else:
            result = complete(run, get(key), here, key)
            if result is _BUBBLE:
                return _BUBBLE
            out[key] = result
    order = compiled.orders.get(typename)
    return _reorder(out, order, run.variables) if order else out


def _reorder(
    out: dict[str, Any], order: tuple[tuple[str, Any], ...], variables: Mapping[str, Any]
) -> dict[str, Any]:
    """`out` in the order of each key's first included occurrence (GraphQL CollectFields)."""
    placed: dict[str, Any] = {}
    for key, conjunction in order:
        if key in out and key not in placed and included(frozenset({conjunction}), variables):
            placed[key] = out[key]
    for key, value in out.items():
        placed.setdefault(key, value)
    return placed


class _Compiler:
    """Compiles the selection sets of one operation, each once (shared by identity)."""

    def __init__(
        self, abstract: frozenset[str] | None = None, withheld: frozenset[int] = frozenset()
    ) -> None:
        self._selections: dict[int, _CompiledSelection] = {}
        self._abstract = abstract
        self._withheld = withheld

    def selection(self, selection: SelectionSet) -> _CompiledSelection:
        """`selection` compiled (once: a recursive position reuses the same object)."""
        compiled = self._selections.get(id(selection))
        if compiled is not None:
            return compiled
        compiled = _CompiledSelection()
        self._selections[id(selection)] = compiled
        compiled.type_name = selection.type_name
        compiled.abstract = self._abstract
        compiled.by_type = {t: self.steps(fields) for t, fields in selection.by_type.items()}
        compiled.orders = selection.occurrence_order
        if selection.uniform is not None:
            compiled.uniform = self.steps(selection.uniform)
        return compiled

    def steps(self, fields: tuple[Field, ...]) -> tuple[FieldStep, ...]:
        """One shaping step per field, in response order."""
        return tuple(
            (
                f.response_key,
                None if f.is_typename else self.field_completer(f),
                f.conditions,
                f.is_typename,
            )
            for f in fields
        )

    def field_completer(self, field: Field) -> Completer | None:
        """How to complete `field`'s value: null whatever was fetched when it is withheld
        (authorization removed it; the plan may still fetch it as a key)."""
        inner = self.completer(field, field.type)
        if id(field) not in self._withheld:
            return inner

        def complete(run: _Run, value: Any, path: PathNode, key: str | int) -> Any:
            """Null, completed as a missing value is (non-null: bubbling up)."""
            return None if inner is None else inner(run, None, path, key)

        return complete

    def completer(self, field: Field, ftype: GraphQLOutputType) -> Completer | None:
        """How to complete a value of type `ftype` for `field`; None when it is copied as is."""
        if isinstance(ftype, GraphQLNonNull):
            return self._non_null(field, self.completer(field, ftype.of_type))
        if isinstance(ftype, GraphQLList):
            return self._list(self.completer(field, ftype.of_type))
        if field.selection is not None:
            where = f"field {field.parent_type}.{field.name}"
            return self._object(self.selection(field.selection), where, field.named_type)
        if isinstance(ftype, GraphQLEnumType):
            return self._enum(ftype)
        return None  # a nullable scalar: copied as is

    @staticmethod
    def _non_null(field: Field, inner: Completer | None) -> Completer:
        message = f"Cannot return null for non-nullable field {field.parent_type}.{field.name}."

        def complete(run: _Run, value: Any, path: PathNode, key: str | int) -> Any:
            """The value completed; a null becomes a problem and _BUBBLE."""
            result = value if inner is None or value is None else inner(run, value, path, key)
            if result is None:
                invalid = run.invalid
                if invalid is None or invalid[0] is not path or invalid[1] != key:
                    run.problem(message, path, key)
                return _BUBBLE
            return result

        return complete

    @staticmethod
    def _list(inner: Completer | None) -> Completer:
        def complete(run: _Run, value: Any, path: PathNode, key: str | int) -> Any:
            """The items completed; null when one bubbles up (or it is no list)."""
            if not isinstance(value, list):
                return None
            if inner is None:
                return value
            here = (path, key)
            items: list[Any] = []
            append = items.append
            for index, item in enumerate(value):
                result = inner(run, item, here, index)
                if result is _BUBBLE:
                    return None
                append(result)
            return items

        return complete

    @staticmethod
    def _object(compiled: _CompiledSelection, where: str, type_name: str) -> Completer:
        def complete(run: _Run, value: Any, path: PathNode, key: str | int) -> Any:
            """The object shaped; null when invalid, bubbled up into, or no object."""
            if not isinstance(value, dict):
                return None
            result = _shape_object(run, compiled, value, (path, key))
            if result is _INVALID:
                # worded as Apollo's gateways word it
                at = (
                    f"array element of type {type_name} at index {key}"
                    if isinstance(key, int)
                    else where
                )
                run.problem(f"Invalid __typename found for object at {at}.", path, key)
                run.invalid = (path, key)
                return None
            return None if result is _BUBBLE else result

        return complete

    @staticmethod
    def _enum(enum: GraphQLEnumType) -> Completer:
        values = frozenset(enum.values)

        def complete(run: _Run, value: Any, path: PathNode, key: str | int) -> Any:
            """The value when the enum has it; otherwise a problem, and null."""
            if value is None or (type(value) is str and value in values):
                return value
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            run.problem(f'Enum "{enum.name}" cannot represent value: {shown}', path, key)
            return None

        return complete


class ResponseShape:
    """The compiled projection of one operation; immutable and shared across requests."""

    def __init__(
        self,
        operation: Operation,
        abstract: frozenset[str] | None = None,
        withheld: frozenset[int] = frozenset(),
    ) -> None:
        compiler = _Compiler(abstract, withheld)
        self.root_type = operation.root_type
        self.root = compiler.selection(operation.selection)
        # The same walk as straight-line code (shape_source.py), written when the
        # operation is shaped a second time: an operation seen once never pays for it.
        self.compiled: shape_source.ShapeFunction | None = None
        self._source = (operation.selection, abstract, withheld)
        self._uses = 0

    def _compile(self) -> shape_source.ShapeFunction | None:
        """The compiled walk, from the second use on (None before, or when declined)."""
        self._uses += 1
        if self._uses == 2:
            self.compiled = shape_source.compile_source(*self._source)
        return self.compiled

    def shape(
        self,
        data: dict[str, Any] | None,
        variables: Mapping[str, Any],
        introspection: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The client's `data`, and the value-completion problems met on the way.

        A null where the schema promises non-null is reported apart from `errors`
        (as Apollo's gateways do, under `extensions.valueCompletion`): it is a
        symptom, and when a subgraph failed, that subgraph's error explains it.
        """
        run = _Run(variables)
        source = dict(data or {})
        source["__typename"] = self.root_type
        if introspection:
            source.update(introspection)
        function = self.compiled or self._compile()
        if function is not None:
            try:
                result = function(run, source, None)
            except TypeError:  # a __typename no dict takes: the walk below reports it
                function, run = None, _Run(variables)
        if function is None:
            result = _shape_object(run, self.root, source, None)
        return (None if result is _BUBBLE else result), run.completion


def compile_shape(
    operation: Operation,
    abstract: frozenset[str] | None = None,
    withheld: frozenset[int] = frozenset(),
) -> ResponseShape:
    """The projection of `operation`. Given `abstract` (the API schema's `abstract_names`),
    an object whose __typename is not a possible type of its position (an @inaccessible
    type, say) completes to null, as in GraphQL execution. The fields whose ids are in
    `withheld` complete to null whatever the data holds."""
    return ResponseShape(operation, abstract, withheld)


def abstract_names(schema: GraphQLSchema) -> frozenset[str]:
    """The names of the schema's interfaces and unions."""
    return frozenset(name for name, t in schema.type_map.items() if is_abstract_type(t))


class SelectionShape:
    """The compiled projection of one selection set (a `@defer`red fragment's), applied
    to each object it is delivered for; immutable and shared across requests."""

    def __init__(self, selection: SelectionSet, abstract: frozenset[str] | None = None) -> None:
        self.selection = selection
        self.compiled = _Compiler(abstract).selection(selection)

    def applies(self, value: dict[str, Any]) -> bool:
        """Whether the selection selects anything for `value`'s `__typename`."""
        typename = value.get("__typename") or self.compiled.type_name
        try:
            return bool(self.compiled.by_type.get(typename) or self.compiled.uniform)
        except TypeError:  # a list or an object for a __typename: no type's name
            return False

    def shape(
        self, value: dict[str, Any], variables: Mapping[str, Any], path: list[str | int]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The client's object for `value` at the response `path` (None when a non-null
        field came out null: null propagation stops at the fragment), and the
        value-completion problems met."""
        run = _Run(variables)
        here: PathNode = None
        for step in path:
            here = (here, step)
        result = _shape_object(run, self.compiled, value, here)
        if result is _BUBBLE or result is _INVALID:
            return None, run.completion
        return result, run.completion
