"""Stage 3: plan a normalized operation across the subgraphs.

`QueryPlanner(supergraph).plan(operation)` gives a `QueryPlan` (nodes.py): plain
immutable Fetch / Flatten / Sequence / Parallel / Condition nodes that print as text.
"""

from router.planner.build import PlanningError, QueryPlanner
from router.planner.nodes import QueryPlan

__all__ = ["PlanningError", "QueryPlan", "QueryPlanner"]
