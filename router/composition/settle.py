"""Facts the merge relies on, settled per subgraph: real externals, used fields, shareables.

Key fields of type extensions marked @external are not really external; a field
used by a @key, @requires, @provides or an interface is "used"; key fields and
provided external fields are shareable without saying so.
"""

from __future__ import annotations

import contextlib

from router.federation.fieldset import FieldSetError
from router.federation.typeref import named_type

from .fieldset import resolve
from .model import Subgraph, SubgraphType

COMPOSITE = ("OBJECT", "INTERFACE", "UNION")


def settle_fake_externals(sg: Subgraph) -> None:
    """Key fields of a type extension marked @external are not external (historical rule)."""
    for t in sg.types.values():
        for key in t.keys:
            if not (key.extension or t.extends):
                continue
            try:
                targets = resolve(sg, t.name, key.fields)
            except FieldSetError:
                continue
            for target in targets:
                if target.parent == t.name:
                    target.field.external = False


def _provided_fields(sg: Subgraph) -> set[tuple[str, str]]:
    provided: set[tuple[str, str]] = set()
    for t in sg.types.values():
        for f in t.fields.values():
            if not f.provides:
                continue
            base = named_type(f.type)
            if base not in sg.types or sg.types[base].kind not in COMPOSITE:
                continue
            try:
                targets = resolve(sg, base, f.provides)
            except FieldSetError:
                continue
            for target in targets:
                provided.add((target.parent, target.field.name))
                if sg.types[target.parent].kind == "INTERFACE":
                    for impl in sg.implementations(target.parent):
                        provided.add((impl, target.field.name))
    return provided


def partially_external(sg: Subgraph) -> set[tuple[str, str]]:
    """External fields that a @provides of this subgraph makes locally resolvable."""
    return {
        (tn, fn)
        for tn, fn in _provided_fields(sg)
        if (f := sg.field(tn, fn)) is not None and f.external
    }


def _key_targets(sg: Subgraph, t: SubgraphType) -> list:
    out = []
    for key in t.keys:
        with contextlib.suppress(FieldSetError):
            out.extend(resolve(sg, t.name, key.fields))
    return out


def settle_shareables(sg: Subgraph) -> None:
    """Key fields and provided external fields are shareable without saying so."""
    for t in sg.types.values():
        if t.kind not in ("OBJECT", "INTERFACE"):
            continue
        for target in _key_targets(sg, t):
            target.field.shareable = True
            if sg.types[target.parent].kind == "INTERFACE":
                for impl in sg.implementations(target.parent):
                    if (f := sg.field(impl, target.field.name)) is not None:
                        f.shareable = True
    for tn, fn in partially_external(sg):
        sg.types[tn].fields[fn].shareable = True


def mark_used_fields(sg: Subgraph) -> None:
    """Mark the fields a @key, @requires, @provides or an implemented interface uses."""
    for t in sg.types.values():
        if t.kind not in ("OBJECT", "INTERFACE"):
            continue
        for target in _key_targets(sg, t):
            target.field.used = True
        for f in t.fields.values():
            if f.requires:
                try:
                    for target in resolve(sg, t.name, f.requires):
                        target.field.used = True
                except FieldSetError:
                    pass
    for tn, fn in _provided_fields(sg):
        sg.types[tn].fields[fn].used = True
    for t in sg.types.values():
        if t.kind != "INTERFACE":
            continue
        for impl in sg.implementations(t.name):
            for fn in t.fields:
                if (f := sg.field(impl, fn)) is not None:
                    f.used = True
