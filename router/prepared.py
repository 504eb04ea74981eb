"""The prepared operation: everything the router derives once from one operation (its
document, normalized form, plan, response shape), shared across requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode

from router.authorization.filter import OperationChecks
from router.executor.shape import ResponseShape
from router.operation import Operation
from router.planner.nodes import QueryPlan

# (query text, operation name, the progressive-override labels rolled for the request):
# the labels choose between plans, so each outcome is planned and cached on its own
CacheKey = tuple[str, str | None, frozenset[str]]


@dataclass(frozen=True)
class PreparedOperation:
    """Everything derived from one `CacheKey`; shared across requests."""

    document: DocumentNode
    operation: Operation
    plan: QueryPlan
    shape: ResponseShape
    introspection_document: DocumentNode | None
    # (data, errors) of the introspection fields, answered once when no variable can
    # change them: introspection is costly and would otherwise run on every request
    introspection: tuple[dict[str, Any], tuple[dict[str, Any], ...]] | None = None
    weight: int = 1  # its estimated size in bytes: its share of the cache
    key: CacheKey | None = None  # what it was prepared from
    # the authorization requirements met in the operation (None: it meets none)
    checks: OperationChecks | None = None
    # a variant for requests lacking some of them: the errors saying what was removed
    # (its plan leaves out what they may not see; its shape still has every field and
    # answers the removed ones null, even a key the plan fetches for itself)
    unauthorized: tuple[dict[str, Any], ...] = ()
    # `reject_unauthorized` refused it as a whole: answered with those errors and
    # `"data": null`, nothing executed (as Apollo Router answers)
    rejected: bool = False
