"""Satisfiability: every field of the API schema can be fetched wherever a query reaches it.

A query that reaches type T through subgraph S can use the fields S resolves
(plus what a `@provides` on the way provides), and can jump by entity key to any
subgraph whose key on T it can fill. We walk the states (type, subgraph,
provided) reachable from the root fields and report each field that no subgraph
reachable from a state resolves: the common unsatisfiable cases (a type without
a key that S can use, `resolvable: false` everywhere, a field only behind a key
nobody else can provide).
"""

from __future__ import annotations

from collections import deque

from router.federation.fieldset import FieldSetError, Selection, parse_field_set
from router.federation.typeref import named_type

from .composed import ComposedField, ComposedSupergraph, ComposedType
from .errors import Report

Provided = tuple[Selection, ...]


class _Graph:
    def __init__(self, sg: ComposedSupergraph) -> None:
        self.sg = sg
        self.defined: dict[str, set[str]] = {
            t.name: {j.graph for j in t.join_types} for t in sg.types.values()
        }

    def resolvers(self, t: ComposedType, f: ComposedField) -> set[str]:
        """Graphs that resolve `t.f` themselves (not external, not overridden away)."""
        if not f.join_fields:
            return set(self.defined[t.name])
        out = set()
        for j in f.join_fields:
            if j.graph is None:
                out |= self.interface_object_resolvers(t, f.name)
            elif not j.external and not j.used_overridden:
                out.add(j.graph)
        return out

    def interface_object_resolvers(self, t: ComposedType, field: str) -> set[str]:
        """Graphs resolving `t.field` through an @interfaceObject of an interface of `t`."""
        out = set()
        for itf_name in t.interfaces:
            itf = self.sg.types.get(itf_name)
            if itf is None or field not in itf.fields:
                continue
            object_graphs = {j.graph for j in itf.join_types if j.interface_object}
            out |= object_graphs & self.resolvers(itf, itf.fields[field])
        return out

    def field_type(self, f: ComposedField, graph: str) -> str:
        """The named type of `f` in `graph` (its @join__field type where they differ)."""
        for j in f.join_fields:
            if j.graph == graph and j.type:
                return named_type(j.type)
        return named_type(f.type)

    def locally(self, t: ComposedType, name: str, graph: str, provided: Provided) -> bool:
        """Whether `graph` can answer `t.name` itself, or a @provides on the way makes it."""
        f = t.fields.get(name)
        if f is None:
            return name == "__typename"
        if graph in self.resolvers(t, f):
            return True
        return any(sel.name == name for sel in _flatten(provided, t.name, self.sg))

    def closure(self, t: ComposedType, graph: str, provided: Provided) -> set[str]:
        """Graphs reachable from `graph` at type t by entity-key jumps."""
        reached = {graph}
        keys = [(j.graph, j.key) for j in t.join_types
                if j.key is not None and j.resolvable is not False]
        for itf_name in t.interfaces:  # an @interfaceObject is reachable by its key too
            itf = self.sg.types.get(itf_name)
            if itf is not None:
                keys += [(j.graph, j.key) for j in itf.join_types if j.interface_object
                         and j.key is not None and j.resolvable is not False]
        changed = True
        while changed:
            changed = False
            for target, key in keys:
                if target in reached:
                    continue
                try:
                    names = [s.name for s in _flatten(parse_field_set(key), t.name, self.sg)]
                except FieldSetError:
                    continue
                if all(
                    any(self.locally(t, n, g, provided if g == graph else ()) for g in reached)
                    for n in names
                ):
                    reached.add(target)
                    changed = True
        return reached


def _flatten(selections: Provided, type_name: str, sg: ComposedSupergraph) -> list[Selection]:
    out: list[Selection] = []
    for sel in selections:
        if sel.name:
            out.append(sel)
        elif sel.type_condition in (None, type_name) or type_name in sg.possible_types(
            sel.type_condition or ""
        ):
            out.extend(_flatten(sel.children, type_name, sg))
    return out


Option = tuple[str, Provided]  # (graph, what a @provides on the way makes local)
_Reach = tuple[str, Provided, set[str]]  # an option and the graphs its key jumps reach


def check_satisfiability(sg: ComposedSupergraph, report: Report) -> None:
    """Report each API field no subgraph reachable along some query path can resolve."""
    _Walk(sg, report).run()


