"""Names vulture cannot see being used: frameworks call or read them by name.

Read by tests/test_dead_code.py (vulture treats every name here as used). Each entry
says who uses it; anything else vulture reports is dead code to delete.
"""
# ruff: noqa: B018, F821

# router.server.workers imports the worker factory by its "module:attribute" string
# (--workers); uvicorn's server loop reads the flag a worker sets when its supervisor is gone
_.worker_app
_.should_exit
# httptools calls the parser callbacks by name; uvicorn reads its cycle's flag
_.on_body
_.disconnected
# graphql-core's Visitor dispatches enter_<node kind> by name
_.enter_variable
_.enter_argument
_.enter_directive
_.enter_field
_.enter_fragment_spread
_.leave_fragment_spread
_.enter_inline_fragment
_.leave_inline_fragment
graphql_type.resolve_type
# hypercorn's Config attributes, set for the subgraph servers
_.accesslog
_.graceful_timeout
# Strawberry: fields of GraphQL types (the schema reads them) and an overridden resolver
_.entities_resolver
_.user_errors
_.has_next_page
_.has_previous_page
_.start_cursor
_.end_cursor
_.page_info
_.line_total
_.applied_promotions
_.total_quantity
_.deleted_product_id
_.USD
_.EUR
_.GBP
# products' folded texts: written by the app, read by PostgreSQL's generated search_vector
_.name_folded
_.description_folded
# bench: result records written out as JSON (dataclasses.asdict)
_.startup_s
_.wrk_rps
_.load_errors
_.cpu_utilisation
_.subgraph_fetches_per_request
_.subgraph_cpu_utilisation
# Quart calls the subgraphs' WebSocket route; SQLAlchemy calls live.py's session listeners
_.graphql_ws
_._after_commit
_._after_rollback
