"""Operation limits: depth, aliases, root fields and introspection, checked before execution.

The measurements are syntactic, so they are taken once per (query, operation
name) — the plan cache's key — and kept in a small LRU of their own.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from router.config import LimitsConfig

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class OperationShape:
    depth: int  # the deepest field, counting the root fields as 1
    aliases: int  # aliased fields, with fragments counted where they are spread
    root_fields: int
    introspection: bool  # selects __schema or __type


def measure(document: DocumentNode, operation: OperationDefinitionNode) -> OperationShape:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    memo: dict[str, tuple[int, int]] = {}

    def walk(selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth, aliases) below a selection set."""
        if selection_set is None:
            return 0, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below, inner = walk(selection.selection_set)
                depth = max(depth, 1 + below)
                aliases += inner + (1 if selection.alias is not None else 0)
            elif isinstance(selection, InlineFragmentNode):
                below, inner = walk(selection.selection_set)
                depth, aliases = max(depth, below), aliases + inner
            elif isinstance(selection, FragmentSpreadNode):
                below, inner = spread(selection.name.value)
                depth, aliases = max(depth, below), aliases + inner
        return depth, aliases

    def spread(name: str) -> tuple[int, int]:
        if name not in memo:
            memo[name] = (0, 0)  # validated documents have no cycles; this only guards
            fragment = fragments.get(name)
            memo[name] = walk(fragment.selection_set) if fragment else (0, 0)
        return memo[name]

    root: list[FieldNode] = []

    def roots(selection_set: SelectionSetNode, seen: frozenset[str]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                root.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                roots(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    roots(fragment.selection_set, seen | {name})

    roots(operation.selection_set, frozenset())
    depth, aliases = walk(operation.selection_set)
    return OperationShape(
        depth=depth,
        aliases=aliases,
        root_fields=len(root),
        introspection=any(f.name.value in INTROSPECTION_FIELDS for f in root),
    )


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


class OperationLimits:
    def __init__(self, config: LimitsConfig, cache_size: int = 1024) -> None:
        self.config = config
        self._cache: OrderedDict[tuple[str, str | None], OperationShape] = OrderedDict()
        self._cache_size = cache_size

    def shape(
        self,
        key: tuple[str, str | None],
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> OperationShape:
        shape = self._cache.get(key)
        if shape is None:
            shape = measure(document, operation)
            self._cache[key] = shape
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return shape

    def violations(self, shape: OperationShape) -> list[dict[str, Any]]:
        config = self.config
        errors: list[dict[str, Any]] = []
        if shape.introspection and not config.introspection:
            errors.append(
                _error("Introspection is disabled on this router.", "INTROSPECTION_DISABLED")
            )
        if config.max_depth and shape.depth > config.max_depth:
            errors.append(
                _error(
                    f"Maximum depth limit exceeded: the operation is {shape.depth} fields deep, "
                    f"the limit is {config.max_depth}.",
                    "MAX_DEPTH_LIMIT",
                )
            )
        if config.max_aliases and shape.aliases > config.max_aliases:
            errors.append(
                _error(
                    f"Maximum aliases limit exceeded: the operation has {shape.aliases} aliases, "
                    f"the limit is {config.max_aliases}.",
                    "MAX_ALIASES_LIMIT",
                )
            )
        if config.max_root_fields and shape.root_fields > config.max_root_fields:
            errors.append(
                _error(
                    f"Maximum root fields limit exceeded: the operation selects "
                    f"{shape.root_fields} root fields, the limit is {config.max_root_fields}.",
                    "MAX_ROOT_FIELDS_LIMIT",
                )
            )
        return errors

    def check(
        self,
        key: tuple[str, str | None],
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> list[dict[str, Any]]:
        return self.violations(self.shape(key, document, operation))
