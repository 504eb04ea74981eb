"""The authorization stage: which requirements an operation meets, and the operation
without what a request may not see.

It works on the normalized `Operation`, between normalization and planning, in two
passes of the same linear walk:

- once per operation (cached with its plan), `check_operation` collects the distinct
  requirements met anywhere in it;
- once per operation and set of requirements a request fails (cached too),
  `restrict_operation` removes every field or type branch so protected, and says where.

What is removed, as Apollo Router does: a field whose definition or whose type demands
what the request lacks; under an interface or union, the branch of an object type that
does (`... on T`); a field returning an abstract type when its selection reads the
interface itself and one of the possible types is refused; a field read on an interface
unless every implementation's field allows it. `__typename` and introspection are never
removed, and fields the planner adds itself (keys, `@requires`) are not the client's.

Each removal is reported once at its place in the operation: response keys, `"@"` for
each list level above it, `"... on T"` where a type condition under an abstract type
decides. A composite field whose whole selection went keeps `__typename` alone, so the
field itself is still answered and only what was removed is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLSchema, GraphQLString, is_abstract_type

from router.authorization.access import Access
from router.authorization.requirement import NONE, Requirement, all_of
from router.authorization.rules import AuthorizationRules
from router.operation import Field, Operation, SelectionSet

UNAUTHORIZED_MESSAGE = "Unauthorized field or type"
UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"

Path = tuple[str, ...]
_REMOVE: Any = object()  # a field's selection says the field itself must go
_NEVER_REMOVED = frozenset({"__typename", "__schema", "__type"})  # not the directives' business
_TYPENAME_TYPE = GraphQLNonNull(GraphQLString)


@dataclass(frozen=True)
class OperationChecks:
    """The distinct requirements met in one operation, and the policies they name."""

    requirements: tuple[Requirement, ...]
    policies: frozenset[str]

    def refused(self, access: Access) -> frozenset[Requirement]:
        """The requirements `access` does not meet: what decides the operation's variant."""
        return frozenset(r for r in self.requirements if not access.allows(r))


@dataclass(frozen=True)
class Restriction:
    """An operation without what a request may not see, and where things were removed."""

    operation: Operation
    paths: tuple[Path, ...]


def unauthorized_error(path: Path) -> dict[str, Any]:
    """The GraphQL error for one removal."""
    return {
        "message": UNAUTHORIZED_MESSAGE,
        "path": list(path),
        "extensions": {"code": UNAUTHORIZED_CODE},
    }


def check_operation(
    operation: Operation, rules: AuthorizationRules, schema: GraphQLSchema
) -> OperationChecks | None:
    """The requirements met in `operation`; None when it meets none (nothing to check)."""
    if not rules:
        return None
    walk = _Walk(rules, schema, None)
    walk.root(operation)
    if not walk.seen:
        return None
    requirements = tuple(walk.seen)
    policies = frozenset().union(*(r.policy_names for r in requirements))
    return OperationChecks(requirements, policies)


def restrict_operation(
    operation: Operation,
    rules: AuthorizationRules,
    schema: GraphQLSchema,
    refused: frozenset[Requirement],
) -> Restriction:
    """`operation` without every element whose requirement is in `refused`."""
    walk = _Walk(rules, schema, refused)
    selection = walk.root(operation)
    if selection is not operation.selection:
        operation = replace(operation, selection=selection)
    return Restriction(operation, tuple(walk.paths))


def _list_levels(ftype: Any) -> int:
    levels = 0
    while True:
        if isinstance(ftype, GraphQLNonNull):
            ftype = ftype.of_type
        elif isinstance(ftype, GraphQLList):
            levels += 1
            ftype = ftype.of_type
        else:
            return levels


def _typename(parent: str) -> Field:
    return Field("__typename", "__typename", parent, _TYPENAME_TYPE, "String")


