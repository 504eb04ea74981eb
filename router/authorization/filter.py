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
does (`... on T`); a field returning an interface when its selection reads the interface
itself and one of the possible types is refused; a field read on an interface unless
every implementation's field allows it; a fragment whose type condition names a refused
interface (`conditions.py`). A composite field whose whole selection went is removed too,
silently (its null says so; the errors are at what was removed under it). `__typename`
and introspection are never removed, and fields the planner adds itself (keys,
`@requires`) are not the client's.

Each removal is reported once at its place in the operation: response keys, `"@"` after
each list field (the removed one's too), `"... on T"` where a type condition under an
abstract type decides; the @authenticated removals first, then @requiresScopes', then
@policy's, as Apollo Router's three filters add them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import DocumentNode, GraphQLList, GraphQLNonNull, GraphQLSchema, is_abstract_type

from router.authorization.access import Access
from router.authorization.conditions import condition_requirements, strip_conditions
from router.authorization.requirement import Requirement, all_of
from router.authorization.rules import AuthorizationRules
from router.operation import Field, Operation, SelectionSet

UNAUTHORIZED_MESSAGE = "Unauthorized field or type"
UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"

Path = tuple[str, ...]
# the requirements a request fails, each with the directive refusing it (BY_*)
Refused = Mapping[Requirement, int]
_NEVER_REMOVED = frozenset({"__typename", "__schema", "__type"})  # not the directives' business


@dataclass(frozen=True)
class _Gone:
    """A selection whose field must go: refused (an error at the field, by the directive
    `by`), or emptied (`by` None: each thing under it went with its own error)."""

    by: int | None


_EMPTIED = _Gone(None)


@dataclass(frozen=True)
class OperationChecks:
    """The distinct requirements met in one operation, and the policies they name."""

    requirements: tuple[Requirement, ...]
    policies: frozenset[str]

    def refused(self, access: Access) -> frozenset[tuple[Requirement, int]]:
        """The requirements `access` does not meet, each with the directive refusing it:
        what decides the operation's variant."""
        out = []
        for requirement in self.requirements:
            by = access.refused_by(requirement)
            if by is not None:
                out.append((requirement, by))
        return frozenset(out)


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
    operation: Operation,
    rules: AuthorizationRules,
    schema: GraphQLSchema,
    document: DocumentNode | None = None,
) -> OperationChecks | None:
    """The requirements met in `operation` (and, with its `document`, by the interfaces
    its type conditions name); None when it meets none (nothing to check)."""
    if not rules:
        return None
    walk = _Walk(rules, schema, None)
    if document is not None:
        for requirement in condition_requirements(document, schema, rules).values():
            walk.refusal(requirement)
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
    refused: Refused,
    document: DocumentNode | None = None,
    dry_run: bool = False,
) -> Restriction:
    """`operation` (parsed from `document`) without every element whose requirement is
    in `refused`. With `dry_run` nothing is removed, and the paths say what would be,
    including what lies under a refused element (as Apollo Router's dry run reports)."""
    paths: dict[Path, int] = {}
    if document is not None:
        stripped = strip_conditions(document, operation, schema, rules, refused)
        if stripped is not None:
            paths.update(stripped[1])
            operation = operation if dry_run else stripped[0]
    walk = _Walk(rules, schema, refused, dry_run)
    selection = walk.root(operation)
    if selection is not operation.selection:
        operation = replace(operation, selection=selection)
    paths.update(walk.paths)
    # stable: document order within each directive's removals
    ordered = sorted(paths.items(), key=lambda item: item[1])
    return Restriction(operation, tuple(path for path, _ in ordered))


def _at(field: Field) -> Path:
    """What a field adds to a path after its key: `"@"` when it is a list (one, however
    deeply the list nests, as Apollo Router writes it)."""
    ftype = field.type
    if isinstance(ftype, GraphQLNonNull):
        ftype = ftype.of_type
    return ("@",) if isinstance(ftype, GraphQLList) else ()


