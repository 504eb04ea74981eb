"""The router's `shopgraph` sub-commands: `router`, `plan`, `compose`, `check`.

Each module exposes ``HELP`` (one line), ``configure(parser)`` to declare its
arguments and ``run(args) -> int`` returning the process exit code. Other
packages add commands with the same shape through the `shopgraph.commands`
entry-point group (see `router.cli`).
"""
