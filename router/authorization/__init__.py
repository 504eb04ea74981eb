"""Authorization directives (`@authenticated`, `@requiresScopes`, `@policy`): read from
the supergraph (`rules`), checked per request between normalization and planning
(`filter`, walking the client's document: `walk`), with the request's credentials
(`access`, `policy`); the variant a request runs, cached per outcome, is `variants`
(imported from there: it builds on the prepared operation, which builds on this)."""

from router.authorization.access import ANONYMOUS, Access, scopes_of
from router.authorization.filter import (
    UNAUTHORIZED_CODE,
    UNAUTHORIZED_MESSAGE,
    OperationChecks,
    Restriction,
    check_operation,
    restrict_operation,
    unauthorized_error,
)
from router.authorization.requirement import Requirement
from router.authorization.rules import AuthorizationRules, read_rules

__all__ = [
    "ANONYMOUS",
    "UNAUTHORIZED_CODE",
    "UNAUTHORIZED_MESSAGE",
    "Access",
    "AuthorizationRules",
    "OperationChecks",
    "Requirement",
    "Restriction",
    "check_operation",
    "read_rules",
    "restrict_operation",
    "scopes_of",
    "unauthorized_error",
]
