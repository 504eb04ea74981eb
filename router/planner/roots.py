"""Which subgraph answers each root field of an operation."""

from __future__ import annotations

from dataclasses import replace

from router.operation import Field
from router.planner.costs import INF, PlanningError, SubgraphCosts, count_fields
from router.planner.groups import Group


def with_excluded(f: Field) -> Field:
    """`f` with the fields @skip/@include literals excluded put back, at every depth
    (`f` itself when there are none)."""
    selection = f.selection
    if selection is None:
        return f
    changed = bool(selection.excluded)
    by_type: dict[str, tuple[Field, ...]] = {}
    for type_name, fields in selection.by_type.items():
        inner = tuple(with_excluded(g) for g in fields)
        changed = changed or any(a is not b for a, b in zip(inner, fields, strict=True))
        by_type[type_name] = inner + selection.excluded.get(type_name, ())
    if not changed:
        return f
    uniform = selection.uniform
    if uniform is not None:
        # no type conditions: the excluded fields are the same for every type
        extra = next(iter(selection.excluded.values()), ())
        uniform = tuple(with_excluded(g) for g in uniform) + extra
    return replace(f, selection=replace(selection, by_type=by_type, uniform=uniform))


class RootChoice:
    """Chooses the subgraph for each root field of one operation (`kind` on the root type
    `root`): the one that answers it best, then one already asked, then the choice of
    most of the other root fields. Built per plan: it memoises each field's ranks."""

    def __init__(self, costs: SubgraphCosts, root: str, kind: str, fields: list[Field]) -> None:
        self.costs = costs
        self.root = root
        self.kind = kind
        self._ranks: dict[Field, dict[str, tuple[int, ...]]] = {}
        # a mutation's fields run in order, each where it is best: no votes
        self._votes = self._count_votes(fields) if kind != "mutation" else None

    def choose(self, f: Field, existing: list[Group]) -> str:
        """The subgraph for the root field `f`, given the root fetches `existing` so far."""
        ranks = self._ranks_of(f)
        used = {g.subgraph for g in existing}
        if self.kind == "mutation" and existing:
            used = {existing[-1].subgraph}
        votes = self._votes or {}
        graph_order = self.costs.graph_order

        def rank(graph: str) -> tuple[int, ...]:
            """Lower is preferred: the field's own rank, then a subgraph already asked,
            then the most root fields' choice, then the supergraph's order."""
            return (
                *ranks[graph],
                0 if graph in used else 1,
                -votes.get(graph, 0),
                graph_order.get(graph, 0),
            )

        return min(ranks, key=rank)

    def _ranks_of(self, f: Field) -> dict[str, tuple[int, ...]]:
        """How well each subgraph that has the root field answers it (lower is better)."""
        ranks = self._ranks.get(f)  # fields hash by identity
        if ranks is None:
            ranks = self._ranks[f] = self._compute_ranks(f)
        return ranks

    def _compute_ranks(self, f: Field) -> dict[str, tuple[int, ...]]:
        costs, root = self.costs, self.root
        fdef = costs.sg.field(root, f.name)
        if fdef is None:
            raise PlanningError(f"unknown root field {root}.{f.name}")
        candidates = fdef.resolvable_with(costs.labels)
        if not candidates:
            raise PlanningError(f"no subgraph resolves {root}.{f.name}")
        whole = with_excluded(f)
        ranks: dict[str, tuple[int, ...]] = {}
        for graph in candidates:
            cost = costs.field_cost(graph, root, f, None)
            covered = 0
            if cost >= INF:  # how much of the selection it could answer
                here, _ = costs.split_field(graph, root, f, None, deep=True)
                covered = count_fields(here.selection) if here and here.selection else 0
            ranks[graph] = (
                cost >= INF,
                self._unreachable_types(graph, f),
                cost,
                # between equals, as the reference planners choose: with the fields an
                # @skip/@include literal excludes still in the selection
                cost if whole is f else costs.field_cost(graph, root, whole, None),
                -covered,
            )
        return ranks

    def _count_votes(self, fields: list[Field]) -> dict[str, int]:
        """For each subgraph, how many of the root fields it answers best: between equals,
        a field goes where the others go, so they share one fetch."""
        votes: dict[str, int] = {}
        for f in fields:
            ranks = self._ranks_of(f)
            best = min(ranks.values())
            for graph, rank in ranks.items():
                if rank == best:
                    votes[graph] = votes.get(graph, 0) + 1
        return votes

    def _unreachable_types(self, graph: str, f: Field) -> int:
        """Concrete types the query asks fields of that `graph` can never return here
        (a shared `node(id:)` whose subgraphs each know their own types)."""
        if f.selection is None:
            return 0
        costs = self.costs
        possible = costs.possible(graph, costs.child_type(graph, self.root, f.name))
        return sum(
            1
            for type_name, fields in f.selection.by_type.items()
            if type_name not in possible and any(not g.is_typename for g in fields)
        )
