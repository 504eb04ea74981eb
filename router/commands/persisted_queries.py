"""`shopgraph persisted-queries`: an Apollo persisted query manifest from .graphql files.

Every named operation of every `.graphql` file under the folder becomes one entry:
its body is the operation printed with the fragments it spreads (graphql-core's
printer, fragments by name), its id the sha256 of that body. The router's safelist
compares request texts with these bodies exactly, so clients send the body as is.
Anonymous operations, duplicate operation or fragment names, unknown fragments and
unparsable files are refused with the file they are in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    print_ast,
)

from router.persisted_queries import MANIFEST_FORMAT, MANIFEST_VERSION, sha256_hex

HELP = "write an Apollo persisted query manifest from a folder of .graphql operations"


class ManifestError(Exception):
    """The operations cannot make a manifest (the message says which file and why)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument("folder", type=Path, help="folder searched for .graphql files")
    parser.add_argument("-o", "--output", type=Path, help="manifest file (default: stdout)")


def _spreads(node: OperationDefinitionNode | FragmentDefinitionNode) -> list[str]:
    """The fragment names a definition spreads (walked with a stack, not recursion)."""
    names: list[str] = []
    stack = [node.selection_set]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return names


def _read(folder: Path) -> tuple[list[tuple[Path, OperationDefinitionNode]], dict[str, Any]]:
    """The named operations (with their files) and the fragments by name of `folder`."""
    operations: list[tuple[Path, OperationDefinitionNode]] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    seen: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.graphql")):
        try:
            document = parse(path.read_text())
        except (OSError, GraphQLError) as error:
            raise ManifestError(f"{path}: {error}") from error
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in fragments:
                    raise ManifestError(f"{path}: fragment {name} is defined twice")
                fragments[name] = definition
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise ManifestError(f"{path}: anonymous operation: give every operation a name")
                name = definition.name.value
                if name in seen:
                    raise ManifestError(f"{path}: operation {name} is also in {seen[name]}")
                seen[name] = path
                operations.append((path, definition))
    return operations, fragments


def _body(path: Path, operation: OperationDefinitionNode, fragments: dict[str, Any]) -> str:
    """The operation printed with every fragment it needs, fragments sorted by name."""
    needed: dict[str, FragmentDefinitionNode] = {}
    pending = _spreads(operation)
    while pending:  # iterative: fragment cycles end because each is taken once
        name = pending.pop()
        if name in needed:
            continue
        if name not in fragments:
            raise ManifestError(f"{path}: unknown fragment {name}")
        needed[name] = fragments[name]
        pending.extend(_spreads(fragments[name]))
    definitions = [operation, *(needed[n] for n in sorted(needed))]
    return print_ast(DocumentNode(definitions=tuple(definitions)))


def build_manifest(folder: Path) -> dict[str, Any]:
    """The manifest (as JSON data) of the operations under `folder`; ManifestError."""
    if not folder.is_dir():
        raise ManifestError(f"{folder}: not a folder")
    operations, fragments = _read(folder)
    if not operations:
        raise ManifestError(f"{folder}: no named operations in any .graphql file")
    entries = []
    for path, operation in operations:
        body = _body(path, operation, fragments)
        entries.append(
            {
                "id": sha256_hex(body),
                "name": operation.name.value if operation.name else "",
                "type": operation.operation.value,
                "body": body,
            }
        )
    entries.sort(key=lambda entry: entry["name"])
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "operations": entries}


def run(args: argparse.Namespace) -> int:
    """Write the manifest; 1 with the reason on stderr when it cannot be made."""
    try:
        manifest = build_manifest(args.folder)
    except ManifestError as error:
        print(f"shopgraph persisted-queries: {error}", file=sys.stderr)
        return 1
    text = orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    if args.output is None:
        sys.stdout.write(text.decode())
    else:
        args.output.write_bytes(text)
        print(f"wrote {len(manifest['operations'])} operations to {args.output}")
    return 0
