"""shopgraph's Federation v2 router: supergraph -> planner -> executor -> http."""