class _Walk:
    """One pass over an operation: collecting requirements (`refused` None) or removing
    what needs a refused one."""

    def __init__(
        self,
        rules: AuthorizationRules,
        schema: GraphQLSchema,
        refused: Refused | None,
        dry_run: bool = False,
    ) -> None:
        self.rules = rules
        self.schema = schema
        self.refused = refused
        self.dry_run = dry_run  # note the refusals, keep everything, look under them
        self.seen: dict[Requirement, None] = {}  # in first-met order
        self.paths: dict[Path, int] = {}  # removals (and by which directive), in order

    def refusal(self, requirement: Requirement) -> int | None:
        """The directive refusing `requirement` (None: allowed; and always None while
        collecting)."""
        if not requirement:
            return None
        if self.refused is None:
            self.seen[requirement] = None
            return None
        return self.refused.get(requirement)

    def of_field(self, parent: str, field: Field) -> Requirement:
        """What selecting `field` on `parent` demands: its own and its type's."""
        return self.rules.of_field(parent, field.name) & self.rules.of_type(field.named_type)

    def root(self, operation: Operation) -> SelectionSet:
        """The operation's root selection, restricted (the same object if unchanged)."""
        selection = operation.selection
        root = operation.root_type
        fields = selection.fields_for(root)
        by = self.refusal(self.rules.of_type(root))
        if by is not None:  # a protected root type: the whole operation goes, one error
            self.paths[()] = by
            kept = tuple(f for f in fields if f.name in _NEVER_REMOVED)
        else:
            kept = self.fields(root, fields, ())
        if kept is fields:
            return selection
        return replace(selection, by_type={**selection.by_type, root: kept})

    def fields(self, parent: str, fields: tuple[Field, ...], path: Path) -> tuple[Field, ...]:
        """The fields of an object position that stay (the same tuple if all do)."""
        out: list[Field] = []
        for field in fields:
            kept = self.field(parent, field, (*path, field.response_key))
            if kept is not None:
                out.append(kept)
        return _same_or(fields, out)

    def field(self, parent: str, field: Field, here: Path) -> Field | None:
        """The field as it stays, or None (a refusal noted at `here`)."""
        if field.name in _NEVER_REMOVED:
            return field
        by = self.refusal(self.of_field(parent, field))
        if by is not None:
            self.paths[here + _at(field)] = by
            if not self.dry_run:
                return None
        return self.inner(field, here)

    def inner(self, field: Field, here: Path) -> Field | None:
        """The field with its selection restricted; None when the field itself goes."""
        if field.selection is None:
            return field
        at = here + _at(field)
        inner = self.selection(field.selection, at)
        if isinstance(inner, _Gone):
            if inner.by is not None:
                self.paths[at] = inner.by
            return None
        return field if inner is field.selection else replace(field, selection=inner)

    def selection(self, selection: SelectionSet, path: Path) -> SelectionSet | _Gone:
        """The selection restricted: the same object if unchanged, or _Gone."""
        named = self.schema.get_type(selection.type_name)
        if is_abstract_type(named):
            restricted = _Abstract(self, selection, path).restrict()
        else:
            type_name = selection.type_name
            fields = selection.fields_for(type_name)
            kept = self.fields(type_name, fields, path)
            if kept is fields:
                return selection
            restricted = replace(selection, by_type={**selection.by_type, type_name: kept})
        if restricted is selection or isinstance(restricted, _Gone):
            return restricted
        return restricted if _has_fields(restricted) else _EMPTIED


class _Abstract:
    """Restricting one selection on an interface or union."""

    def __init__(self, walk: _Walk, selection: SelectionSet, path: Path) -> None:
        self.walk = walk
        self.selection = selection
        self.path = path
        if selection.uniform is not None:
            read = {f.response_key: f.is_typename for f in selection.uniform}
        else:
            typename_keys = {
                f.response_key for fields in selection.by_type.values() for f in fields
                if f.is_typename
            }
            read = {key: key in typename_keys for key in selection.wide_keys}
        # keys read on the interface itself: every possible type answers them
        self.direct = frozenset(key for key, typename in read.items() if not typename)
        # `__typename` read on the interface itself: it stays whatever branch goes
        self.direct_typename = frozenset(key for key, typename in read.items() if typename)

    def restrict(self) -> SelectionSet | _Gone:
        """The selection restricted: the same object if unchanged, or _Gone."""
        selection, walk = self.selection, self.walk
        refusals: dict[str, int] = {}
        for type_name, fields in selection.by_type.items():
            if self.direct or any(not f.is_typename for f in fields):
                by = walk.refusal(walk.rules.of_type(type_name))
                if by is not None:
                    refusals[type_name] = by
        if refusals and self.direct:
            # the interface's own fields could come from a refused type
            if not walk.dry_run:
                return _Gone(min(refusals.values()))
            walk.paths[self.path] = min(refusals.values())
        occurrences = self._occurrences().items()
        gone = {key for key, found in occurrences if self._direct_refused(key, found)}
        by_type = {
            t: self._branch(t, fields, refusals.get(t), gone)
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
        by = walk.refusal(all_of(walk.of_field(t, f) for t, f in occurrences))
        if by is None:
            return False
        walk.paths[(*self.path, key, *_at(occurrences[0][1]))] = by
        return not walk.dry_run

    def _branch(
        self, type_name: str, fields: tuple[Field, ...], refused_by: int | None, gone: set[str]
    ) -> tuple[Field, ...]:
        """One object type's fields that stay (the same tuple if all do)."""
        walk = self.walk
        if refused_by is not None:  # the branch goes: what its type condition selected
            walk.paths[(*self.path, f"... on {type_name}")] = refused_by
            if not walk.dry_run:
                return tuple(f for f in fields if f.response_key in self.direct_typename)
        out: list[Field] = []
        for field in fields:
            key = field.response_key
            if key in gone:
                continue
            if key in self.direct:  # its demand was weighed on the interface
                kept = walk.inner(field, (*self.path, key))
            elif field.is_typename:
                kept = field
            else:
                kept = walk.field(type_name, field, (*self.path, f"... on {type_name}", key))
            if kept is not None:
                out.append(kept)
        return _same_or(fields, out)

    def _uniform(self, fields: tuple[Field, ...], gone: set[str]) -> tuple[Field, ...]:
        """The interface-level fields that stay (the same tuple if all do)."""
        out: list[Field] = []
        for field in fields:
            if field.response_key in gone:
                continue
            kept = field if field.is_typename else self.walk.inner(
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