class _Walk:
    """One pass over an operation: collecting requirements (`refused` None) or removing
    what needs a refused one."""

    def __init__(
        self,
        rules: AuthorizationRules,
        schema: GraphQLSchema,
        refused: frozenset[Requirement] | None,
    ) -> None:
        self.rules = rules
        self.schema = schema
        self.refused = refused
        self.seen: dict[Requirement, None] = {}  # in first-met order
        self.paths: dict[Path, None] = {}  # removals, once each, in document order

    def _fails(self, requirement: Requirement) -> bool:
        if not requirement:
            return False
        if self.refused is None:
            self.seen[requirement] = None
            return False
        return requirement in self.refused

    def _of_field(self, parent: str, field: Field) -> Requirement:
        return self.rules.of_field(parent, field.name) & self.rules.of_type(field.named_type)

    def root(self, operation: Operation) -> SelectionSet:
        """The operation's root selection, restricted (the same object if unchanged)."""
        selection = operation.selection
        root = operation.root_type
        fields = selection.fields_for(root)
        kept = self._fields(root, fields, (), self.rules.of_type(root))
        if kept is fields:
            return selection
        return replace(selection, by_type={**selection.by_type, root: kept})

    def _fields(
        self, parent: str, fields: tuple[Field, ...], path: Path, extra: Requirement = NONE
    ) -> tuple[Field, ...]:
        """The fields of an object position that stay (the same tuple if all do)."""
        out: list[Field] = []
        for field in fields:
            kept = self._field(parent, field, (*path, field.response_key), extra)
            if kept is not None:
                out.append(kept)
        return _same_or(fields, out)

    def _field(self, parent: str, field: Field, here: Path, extra: Requirement) -> Field | None:
        """The field as it stays, or None (its removal noted at `here`)."""
        if field.name in _NEVER_REMOVED:
            return field
        if self._fails(extra & self._of_field(parent, field)):
            self.paths[here] = None
            return None
        return self._inner(field, here)

    def _inner(self, field: Field, here: Path) -> Field | None:
        """The field with its selection restricted; None when the field itself must go."""
        if field.selection is None:
            return field
        inner = self._selection(field.selection, here + ("@",) * _list_levels(field.type))
        if inner is _REMOVE:
            self.paths[here] = None
            return None
        return field if inner is field.selection else replace(field, selection=inner)

    def _selection(self, selection: SelectionSet, path: Path) -> Any:
        """The selection restricted, the same object if unchanged, or _REMOVE."""
        named = self.schema.get_type(selection.type_name)
        if is_abstract_type(named):
            restricted = _Abstract(self, selection, path).restrict()
        else:
            type_name = selection.type_name
            fields = selection.fields_for(type_name)
            kept = self._fields(type_name, fields, path)
            if kept is fields:
                return selection
            restricted = replace(selection, by_type={**selection.by_type, type_name: kept})
        if restricted is selection or restricted is _REMOVE:
            return restricted
        return restricted if _has_fields(restricted) else _placeholder(restricted)


