"""@authenticated, @requiresScopes and @policy across subgraphs, merged as @apollo/composition does.

The supergraph links each authorization spec some subgraph applies (`for: SECURITY`) and
names its directive as the subgraphs do; they must agree (LINK_IMPORT_NAME_MISMATCH).
On one element, equal applications count once; different ones merge by the UNION of their
argument lists (each outer item an alternative: requirements only ever widen, in order of
first appearance, and a MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS hint says so). Nothing is
propagated between interfaces and implementations by the composition version we match
(2.11): each element keeps what its own subgraphs say.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from router.federation.specs import AUTHORIZATION_ARGUMENTS

from ..model import AuthApplication, AuthSource, Subgraph
from .context import MergeContext


def collect_spec_directives(ctx: MergeContext) -> None:
    """The merged spec directives in Apollo's link order, and the authorization directives'
    names in the supergraph (a mismatch between subgraphs is an error)."""
    out = ctx.out
    for sg in ctx.subgraphs:
        for spec in sg.spec_directives:
            if spec not in out.spec_directives:
                out.spec_directives.append(spec)
    for spec in AUTHORIZATION_ARGUMENTS:
        users = [(sg, sg.auth_sources[spec]) for sg in ctx.subgraphs if spec in sg.spec_directives]
        if not users:
            continue
        out.auth_names[spec] = users[0][1].local
        for identity in dict.fromkeys(source.identity for _, source in users):
            _check_names_agree(ctx, spec, [(sg, s) for sg, s in users if s.identity == identity])


def _check_names_agree(
    ctx: MergeContext, spec: str, users: list[tuple[Subgraph, AuthSource]]
) -> None:
    """LINK_IMPORT_NAME_MISMATCH, worded as Apollo's mismatch reporter words it."""
    first = users[0][1].local
    odd = next((source.local for _, source in users if source.local != first), None)
    if odd is None:
        return
    groups: dict[str, list[str]] = {}
    for sg, source in users:
        groups.setdefault(source.local, []).append(sg.name)
    order = [odd, *(name for name in groups if name != odd)]
    parts = [f'"@{name}" in {_subgraph_names(groups[name])}' for name in order]
    newest = max(users, key=lambda user: user[1].version)[1]
    ctx.error(
        "LINK_IMPORT_NAME_MISMATCH",
        f'The "@{spec}" directive (from {newest.url}) is imported with mismatched name '
        "between subgraphs: it is imported as "
        + parts[0]
        + " but "
        + " and ".join(parts[1:]),
        [sg.name for sg, _ in users],
        f"@{spec}",
    )


def _subgraph_names(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f"subgraph {quoted[0]}"
    return f"subgraphs {', '.join(quoted[:-1])} and {quoted[-1]}"


def merge_authorization(
    ctx: MergeContext, sources: Sequence[tuple[Subgraph, object]], coordinate: str
) -> dict[str, list[str]]:
    """The element's merged authorization directives, printed, by spec name."""
    merged: dict[str, list[str]] = {}
    for spec in AUTHORIZATION_ARGUMENTS:
        applications = [
            (sg, a)
            for sg, element in sources
            for a in getattr(element, "authorization", ())
            if a.spec == spec
        ]
        if applications:
            merged[spec] = [_merge_one(ctx, spec, applications, coordinate)]
    return merged


def _merge_one(
    ctx: MergeContext,
    spec: str,
    applications: list[tuple[Subgraph, AuthApplication]],
    coordinate: str,
) -> str:
    """One directive from its applications: the one there is, or the union of them all."""
    name = ctx.out.auth_names[spec]
    distinct: list[object] = []
    for _, application in applications:
        if not any(same_value(application.value, v) for v in distinct):
            distinct.append(application.value)
    if len(distinct) == 1:
        return print_application(name, spec, distinct[0])
    argument = AUTHORIZATION_ARGUMENTS[spec][0]  # type: ignore[index]
    ctx.hint(
        "MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
        f'Directive @{name} is applied to "{coordinate}" in multiple subgraphs with different '
        f'arguments. Merging strategies used by arguments: {{ "{argument}": UNION }}',
        list(dict.fromkeys(sg.name for sg, _ in applications)),
        coordinate,
    )
    return print_application(name, spec, union_values(distinct))


def union_values(values: list[object]) -> list[object]:
    """Apollo's UNION strategy: each value's items not already in the result, in order
    (duplicates within one value stay). A lone item counts as a one-item list, where Apollo
    fails outright."""
    result: list[object] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        result = result + [item for item in items if not any(same_value(item, r) for r in result)]
    return result


def same_value(a: object, b: object) -> bool:
    """Equality of literals as JavaScript values: 1 and 1.0 are equal, true and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def print_application(name: str, spec: str, value: object) -> str:
    """`@requiresScopes(scopes: [["a"]])` (`@authenticated` has no argument)."""
    argument = AUTHORIZATION_ARGUMENTS[spec]
    if argument is None:
        return f"@{name}"
    return f"@{name}({argument[0]}: {print_js_value(value)})"


def print_js_value(value: object) -> str:
    """A literal printed the way Apollo prints a custom scalar's value (strings as JSON)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, list):
        return "[" + ", ".join(print_js_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {print_js_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _js_number(value: float) -> str:
    """JavaScript's Number#toString for the floats a literal can hold: `1.0` -> `1`."""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text
