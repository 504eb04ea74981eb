"""One module per `shopgraph` sub-command.

Each module exposes ``HELP`` (one line), ``configure(parser)`` to declare its
arguments and ``run(args) -> int`` returning the process exit code.
"""