class _Abstract:
    """Restricting one selection on an interface or union."""

    def __init__(self, walk: _Walk, selection: SelectionSet, path: Path) -> None:
        self.walk = walk
        self.selection = selection
        self.path = path
        if selection.uniform is not None:
            direct = {f.response_key for f in selection.uniform}
        else:
            direct = set(selection.wide_keys)
        direct.discard("__typename")
        # keys read on the interface itself: every possible type answers them
        self.direct = frozenset(direct)

    def restrict(self) -> Any:
        """The selection restricted, the same object if unchanged, or _REMOVE."""
        selection, walk = self.selection, self.walk
        read = [
            t
            for t, fields in selection.by_type.items()
            if self.direct or any(not f.is_typename for f in fields)
        ]
        refused = {t for t in read if walk._fails(walk.rules.of_type(t))}
        if refused and self.direct:
            return _REMOVE  # the interface's own fields could come from a refused type
        occurrences = self._occurrences().items()
        gone = {key for key, found in occurrences if self._direct_refused(key, found)}
        by_type = {
            t: self._branch(t, fields, t in refused, gone)
            for t, fields in selection.by_type.items()
        }
        uniform = selection.uniform
        if uniform is not None:
            uniform = self._uniform(uniform, gone)
        unchanged = uniform is selection.uniform and all(
            by_type[t] is fields for t, fields in selection.by_type.items()
        )
        if unchanged:
            return selection
        keys = {t: frozenset(f.response_key for f in fields) for t, fields in by_type.items()}
        return replace(
            selection,
            by_type=by_type,
            uniform=uniform,
            wide_keys=selection.wide_keys - gone,
            interface_keys={
                t: k & keys.get(t, frozenset()) for t, k in selection.interface_keys.items()
            },
        )

    def _occurrences(self) -> dict[str, list[tuple[str, Field]]]:
        """Per key read on the interface, in response order, its fields, each with the
        type it is read on (one pass over the selection: the check stays linear)."""
        selection = self.selection
        occurrences: dict[str, list[tuple[str, Field]]] = {}
        read = [(selection.type_name, f) for f in selection.uniform or ()]
        read += [(t, f) for t, fields in selection.by_type.items() for f in fields]
        for type_name, f in read:
            if f.response_key in self.direct:
                occurrences.setdefault(f.response_key, []).append((type_name, f))
        return occurrences

    def _direct_refused(self, key: str, occurrences: list[tuple[str, Field]]) -> bool:
        """Whether the key read on the interface needs a refused requirement (its
        interface field's and every implementation's together: `occurrences`, each
        field with the type it is read on); noted when so."""
        walk = self.walk
        if walk._fails(all_of(walk._of_field(t, f) for t, f in occurrences)):
            walk.paths[(*self.path, key)] = None
            return True
        return False

    def _branch(
        self, type_name: str, fields: tuple[Field, ...], refused: bool, gone: set[str]
    ) -> tuple[Field, ...]:
        """One object type's fields that stay (the same tuple if all do)."""
        walk = self.walk
        if refused:
            walk.paths[(*self.path, f"... on {type_name}")] = None
            return tuple(f for f in fields if f.is_typename)
        out: list[Field] = []
        for field in fields:
            key = field.response_key
            if key in gone:
                continue
            if key in self.direct:  # its demand was weighed on the interface
                kept = field if field.is_typename else walk._inner(field, (*self.path, key))
            else:
                here = (*self.path, f"... on {type_name}", key)
                kept = walk._field(type_name, field, here, NONE)
            if kept is not None:
                out.append(kept)
        return _same_or(fields, out)

    def _uniform(self, fields: tuple[Field, ...], gone: set[str]) -> tuple[Field, ...]:
        """The interface-level fields that stay (the same tuple if all do)."""
        out: list[Field] = []
        for field in fields:
            if field.response_key in gone:
                continue
            kept = field if field.is_typename else self.walk._inner(
                field, (*self.path, field.response_key)
            )
            if kept is not None:
                out.append(kept)
        return _same_or(fields, out)


def _same_or(fields: tuple[Field, ...], out: list[Field]) -> tuple[Field, ...]:
    """`fields` itself when `out` holds the same fields (nothing changed), else `out`."""
    if len(out) == len(fields) and all(a is b for a, b in zip(out, fields, strict=True)):
        return fields
    return tuple(out)


def _has_fields(selection: SelectionSet) -> bool:
    return any(selection.by_type.values()) or bool(selection.uniform)


def _placeholder(selection: SelectionSet) -> SelectionSet:
    """A selection whose every field was removed, reading `__typename` alone: the field
    holding it is still answered (as an object), only what was removed is null."""
    by_type: Mapping[str, tuple[Field, ...]] = {
        t: (_typename(t),) for t in selection.by_type
    }
    uniform = selection.uniform
    if uniform is not None:
        uniform = (_typename(selection.type_name),)
    return replace(selection, by_type=by_type, uniform=uniform)
