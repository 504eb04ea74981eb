"""What every merged element shares: a description and applied directives (@tag, @inaccessible)."""

from __future__ import annotations

from collections import Counter

from router.federation.specs import TAG

from ..model import Subgraph
from .authorization import merge_authorization
from .context import MergeContext


def merge_description(
    ctx: MergeContext, descriptions: list[str | None], coordinate: str, subgraphs: list[str]
) -> str | None:
    """The one description, or the most common non-empty one (with a hint)."""
    present = [d for d in descriptions if d is not None]
    if not present:
        return None
    distinct = list(dict.fromkeys(present))
    if len(distinct) == 1:
        return distinct[0]
    non_empty = [d for d in distinct if d != ""]
    if len(non_empty) == 1:
        return non_empty[0]
    counts = Counter(d for d in present if d != "")
    best = max(non_empty, key=lambda d: counts[d])  # first among equals
    ctx.hint(
        "INCONSISTENT_DESCRIPTION",
        f'Element "{coordinate}" has inconsistent descriptions across subgraphs.',
        subgraphs,
        coordinate,
    )
    return best


def merge_applied(
    ctx: MergeContext, dest, sources: list[tuple[Subgraph, object]], coordinate: str | None = None
) -> None:
    """@inaccessible, then @tag, authorization, built-in and composed directives of an
    element, each directive's applications together, directives in the order the subgraphs
    first apply them (as Apollo prints them)."""
    if any(getattr(e, "inaccessible", False) for _, e in sources):
        dest.inaccessible = True
        ctx.out.uses_inaccessible = True
    tags: list[str] = []
    for _, e in sources:
        for tag in e.tags:
            if tag not in tags:
                tags.append(tag)
    if tags:
        ctx.out.uses_tag = True
    merged = _merge_directive_applications(ctx, sources)
    merged.update(merge_authorization(ctx, sources, coordinate or dest.name))
    if tags:
        merged[TAG] = [f'@tag(name: "{t}")' for t in tags]
    order = list(dict.fromkeys(name for _, e in sources for name in getattr(e, "applied", ())))
    order += [name for name in merged if name not in order]
    dest.directives = [*dest.directives, *(d for name in order for d in merged.get(name, ()))]


def _merge_directive_applications(
    ctx: MergeContext, sources: list[tuple[Subgraph, object]]
) -> dict[str, list[str]]:
    """By name: repeatable ones all (once each); a non-repeatable one as most often applied."""
    kept: dict[str, list[str]] = {}
    non_repeatable: dict[str, list[str]] = {}
    for _, e in sources:
        for printed in e.directives:
            name = printed[1:].split("(", 1)[0].strip()
            if ctx.is_repeatable(name):
                if printed not in kept.setdefault(name, []):
                    kept[name].append(printed)
            else:
                non_repeatable.setdefault(name, []).append(printed)
    for name, applications in non_repeatable.items():
        counts = Counter(applications)
        chosen = max(dict.fromkeys(applications), key=lambda a: counts[a])
        if len(counts) > 1:
            ctx.hint(
                "INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
                f"Non-repeatable directive @{name} is applied in multiple subgraphs "
                "but with incompatible arguments.",
            )
        kept[name] = [chosen]
    return kept
