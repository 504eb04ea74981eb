"""Distinct, valid client operations over the synthetic supergraph, drawn from a seeded
random generator: 2-6 levels deep, crossing subgraphs wherever the fields lead,
with named fragments, aliases, arguments (literal or variables), inline fragments on
interfaces and unions, @include/@skip, a few mutations.

    python -m bench.synthetic.operations [--count 10000] [--seed 15]

writes bench/synthetic/cache/operations-SEED-COUNT.json (a JSON list of texts) and
prints its path; `load_operations` reads (or first writes) that file.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.pyutils import Undefined

from bench.synthetic.generate import SUPERGRAPH

CACHE = Path(__file__).resolve().parent / "cache"
SEED = 15
LITERALS = {
    "Int": lambda rng: str(rng.randint(1, 50)),
    "Float": lambda rng: f"{rng.randint(1, 99)}.5",
    "String": lambda rng: f'"{rng.choice(("red", "spring", "north", "A-12", "sale"))}"',
    "Boolean": lambda rng: rng.choice(("true", "false")),
    "ID": lambda rng: f'"{rng.randint(1, 10**6)}"',
    "DateTime": lambda rng: f'"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:00Z"',
}


@dataclass
class Draft:
    """One operation being written: its variables, fragments and size so far."""

    budget: int  # fields still to select
    max_depth: int
    variables: dict[str, str] = field(default_factory=dict)  # name -> type
    fragments: dict[str, str] = field(default_factory=dict)  # type -> fragment name
    fragment_texts: list[str] = field(default_factory=list)


class OperationWriter:
    """Writes operations over `schema` (the supergraph's API schema)."""

    def __init__(self, schema: GraphQLSchema, seed: int) -> None:
        self.schema = schema
        self.rng = random.Random(seed)

    def operation(self, index: int) -> str:
        """One operation's text (not yet checked for validity)."""
        rng = self.rng
        size = rng.choices((rng.randint(4, 20), rng.randint(20, 60), rng.randint(60, 150)),
                           (55, 35, 10))[0]
        draft = Draft(budget=size, max_depth=rng.randint(2, 6))
        root = self.schema.query_type
        kind = "query"
        if self.schema.mutation_type is not None and rng.random() < 0.04:
            root, kind = self.schema.mutation_type, "mutation"
        count = 1 if kind == "mutation" else rng.choice((1, 1, 1, 2, 2, 3))
        names = rng.sample(sorted(root.fields), count)
        body = [self.field(draft, root, name, 1) for name in names]
        name = names[0][0].upper() + names[0][1:] + f"Op{index}"
        header = f"{kind} {name}"
        if draft.variables:
            header += "(" + ", ".join(f"${v}: {t}" for v, t in draft.variables.items()) + ")"
        text = header + " {\n" + "\n".join(body) + "\n}\n"
        return text + "".join(draft.fragment_texts)

    # -- selections ---------------------------------------------------------------------

    def field(self, draft: Draft, parent: GraphQLObjectType | GraphQLInterfaceType,
              name: str, depth: int) -> str:
        """The selection of `parent.name`: alias, arguments, directives, sub-selection."""
        rng = self.rng
        definition = parent.fields[name]
        draft.budget -= 1
        head = name
        if rng.random() < 0.08:
            head = f"{name}{rng.choice(('Top', 'Main', 'First', 'Other'))}: {name}"
        args = self.arguments(draft, definition)
        if args:
            head += f"({args})"
        if rng.random() < 0.06:
            flag = f"{'show' if rng.random() < 0.6 else 'hide'}{len(draft.variables)}"
            draft.variables[flag] = "Boolean!"
            head += f" @{'include' if flag.startswith('show') else 'skip'}(if: ${flag})"
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            return head
        return head + " " + self.selection_set(draft, target, depth + 1)

    def selection_set(self, draft: Draft, t: object, depth: int) -> str:
        """`{ ... }` for composite type `t`; object types sometimes as a named fragment."""
        if isinstance(t, GraphQLUnionType):
            inner = ["__typename", *self.inline_fragments(draft, t.types, depth)]
        elif isinstance(t, GraphQLInterfaceType):
            inner = self.fields(draft, t, depth, at_most=3)
            inner += self.inline_fragments(draft, self.schema.get_possible_types(t), depth)
        elif t.name in draft.fragments and self.rng.random() < 0.7:
            inner = [f"...{draft.fragments[t.name]}"]  # a fragment reused, as clients do
        elif self.rng.random() < 0.2:
            name = f"{t.name}Parts{len(draft.fragment_texts)}"
            fields = "\n".join(self.fields(draft, t, depth))
            draft.fragments.setdefault(t.name, name)  # after: a fragment never spreads itself
            draft.fragment_texts.append(f"\nfragment {name} on {t.name} {{\n{fields}\n}}\n")
            inner = [f"...{name}"]
        else:
            inner = self.fields(draft, t, depth)
        return "{\n" + "\n".join(inner) + "\n}"

    def inline_fragments(self, draft: Draft, types: object, depth: int) -> list[str]:
        """`... on T { ... }` for one to three of the possible types."""
        chosen = self.rng.sample(list(types), min(len(types), self.rng.randint(1, 3)))
        return [f"... on {t.name} {{\n" + "\n".join(self.fields(draft, t, depth, at_most=4))
                + "\n}" for t in chosen]

    def fields(self, draft: Draft, t: GraphQLObjectType | GraphQLInterfaceType, depth: int,
               at_most: int = 8) -> list[str]:
        """Some fields of `t`: leaves, and composite ones while depth and budget last."""
        rng = self.rng
        leaves = [n for n, f in t.fields.items() if is_leaf_type(get_named_type(f.type))]
        deeper = [n for n in t.fields if n not in leaves]
        picked = rng.sample(leaves, min(len(leaves), rng.randint(2, at_most)))
        if depth < draft.max_depth and deeper and draft.budget > 0:
            wanted = min(len(deeper), rng.choice((1, 2, 2, 3, 3, 4)))
            picked += rng.sample(deeper, wanted)
        if not picked:
            picked = ["__typename"]
        out = []
        for name in picked:
            if name == "__typename":
                out.append(name)
            elif name in leaves or draft.budget > 0:
                out.append(self.field(draft, t, name, depth))
        return out or ["__typename"]

    # -- arguments ------------------------------------------------------------------------

    def arguments(self, draft: Draft, definition: GraphQLField) -> str:
        """Required arguments always, optional ones sometimes; as literals or variables."""
        parts = []
        for name, arg in definition.args.items():
            required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
            if not required and self.rng.random() > 0.35:
                continue
            if self.rng.random() < 0.3:
                variable = f"{name}{len(draft.variables)}"
                draft.variables[variable] = str(arg.type)
                parts.append(f"{name}: ${variable}")
            else:
                parts.append(f"{name}: {self.literal(arg.type, 0)}")
        return ", ".join(parts)

    def literal(self, t: object, depth: int) -> str:
        """A literal value of input type `t`."""
        if isinstance(t, GraphQLNonNull):
            return self.literal(t.of_type, depth)
        if isinstance(t, GraphQLList):
            return "[" + ", ".join(self.literal(t.of_type, depth) for _ in range(2)) + "]"
        if isinstance(t, GraphQLEnumType):
            return self.rng.choice(sorted(t.values))
        if isinstance(t, GraphQLInputObjectType):
            fields = [
                f"{name}: {self.literal(f.type, depth + 1)}"
                for name, f in t.fields.items()
                if isinstance(f.type, GraphQLNonNull) or (depth < 2 and self.rng.random() < 0.4)
            ]
            return "{" + ", ".join(fields) + "}"
        return LITERALS[t.name](self.rng)


def write_operations(schema: GraphQLSchema, count: int, seed: int) -> tuple[list[str], int]:
    """`count` distinct operations valid against `schema`, and how many drafts were
    thrown away (invalid or repeated)."""
    writer = OperationWriter(schema, seed)
    out: list[str] = []
    seen: set[str] = set()
    rejected = 0
    while len(out) < count:
        text = writer.operation(len(out))
        if text in seen or validate(schema, parse(text)):
            rejected += 1
            continue
        seen.add(text)
        out.append(text)
    return out, rejected


def operations_path(count: int, seed: int) -> Path:
    """Where the operations of this count and seed are cached."""
    return CACHE / f"operations-{seed}-{count}.json"


def load_operations(count: int = 10_000, seed: int = SEED, sdl: str | None = None) -> list[str]:
    """The operations of this count and seed over the synthetic supergraph (read from
    the cache, else written there first)."""
    path = operations_path(count, seed)
    if path.exists():
        return orjson.loads(path.read_bytes())
    # the writer is sequential: the first `count` of a longer list are the same ones
    longer = sorted(CACHE.glob(f"operations-{seed}-*.json"), key=lambda p: p.stat().st_size)
    for other in longer:
        operations = orjson.loads(other.read_bytes())
        if len(operations) >= count:
            path.write_bytes(orjson.dumps(operations[:count]))
            return operations[:count]
    from router.supergraph import load_supergraph

    schema = load_supergraph(sdl or SUPERGRAPH.read_text()).api_schema
    operations, _ = write_operations(schema, count, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(operations))
    return operations


def main(argv: list[str] | None = None) -> int:
    """The command line: write the operations file, print its path and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    operations = load_operations(args.count, args.seed)
    sizes = sorted(len(op) for op in operations)
    summary = {"path": str(operations_path(args.count, args.seed)), "count": len(operations),
               "median_chars": sizes[len(sizes) // 2], "max_chars": sizes[-1]}
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