class _Walk:
    """Breadth-first over states (type, options) from the root fields; each unresolvable
    field is reported once, with the first query path that reached it."""

    def __init__(self, sg: ComposedSupergraph, report: Report) -> None:
        self.sg = sg
        self.report = report
        self.graph = _Graph(sg)
        self.seen: set[tuple[str, frozenset[Option]]] = set()
        self.queue: deque[tuple[str, frozenset[Option], str]] = deque()
        self.reported: set[str] = set()

    def run(self) -> None:
        """Walk every state reachable from the root fields."""
        for kind, root in self.sg.roots.items():
            self._start(kind, self.sg.types[root])
        while self.queue:
            self._expand(*self.queue.popleft())

    def _start(self, kind: str, t: ComposedType) -> None:
        """Queue the types of a root type's fields, from each subgraph resolving them."""
        for f in t.fields.values():
            if f.inaccessible:
                continue
            by_type: dict[str, set[Option]] = {}
            for g in self.graph.resolvers(t, f):
                by_type.setdefault(self.graph.field_type(f, g), set()).add((g, _provides(f, g)))
            for type_name, options in by_type.items():
                self._visit(type_name, frozenset(options), f"{kind} {{ {f.name}")

    def _visit(self, type_name: str, options: frozenset[Option], path: str) -> None:
        """Queues a type reached with alternative (subgraph, provided) options."""
        t = self.sg.types.get(type_name)
        if t is None or t.inaccessible or not options:
            return
        if t.kind in ("INTERFACE", "UNION"):
            self._visit_implementations(t, options, path)
            if t.kind == "UNION":
                return
        state = (type_name, options)
        if state not in self.seen:
            self.seen.add(state)
            self.queue.append((type_name, options, path))

    def _visit_implementations(
        self, t: ComposedType, options: frozenset[Option], path: str
    ) -> None:
        """Each possible type of an abstract one, from the subgraphs that know it is one."""
        concrete: set[Option] = set()
        for g, p in options:
            if any(j.graph == g and j.interface_object for j in t.join_types):
                # An @interfaceObject cannot tell the concrete type: jump by key to a
                # subgraph that has the real interface.
                concrete |= {(r, ()) for r in self.graph.closure(t, g, p) if not any(
                    j.graph == r and j.interface_object for j in t.join_types)}
            else:
                concrete.add((g, p))
        for impl in self.sg.possible_types(t.name):
            impl_type = self.sg.types[impl]
            narrowed = frozenset(
                (g, p) for g, p in concrete
                if (t.kind == "UNION" and (g, impl) in t.join_members)
                or (t.kind == "INTERFACE" and (g, t.name) in impl_type.join_implements))
            self._visit(impl, narrowed, f"{path} ... on {impl}")

    def _expand(self, type_name: str, options: frozenset[Option], path: str) -> None:
        """Check every field of a queued state and queue the states its fields lead to."""
        t = self.sg.types[type_name]
        reaches = [(g, p, self.graph.closure(t, g, p)) for g, p in sorted(options)]
        for f in t.fields.values():
            if f.inaccessible:
                continue
            resolvers = self.graph.resolvers(t, f)
            next_options, blocked_by_requires = self._next_options(t, f, resolvers, reaches)
            if not next_options:
                self._unsatisfied(t, f, resolvers, reaches, path, blocked_by_requires)
                continue
            for child_type, child_options in next_options.items():
                if child_type in self.sg.types:
                    self._visit(child_type, frozenset(child_options), f"{path} {{ {f.name}")

    def _next_options(
        self, t: ComposedType, f: ComposedField, resolvers: set[str], reaches: list[_Reach]
    ) -> tuple[dict[str, set[Option]], bool]:
        """The options `t.f` leads to, by the field's type in each subgraph, and whether a
        reachable resolver was refused because its @requires cannot be met from there."""
        next_options: dict[str, set[Option]] = {}
        blocked_by_requires = False
        for g, provided, reach in reaches:
            for r in sorted(reach):
                if r in resolvers:
                    sub = _sub_provided(provided, f.name, t.name, self.sg) if r == g else ()
                    sub = sub or _provides(f, r)
                    join = next((j for j in f.join_fields if j.graph == r and j.requires), None)
                    if join is not None and not _requires_ok(self.graph, t, join.requires or "",
                                                             reach):
                        blocked_by_requires = True
                        continue
                    next_options.setdefault(self.graph.field_type(f, r), set()).add((r, sub))
                elif r == g and self.graph.locally(t, f.name, g, provided):
                    sub = _sub_provided(provided, f.name, t.name, self.sg)
                    next_options.setdefault(named_type(f.type), set()).add((r, sub))
        return next_options, blocked_by_requires

    def _unsatisfied(
        self,
        t: ComposedType,
        f: ComposedField,
        resolvers: set[str],
        reaches: list[_Reach],
        path: str,
        blocked_by_requires: bool,
    ) -> None:
        if t.kind == "INTERFACE" and not any(
                any(j.graph == g and j.interface_object for j in t.join_types)
                for g, _, _ in reaches):
            return  # asked on the interface: each implementation answers for itself
        coordinate = f"{t.name}.{f.name}"
        if coordinate not in self.reported:
            self.reported.add(coordinate)
            g = reaches[0][0]
            _report(self.sg, self.report, coordinate, g, path, f.name, resolvers,
                    blocked_by_requires)


def _provides(f: ComposedField, g: str) -> Provided:
    for j in f.join_fields:
        if j.graph == g and j.provides:
            try:
                return parse_field_set(j.provides)
            except FieldSetError:
                return ()
    return ()


def _sub_provided(
    provided: Provided, name: str, type_name: str, sg: ComposedSupergraph
) -> Provided:
    for sel in _flatten(provided, type_name, sg):
        if sel.name == name and sel.children:
            return sel.children
    return ()


def _requires_ok(graph: _Graph, t: ComposedType, requires: str, reach: set[str]) -> bool:
    try:
        selections = _flatten(parse_field_set(requires), t.name, graph.sg)
    except FieldSetError:
        return True
    return all(
        sel.name not in t.fields or graph.resolvers(t, t.fields[sel.name]) & reach
        for sel in selections)


def _report(sg: ComposedSupergraph, report: Report, coordinate: str, g: str, path: str, field: str,
            resolvers: set[str], blocked_by_requires: bool) -> None:
    name = sg.graph_name(g)
    query = f"{path} {{ {field} }}" + " }" * path.count("{")
    where = ", ".join(f'"{sg.graph_name(r)}"' for r in sorted(resolvers)) or "no subgraph"
    reason = ("its @requires cannot be satisfied from there" if blocked_by_requires else
              f'it is resolved by {where}, and no key of the type lets the query jump there')
    report.error(
        "SATISFIABILITY_ERROR",
        f"The following supergraph API query:\n{query}\ncannot be satisfied by the subgraphs "
        f'because from subgraph "{name}": cannot find field "{coordinate}" ({reason}).',
        (name,), coordinate)
