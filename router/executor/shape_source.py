"""The response shaper compiled to Python source: one function per selection set.

`shape.py` walks an operation's compiled selections with a loop per object and a call
per field. For an operation served many times the same walk written out as straight-line
code (a local per field, a dict display per object, non-null and enum checks inline,
lists as loops) does the same work in about half the time (docs/performance.md).

The rules and the order of the problems reported are shape.py's: it stays the reference,
and it serves what this declines (`compile_source` returns None): operations with more
fields than are worth compiling, and lists nested deeper than Python's block limit allows.
Nothing from the operation is written into the source but response keys and type names
as `repr` literals; messages, enum values and orders are bound as named constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLOutputType

from router.executor import shape
from router.operation import Field, SelectionSet

# Beyond this many fields (over all selection sets) or lines of source an operation
# keeps the interpreted walk: compiling holds the interpreter for ~7 µs per line (2.1 ms
# for the benchmark's 92 KB query, 315 lines), paid once, so this bounds that pause to
# about 15 ms however the fields nest.
MAX_FIELDS = 500
MAX_LINES = 2000
MAX_LIST_DEPTH = 8  # nested `for` loops; CPython allows 20 statically nested blocks
_INLINE_TYPES = 4  # concrete types dispatched by an if-chain; more go through a dict

ShapeFunction = Callable[[Any, dict[str, Any], Any], Any]


class _TooBig(Exception):
    """The operation is beyond what is compiled."""


def _null_problem(run: Any, message: str, path: Any, key: str | int) -> None:
    """A null in a non-null position: noted unless it is where an invalid object was nulled."""
    invalid = run.invalid
    if invalid is None or invalid[0] is not path or invalid[1] != key:
        run.problem(message, path, key)


def _invalid_object(run: Any, where: str, type_name: str, path: Any, key: str | int) -> None:
    """An object whose __typename clients cannot see here: a problem, and null."""
    at = f"array element of type {type_name} at index {key}" if isinstance(key, int) else where
    run.problem(f"Invalid __typename found for object at {at}.", path, key)
    run.invalid = (path, key)


def _enum_problem(run: Any, enum: GraphQLEnumType, value: Any, path: Any, key: str | int) -> None:
    """A value the enum does not have: a problem, and null."""
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    run.problem(f'Enum "{enum.name}" cannot represent value: {shown}', path, key)


def _indent(lines: list[str], by: int = 4) -> list[str]:
    pad = " " * by
    return [pad + line for line in lines]


class _Writer:
    """Writes the functions of one operation's selection sets."""

    def __init__(self, abstract: frozenset[str] | None, withheld: frozenset[int]) -> None:
        self.names: dict[str, Any] = {
            "_BUBBLE": shape._BUBBLE,
            "_INVALID": shape._INVALID,
            "included": shape.included,
            "_reorder": shape._reorder,
            "_null": _null_problem,
            "_invalid": _invalid_object,
            "_enum": _enum_problem,
        }
        self.functions: dict[int, str] = {}
        self.lines: list[str] = []
        self.abstract = abstract
        self.withheld = withheld
        self.fields = 0
        self.serial = 0

    def const(self, value: Any) -> str:
        """A name bound to `value` in the generated module."""
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def fresh(self) -> int:
        self.serial += 1
        return self.serial

    def selection(self, selection: SelectionSet) -> str:
        """The name of the function shaping `selection` (written once per selection set)."""
        name = self.functions.get(id(selection))
        if name is not None:
            return name
        name = f"_s{len(self.functions)}"
        self.functions[id(selection)] = name
        body = self._dispatch(selection)
        self.lines += [f"def {name}(run, value, here):", *_indent(body), ""]
        if len(self.lines) > MAX_LINES:
            raise _TooBig
        return name

    def _dispatch(self, selection: SelectionSet) -> list[str]:
        """Pick the fields by `__typename` (shape._shape_object's rules)."""
        lines = [
            "get = value.get",
            f"typename = get('__typename') or {selection.type_name!r}",
        ]
        by_type = selection.by_type
        orders = selection.occurrence_order
        if len(by_type) <= _INLINE_TYPES:
            for type_name, fields in by_type.items():
                lines.append(f"if typename == {type_name!r}:")
                lines += _indent(self._fill(fields, orders.get(type_name)))
        else:
            fills = {}
            for type_name, fields in by_type.items():
                fill = f"_f{self.fresh()}"
                body = self._fill(fields, orders.get(type_name))
                self.lines += [f"def {fill}(run, get, here, typename):", *_indent(body), ""]
                fills[type_name] = fill
            table = "{" + ", ".join(f"{t!r}: {f}" for t, f in fills.items()) + "}"
            dispatch = self.const({})
            self.lines.append(f"{dispatch}.update({table})")
            lines += [
                f"fill = {dispatch}.get(typename)",
                "if fill is not None:",
                "    return fill(run, get, here, typename)",
            ]
        if self.abstract is not None and by_type:
            lines += [f"if typename not in {self.const(self.abstract)}:", "    return _INVALID"]
        if selection.uniform is None:
            lines.append("return None")
        else:  # any other type: its order, if it has one, is known at run time only
            lines += self._fill(selection.uniform, self.const(orders) if orders else None)
        return lines

    def _fill(self, fields: tuple[Field, ...], order: Any) -> list[str]:
        """The object for one concrete type's `fields`, or _BUBBLE."""
        self.fields += len(fields)
        if self.fields > MAX_FIELDS:
            raise _TooBig
        keys = [f.response_key for f in fields]
        statements = len(set(keys)) != len(keys) or any(f.conditions is not None for f in fields)
        lines: list[str] = ["variables = run.variables", "out = {}"] if statements else []
        entries: list[str] = []
        for f in fields:
            key = repr(f.response_key)
            if f.is_typename:
                step, expr = [], "typename"
            else:
                step, expr = self._field(f, key)
            if not statements:
                lines += step
                entries.append(f"{key}: {expr}")
                continue
            step = [*step, f"out[{key}] = {expr}"]
            if f.conditions is not None:
                lines += [f"if included({self.const(f.conditions)}, variables):", *_indent(step)]
            else:
                lines += step
        if not statements:
            display = "{" + ", ".join(entries) + "}"
            if not order:
                return [*lines, f"return {display}"]
            lines.append(f"out = {display}")
        if isinstance(order, str):  # the orders by type, bound as a constant
            lines += [
                f"order = {order}.get(typename)",
                "return _reorder(out, order, run.variables) if order else out",
            ]
        elif order:
            lines.append(f"return _reorder(out, {self.const(order)}, run.variables)")
        else:
            lines.append("return out")
        return lines

    def _field(self, field: Field, key: str) -> tuple[list[str], str]:
        """Lines completing one field's value, and the expression that holds it."""
        source = "None" if id(field) in self.withheld else f"get({key})"
        if self._copied(field, field.type):
            return [], source
        target = f"v{self.fresh()}"
        bubble = ["return _BUBBLE"]
        return self._complete(field, field.type, source, target, "here", key, bubble, 0), target

    def _copied(self, field: Field, ftype: GraphQLOutputType) -> bool:
        """Whether a value of `ftype` is taken as it is (shape.py's `completer` is None)."""
        return not isinstance(ftype, GraphQLNonNull | GraphQLList | GraphQLEnumType) and (
            field.selection is None
        )

    def _complete(
        self,
        field: Field,
        ftype: GraphQLOutputType,
        source: str,
        target: str,
        path: str,
        key: str,
        bubble: list[str],
        depth: int,
    ) -> list[str]:
        """Lines setting `target` to the completed `source`; `bubble` when a non-null
        position came out null."""
        if isinstance(ftype, GraphQLNonNull):
            message = f"Cannot return null for non-nullable field {field.parent_type}.{field.name}."
            inner = self._complete(field, ftype.of_type, source, target, path, key, bubble, depth)
            return [
                *inner,
                f"if {target} is None:",
                f"    _null(run, {self.const(message)}, {path}, {key})",
                *_indent(bubble),
            ]
        if isinstance(ftype, GraphQLList):
            return self._list(field, ftype.of_type, source, target, path, key, depth)
        if field.selection is not None:
            function = self.selection(field.selection)
            where = self.const(f"field {field.parent_type}.{field.name}")
            return [
                f"{target} = {source}",
                f"if isinstance({target}, dict):",
                f"    {target} = {function}(run, {target}, ({path}, {key}))",
                f"    if {target} is _BUBBLE:",
                f"        {target} = None",
                f"    elif {target} is _INVALID:",
                f"        {target} = _invalid(run, {where}, {field.named_type!r}, {path}, {key})",
                "else:",
                f"    {target} = None",
            ]
        if isinstance(ftype, GraphQLEnumType):
            values, enum = self.const(frozenset(ftype.values)), self.const(ftype)
            return [
                f"{target} = {source}",
                f"if {target} is not None and ({target}.__class__ is not str"
                f" or {target} not in {values}):",
                f"    {target} = _enum(run, {enum}, {target}, {path}, {key})",
            ]
        return [f"{target} = {source}"]

    def _list(
        self,
        field: Field,
        item_type: GraphQLOutputType,
        source: str,
        target: str,
        path: str,
        key: str,
        depth: int,
    ) -> list[str]:
        """A list: each item completed; null when one bubbles up (or it is no list)."""
        if self._copied(field, item_type):
            return [
                f"{target} = {source}",
                f"if not isinstance({target}, list):",
                f"    {target} = None",
            ]
        if depth >= MAX_LIST_DEPTH:
            raise _TooBig
        n = self.fresh()
        items, here, index, item, result = f"_l{n}", f"_h{n}", f"_i{n}", f"_x{n}", f"_r{n}"
        body = self._complete(
            field, item_type, item, result, here, index, [f"{target} = None", "break"], depth + 1
        )
        return [
            f"{items} = {source}",
            f"if isinstance({items}, list):",
            f"    {here} = ({path}, {key})",
            f"    {target} = []",
            f"    for {index}, {item} in enumerate({items}):",
            *_indent(body, 8),
            f"        {target}.append({result})",
            "else:",
            f"    {target} = None",
        ]

    def module(self) -> dict[str, Any]:
        """The generated functions, compiled, with their constants."""
        namespace = dict(self.names)
        exec(compile("\n".join(self.lines), "<shopgraph shape>", "exec"), namespace)
        return namespace


def compile_source(
    selection: SelectionSet,
    abstract: frozenset[str] | None = None,
    withheld: frozenset[int] = frozenset(),
) -> ShapeFunction | None:
    """The function shaping objects of `selection` (`f(run, value, here)`, as
    shape._shape_object), or None when the operation is beyond what is compiled."""
    writer = _Writer(abstract, withheld)
    try:
        name = writer.selection(selection)
        namespace = writer.module()
    except (_TooBig, RecursionError, SyntaxError, MemoryError):
        return None
    return namespace[name]


def source_text(selection: SelectionSet, abstract: frozenset[str] | None = None) -> str:
    """The generated source for `selection` (for reading and tests)."""
    writer = _Writer(abstract, frozenset())
    writer.selection(selection)
    return "\n".join(writer.lines)

