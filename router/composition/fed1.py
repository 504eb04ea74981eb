"""The Federation 1 -> 2 upgrade: gives Federation 1 subgraphs the meaning Federation 2 expects."""

from __future__ import annotations

from collections.abc import Sequence

from router.federation.fieldset import FieldSetError
from router.federation.typeref import named_type

from .errors import Report
from .fieldset import resolve
from .model import Subgraph, SubgraphField, SubgraphType
from .settle import COMPOSITE, mark_used_fields, partially_external, settle_fake_externals

# Object and interface types by name: every subgraph's definition, as it was before the upgrade.
_ByType = dict[str, list[tuple[Subgraph, SubgraphType]]]


def upgrade_fed1(subgraphs: Sequence[Subgraph], report: Report) -> None:
    """Gives Federation 1 subgraphs the meaning Federation 2 composition expects."""
    by_type: _ByType = {}
    for sg in subgraphs:
        for t in sg.types.values():
            if t.kind in ("OBJECT", "INTERFACE"):
                by_type.setdefault(t.name, []).append((sg, t))
    for sg in subgraphs:
        if not sg.fed2:
            _upgrade_definitions(sg, by_type, report)
    # Shareability depends on the other subgraphs' upgraded fields, so it comes last.
    for sg in subgraphs:
        if not sg.fed2:
            _settle_shareables(sg, by_type)


def _upgrade_definitions(sg: Subgraph, by_type: _ByType, report: Report) -> None:
    settle_fake_externals(sg)
    for t in list(sg.types.values()):
        _upgrade_type(sg, t, by_type, report)
    _unexternal_other_key_fields(sg, by_type)
    for t in sg.types.values():
        for f in t.fields.values():
            base = named_type(f.type)
            if f.provides and (base not in sg.types or sg.types[base].kind not in COMPOSITE):
                f.provides = None
            for attr in ("requires", "provides"):
                _drop_inactive(sg, t, f, attr)
    mark_used_fields(sg)
    _drop_unused_externals(sg)


def _upgrade_type(sg: Subgraph, t: SubgraphType, by_type: _ByType, report: Report) -> None:
    """Extensions need a base somewhere; interfaces lose their federation directives."""
    is_extension = t.extends or (t.has_extension and not t.has_definition)
    is_root = t.name in sg.roots.values()
    if is_extension and t.kind in ("OBJECT", "INTERFACE") and not is_root:
        others = [o for s, o in by_type.get(t.name, ()) if s is not sg]
        if not any(o.has_definition for o in others) and not t.has_definition:
            report.error(
                "EXTENSION_WITH_NO_BASE",
                f'[{sg.name}] Type "{t.name}" is an extension type, but there is no type '
                f'definition for "{t.name}" in any subgraph.',
                (sg.name,),
                t.name,
            )
    if t.kind == "INTERFACE":
        t.keys.clear()
        for f in t.fields.values():
            f.external = False
            f.requires = f.provides = None
    for key in t.keys:
        key.extension = False  # Federation 1 type extensions become definitions


def _unexternal_other_key_fields(sg: Subgraph, by_type: _ByType) -> None:
    """@external on fields of a keyless extension that another subgraph's key selects is moot."""
    for t in sg.types.values():
        if t.kind != "OBJECT" or t.keys or not (t.has_extension or t.extends):
            continue
        for other_sg, other in by_type.get(t.name, ()):
            if other_sg is sg or not other.keys:
                continue
            try:
                targets = resolve(other_sg, t.name, other.keys[0].fields)
            except FieldSetError:
                continue
            for target in targets:
                if target.parent == t.name and (f := t.fields.get(target.field.name)):
                    f.external = False


def _drop_inactive(sg: Subgraph, t: SubgraphType, f: SubgraphField, attr: str) -> None:
    """Federation 1 tolerated @requires/@provides that select no external field."""
    text = getattr(f, attr)
    if not text:
        return
    target_type = t.name if attr == "requires" else named_type(f.type)
    try:
        targets = resolve(sg, target_type, text)
    except FieldSetError:
        return
    if not any(target.field.external for target in targets):
        setattr(f, attr, None)


def _drop_unused_externals(sg: Subgraph) -> None:
    """Federation 1 allowed unused @external fields; types left empty go too (not Query)."""
    for t in list(sg.types.values()):
        if t.kind not in ("OBJECT", "INTERFACE"):
            continue
        for name in [n for n, f in t.fields.items() if f.external and not f.used]:
            del t.fields[name]
        if not t.fields and t.name != "Query":
            del sg.types[t.name]


def _settle_shareables(sg: Subgraph, by_type: _ByType) -> None:
    """Federation 1 shared everything: entity and root fields another subgraph resolves
    too, and value types defined elsewhere, become @shareable."""
    for t in sg.types.values():
        if t.kind != "OBJECT" or t.name == "Subscription":
            continue
        if t.keys or t.name in sg.roots.values():
            for f in t.fields.values():
                if not f.shareable and _resolved_elsewhere(sg, t, f, by_type):
                    f.shareable = True
        elif any(s is not sg for s, _ in by_type.get(t.name, ())):
            t.shareable = True
            for f in t.fields.values():
                f.shareable = True


def _resolved_elsewhere(
    sg: Subgraph, t: SubgraphType, f: SubgraphField, by_type: _ByType
) -> bool:
    for other_sg, other in by_type.get(t.name, ()):
        if other_sg is sg:
            continue
        of = other.fields.get(f.name)
        if of is not None and (
            not of.external or (t.name, f.name) in partially_external(other_sg)
        ):
            return True
    return False
