"""The authorization stage: which requirements an operation meets, and the operation
without what a request may not see.

Between normalization and planning, on the client's document as written (`walk.py`),
in two passes of the same walk:

- once per operation (cached with its plan), `check_operation` collects the distinct
  requirements met anywhere in it;
- once per operation and set of requirements a request fails (cached too),
  `restrict_operation` removes every element so protected, says where, and normalizes
  what is left again.

What is removed, as Apollo Router does: a field whose definition or whose type demands
what the request lacks (read on an interface: every implementation's field's demand
too); a fragment whose type condition names a type the request may not see (`... on T`,
inline or named); a field returning an interface whose selection reads the interface
itself when one of its possible types is refused; the whole operation when its root
type is. A field, inline fragment or named fragment whose whole selection went goes too,
silently (its null says so; the errors are at what was removed under it). `__typename`
and introspection are never removed, and fields the planner adds itself (keys,
`@requires`) are not the client's.

Each removal is reported at its place (see `walk.py` for the path's form): the
@authenticated removals first, then @requiresScopes', then @policy's, each in document
order, as Apollo Router's three filters add them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from graphql import DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLSchema

from router.astnodes import copy_node
from router.authorization.access import Access
from router.authorization.requirement import Requirement
from router.authorization.rules import AuthorizationRules
from router.authorization.walk import NEVER_REMOVED, DocumentWalk, Path, Result, report
from router.operation import Field, Operation, SelectionSet, normalize

UNAUTHORIZED_MESSAGE = "Unauthorized field or type"
UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"

# the requirements a request fails, each with the directive refusing it (BY_*)
Refused = Mapping[Requirement, int]


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
    """Where things were removed from an operation, and the operation without them
    (normalized on first use: the router does that on its planner thread)."""

    paths: tuple[Path, ...]
    build: Callable[[], Operation] = field(repr=False, compare=False)

    @cached_property
    def operation(self) -> Operation:
        """The operation without what the request may not see."""
        return self.build()

    def withheld(self, original: Operation) -> frozenset[int]:
        """The ids of `original`'s fields this restriction removed: the response answers
        them null even when the plan fetches their values anyway (a key or a @requires
        field the planner selects for itself)."""
        out: list[int] = []
        _withheld(original.selection, self.operation.selection, out)
        return frozenset(out)


def _withheld(original: SelectionSet, kept: SelectionSet | None, out: list[int]) -> None:
    """Collect the ids of `original`'s fields with no counterpart in `kept` (the same
    position after the restriction); recursive along the operation, which is a tree
    already bounded by the operation limits."""
    groups = list(original.by_type.items())
    if original.uniform is not None:
        groups.append(("", original.uniform))
    for type_name, fields in groups:
        counterparts = {f.response_key: f for f in _kept_fields(kept, type_name)}
        for field_ in fields:
            twin = counterparts.get(field_.response_key)
            if twin is None:
                if not field_.is_typename:
                    out.append(id(field_))
            elif field_.selection is not None:
                _withheld(field_.selection, twin.selection, out)


def _kept_fields(kept: SelectionSet | None, type_name: str) -> tuple[Field, ...]:
    """The fields `kept` has for objects of `type_name` ("": whatever the type)."""
    if kept is None:
        return ()
    if type_name and type_name in kept.by_type:
        return kept.by_type[type_name]
    return kept.uniform or ()


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
    document: DocumentNode,
) -> OperationChecks | None:
    """The requirements met in `operation` (normalized from `document`); None when it
    meets none (nothing to check)."""
    if not rules:
        return None
    walk = DocumentWalk(schema, rules, _fragments(document), None)
    _walk_operation(walk, operation)
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
    document: DocumentNode,
    dry_run: bool = False,
) -> Restriction:
    """`operation` (normalized from `document`) without every element whose requirement
    is in `refused`. With `dry_run` nothing is removed, and the paths say what would be,
    including what lies under a refused element (as Apollo Router's dry run reports)."""
    walk = DocumentWalk(schema, rules, _fragments(document), refused, dry_run)
    selection_set, removals = _walk_operation(walk, operation)
    ordered = sorted(removals, key=lambda removal: removal[1])  # stable: document order
    paths = tuple(report(path) for path, _ in ordered)
    if dry_run or not removals:
        return Restriction(paths, lambda: operation)
    return Restriction(
        paths, lambda: _restricted(operation, schema, document, walk, selection_set)
    )


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }


def _walk_operation(walk: DocumentWalk, operation: Operation) -> Result:
    """The operation's selection set walked; a refused root type refuses it all, once."""
    selection_set = operation.definition.selection_set
    root = walk.schema.get_type(operation.root_type)
    assert root is not None, "normalized against this schema"
    by = walk.refusal(walk.rules.of_type(root.name))
    if by is None or walk.dry_run:
        new, found = walk.selections(selection_set, root)
        return new, ([((), by)] if by is not None else []) + found
    kept = tuple(
        s
        for s in selection_set.selections
        if isinstance(s, FieldNode) and s.name.value in NEVER_REMOVED
    )
    return (copy_node(selection_set, selections=kept) if kept else None), [((), by)]


def _restricted(
    operation: Operation,
    schema: GraphQLSchema,
    document: DocumentNode,
    walk: DocumentWalk,
    selection_set: Any,
) -> Operation:
    """The operation normalized again from what the walk left of it."""
    if selection_set is None:  # nothing is left to ask for
        emptied = replace(operation.selection, by_type={operation.root_type: ()}, uniform=None)
        return replace(operation, selection=emptied)
    definitions: list[Any] = [copy_node(operation.definition, selection_set=selection_set)]
    for name, fragment in walk.fragments.items():
        fragment_set = walk.named[name][0] if name in walk.named else fragment.selection_set
        if fragment_set is not None:  # walked and emptied: no spread reaches it any more
            definitions.append(copy_node(fragment, selection_set=fragment_set))
    restricted = copy_node(document, definitions=tuple(definitions))
    return normalize(schema, restricted, operation.name)
