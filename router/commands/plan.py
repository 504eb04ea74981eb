"""`shopgraph plan`: print the query plan of an operation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "print the query plan for an operation against a supergraph"


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--supergraph", required=True, help="supergraph SDL file")
    parser.add_argument("query_file", help="file with the operation ('-' for stdin)")
    parser.add_argument("--operation-name", help="operation to plan when the file has several")
    parser.add_argument(
        "--stage",
        choices=("normalize", "plan"),
        default="plan",
        help="what to print: the normalized operation or the query plan (default)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the plan (or the normalized operation); 1 when it cannot be made."""
    from router.core import RequestError, Router
    from router.operation import print_operation
    from router.supergraph import SupergraphError, load_supergraph

    try:
        supergraph = load_supergraph(Path(args.supergraph).read_text())
        query = sys.stdin.read() if args.query_file == "-" else Path(args.query_file).read_text()
    except (OSError, SupergraphError) as error:
        print(f"shopgraph plan: {error}", file=sys.stderr)
        return 1
    router = Router(supergraph)
    try:
        prepared = router.prepare(query, args.operation_name)
        if args.stage == "normalize":
            print(print_operation(prepared.operation))
        else:
            print(prepared.plan)
    except RequestError as error:
        for item in error.errors:
            print(f"shopgraph plan: {item['message']}", file=sys.stderr)
        return 1
    return 0
