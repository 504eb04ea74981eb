"""The authorization variants of prepared operations: what a request may run.

A prepared operation meeting authorization requirements runs, for a request failing
some of them, as a variant: the same response shape (what was removed answered null,
even where the plan fetches it for itself as a key), a plan without what the request
may not see, and the errors saying what was removed (with `reject_unauthorized`, only
the errors; with `dry_run`, the full plan and the errors). Variants are cached per
(operation, set of failed requirements): per outcome of the check, never per user,
bounded apart from the plan cache. The walk that restricts an operation is linear and
runs where it is asked for; planning the restricted operation is the planner's work,
done on the planning queue's thread for the event loop, once however many requests
ask for the same variant meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from graphql import DocumentNode, GraphQLSchema

from router.authorization.access import Access
from router.authorization.filter import (
    OperationChecks,
    Restriction,
    check_operation,
    restrict_operation,
    unauthorized_error,
)
from router.authorization.requirement import Requirement
from router.authorization.rules import AuthorizationRules
from router.config import AuthorizationDirectivesConfig
from router.executor.shape import abstract_names, compile_shape
from router.lru import LruCache
from router.operation import Operation
from router.planner.nodes import QueryPlan
from router.planning_queue import PlanningQueue
from router.prepared import CacheKey, PreparedOperation

# the requirements a request fails, each with the directive refusing it (which orders
# the errors): one authorization outcome
Refused = frozenset[tuple[Requirement, int]]
# a prepared operation and one outcome: what a variant is cached by
VariantKey = tuple[CacheKey, Refused]
# plans a restriction's operation (normalizing it first: `Restriction.operation`) with
# the given override labels, under the planner's budget; RequestError if it cannot
PlanRestricted = Callable[[Restriction, frozenset[str]], QueryPlan]
# a restriction still to plan, with the errors saying what it removed
_ToPlan = tuple[Restriction, tuple[dict[str, Any], ...]]


class Variants:
    """The variants of one router's prepared operations for the requests that fail some
    of their authorization requirements (see the module's docstring)."""

    def __init__(
        self,
        rules: AuthorizationRules,
        schema: GraphQLSchema,
        directives: AuthorizationDirectivesConfig,
        plan: PlanRestricted,
        queue: PlanningQueue,
        max_entries: int,
        max_bytes: int,
    ) -> None:
        """`rules` and `schema`: the supergraph's authorization rules and API schema;
        `plan`: the router's planner (called on `queue`'s thread from `authorize_async`);
        at most `max_entries` variants are kept, weighing `max_bytes` together."""
        self.rules = rules
        self.schema = schema
        self.directives = directives
        self._abstract = abstract_names(schema)
        self._plan = plan
        self._queue = queue
        self._cache: LruCache[VariantKey, PreparedOperation] = LruCache(max_entries, max_bytes)
        self._pending: dict[VariantKey, asyncio.Future[PreparedOperation]] = {}

    def __len__(self) -> int:
        """How many variants are cached."""
        return len(self._cache)

    def checks(self, operation: Operation, document: DocumentNode) -> OperationChecks | None:
        """The requirements `operation` (parsed from `document`) meets, to keep with its
        plan (None: none, or the directives are not enforced)."""
        if not self.directives.enabled:
            return None
        return check_operation(operation, self.rules, self.schema, document)

    def authorize(self, prepared: PreparedOperation, access: Access) -> PreparedOperation:
        """`prepared` as a request with `access` may run it: itself when it may see
        everything, else its variant for the requirements it fails (planned here, on the
        calling thread, when not cached)."""
        key = self._key(prepared, access)
        if key is None:
            return prepared
        variant = self._cache.get(key)
        if variant is None:
            restricted = self._restrict(prepared, key[1])
            if isinstance(restricted, PreparedOperation):
                variant = restricted
            else:
                variant = self._planned(prepared, *restricted)
            self._cache.put(key, variant, variant.weight)
        return variant

    async def authorize_async(
        self, prepared: PreparedOperation, access: Access
    ) -> PreparedOperation:
        """`authorize` for the event loop: a variant that needs planning is planned on the
        planning queue's thread, once however many requests ask for it meanwhile;
        RequestError (503) when the queue is full or the wait too long."""
        key = self._key(prepared, access)
        if key is None:
            return prepared
        variant = self._cache.get(key)
        if variant is not None:
            return variant
        pending = self._pending.get(key)
        if pending is None:
            restricted = self._restrict(prepared, key[1])  # a linear walk: done here
            if isinstance(restricted, PreparedOperation):
                self._cache.put(key, restricted, restricted.weight)
                return restricted
            pending = self._queue.start(len(key[0][0]), self._planned, prepared, *restricted)
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settle(key, done))
        return await self._queue.wait(pending)

    def _key(self, prepared: PreparedOperation, access: Access) -> VariantKey | None:
        """What the variant for `access` is cached by; None when it fails nothing."""
        checks = prepared.checks
        if checks is None:
            return None
        assert prepared.key is not None, "prepared with checks, so with its key"
        refused = checks.refused(access)
        return (prepared.key, refused) if refused else None

    def _settle(self, key: VariantKey, done: asyncio.Future[PreparedOperation]) -> None:
        """Keep a variant planned on the queue's thread (unless that failed)."""
        self._pending.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            variant = done.result()
            self._cache.put(key, variant, variant.weight)

    def _restrict(
        self, prepared: PreparedOperation, refused: Refused
    ) -> PreparedOperation | _ToPlan:
        """The variant of `prepared` for requests failing `refused` when it needs no
        planning (nothing removed, `dry_run`, or `reject_unauthorized`); else the
        restriction to plan for it, and its errors."""
        directives = self.directives
        restriction = restrict_operation(
            prepared.operation,
            self.rules,
            self.schema,
            dict(refused),
            prepared.document,
            directives.dry_run,
        )
        errors = tuple(unauthorized_error(path) for path in restriction.paths)
        if errors and directives.reject_unauthorized:
            return replace(prepared, unauthorized=errors, rejected=True)
        if not errors or directives.dry_run:
            return replace(prepared, unauthorized=errors)
        return restriction, errors

    def _planned(
        self,
        prepared: PreparedOperation,
        restriction: Restriction,
        errors: tuple[dict[str, Any], ...],
    ) -> PreparedOperation:
        """`prepared` with the plan of its restricted operation (normalized by `plan`, on
        the planner's thread) and the errors saying what was removed."""
        assert prepared.key is not None
        plan = self._plan(restriction, prepared.key[2])
        # the same response shape, but what was removed is null even where the plan
        # fetches it for itself (a key): never the value the request may not see
        withheld = restriction.withheld(prepared.operation)
        shape = compile_shape(prepared.operation, self._abstract, withheld)
        return replace(prepared, plan=plan, shape=shape, unauthorized=errors)
