"""Per-subgraph federation rules, and the Federation 1 -> 2 upgrade.

Runs after parsing and before merging. Besides reporting errors it settles a few
facts the merge relies on: which `@external` fields are really external (key
fields of type extensions are not), which fields are used by a federation
directive, and which fields are shareable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from router.federation.typeref import named_type

from .errors import Report
from .fieldset import FieldSetError, parse_field_set, resolve
from .model import Subgraph, SubgraphType

COMPOSITE = ("OBJECT", "INTERFACE", "UNION")


def _directive_text(name: str, fields: str) -> str:
    return f'@{name}(fields: "{fields}")'


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


# -- Federation 1 ----------------------------------------------------------------------


def upgrade_fed1(subgraphs: Sequence[Subgraph], report: Report) -> None:
    """Gives Federation 1 subgraphs the meaning Federation 2 composition expects."""
    by_type: dict[str, list[tuple[Subgraph, SubgraphType]]] = {}
    for sg in subgraphs:
        for t in sg.types.values():
            if t.kind in ("OBJECT", "INTERFACE"):
                by_type.setdefault(t.name, []).append((sg, t))
    for sg in subgraphs:
        if sg.fed2:
            continue
        settle_fake_externals(sg)
        for t in list(sg.types.values()):
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
        # @external on other fields of a keyless extension, matching another subgraph's key.
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
        for t in sg.types.values():
            for f in t.fields.values():
                base = named_type(f.type)
                if f.provides and (base not in sg.types or sg.types[base].kind not in COMPOSITE):
                    f.provides = None
                for attr in ("requires", "provides"):
                    _drop_inactive(sg, t, f, attr)
        mark_used_fields(sg)
        for t in list(sg.types.values()):
            if t.kind not in ("OBJECT", "INTERFACE"):
                continue
            for name in [n for n, f in t.fields.items() if f.external and not f.used]:
                del t.fields[name]
            if not t.fields and t.name != "Query":
                del sg.types[t.name]
    for sg in subgraphs:
        if sg.fed2:
            continue
        for t in sg.types.values():
            if t.kind != "OBJECT" or t.name == "Subscription":
                continue
            if t.keys or t.name in sg.roots.values():
                for f in t.fields.values():
                    if f.shareable:
                        continue
                    for other_sg, other in by_type.get(t.name, ()):
                        if other_sg is sg:
                            continue
                        of = other.fields.get(f.name)
                        if of is not None and (
                            not of.external or (t.name, f.name) in partially_external(other_sg)
                        ):
                            f.shareable = True
                            break
            elif any(s is not sg for s, _ in by_type.get(t.name, ())):
                t.shareable = True
                for f in t.fields.values():
                    f.shareable = True


def _drop_inactive(sg: Subgraph, t: SubgraphType, f, attr: str) -> None:
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


# -- Federation 2 rules ----------------------------------------------------------------


def validate_subgraph(sg: Subgraph, report: Report) -> None:
    name = sg.name

    def err(code: str, message: str, coordinate: str) -> None:
        report.error(code, f"[{name}] {message}", (name,), coordinate)

    for t in sg.types.values():
        if t.kind == "INTERFACE" and t.keys and sg.fed2 and sg.fed_version < (2, 3):
            err(
                "KEY_UNSUPPORTED_ON_INTERFACE",
                f'Cannot use @key on interface "{t.name}": @key is not yet supported on interfaces',
                t.name,
            )
            continue
        for key in t.keys:
            label = f'On type "{t.name}", for {_directive_text("key", key.fields)}'
            try:
                targets = resolve(sg, t.name, key.fields)
            except FieldSetError as exc:
                err(f"KEY_{exc.code_suffix}", f"{label}: {exc.message}", t.name)
                continue
            for target in targets:
                f = target.field
                coordinate = f"{target.parent}.{f.name}"
                if f.args:
                    err(
                        "KEY_FIELDS_HAS_ARGS",
                        f"{label}: field {coordinate} cannot be included because it has "
                        "arguments (fields with argument are not allowed in @key)",
                        t.name,
                    )
                base = sg.types.get(named_type(f.type))
                if base is not None and base.kind in ("INTERFACE", "UNION"):
                    kind = "Interface" if base.kind == "INTERFACE" else "Union"
                    err(
                        "KEY_FIELDS_SELECT_INVALID_TYPE",
                        f'{label}: field "{coordinate}" is a {kind} type which is not allowed '
                        "in @key",
                        t.name,
                    )
        if t.kind == "INTERFACE":
            _validate_interface_keys(sg, t, err)
        if t.interface_object and not t.keys:
            err(
                "INTERFACE_OBJECT_USAGE_ERROR",
                "The @interfaceObject directive can only be applied to entity types but type "
                f'"{t.name}" has no @key in this subgraph.',
                t.name,
            )
        for f in t.fields.values():
            coordinate = f"{t.name}.{f.name}"
            if t.kind == "INTERFACE":
                if f.external:
                    err(
                        "EXTERNAL_ON_INTERFACE",
                        f'Interface type field "{coordinate}" is marked @external but @external '
                        "is not allowed on interface fields (it is nonsensical).",
                        coordinate,
                    )
                if f.shareable and not t.shareable:
                    err(
                        "INVALID_SHAREABLE_USAGE",
                        f'Invalid use of @shareable on field "{coordinate}": only object type '
                        "fields can be marked with @shareable",
                        coordinate,
                    )
                for attr in ("requires", "provides"):
                    if getattr(f, attr):
                        err(
                            f"{attr.upper()}_UNSUPPORTED_ON_INTERFACE",
                            f'Cannot use @{attr} on field "{coordinate}" of parent type '
                            f'"{t.name}": @{attr} is not yet supported within interfaces',
                            coordinate,
                        )
                if f.override_from is not None:
                    err(
                        "OVERRIDE_ON_INTERFACE",
                        f'@override cannot be used on field "{coordinate}" on subgraph '
                        f'"{name}": @override is not supported on interface type fields.',
                        coordinate,
                    )
                continue
            if f.requires:
                _validate_requires(sg, t, f, err)
            if f.provides:
                _validate_provides(sg, f, coordinate, err)
            if f.override_from is not None and f.external:
                err(
                    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    f'@override cannot be used on field "{coordinate}" on subgraph "{name}" '
                    f'since "{coordinate}" on "{name}" is marked with directive "@external"',
                    coordinate,
                )
    for t in sg.types.values():
        for f in t.fields.values():
            if f.external and not f.used and t.kind == "OBJECT":
                err(
                    "EXTERNAL_UNUSED",
                    f'Field "{t.name}.{f.name}" is marked @external but is not used in any '
                    "federation directive (@key, @provides, @requires) or to satisfy an "
                    "interface; the field declaration has no use and should be removed (or the "
                    "field should not be @external).",
                    f"{t.name}.{f.name}",
                )


def _validate_interface_keys(sg: Subgraph, t: SubgraphType, err) -> None:
    for key in t.keys:
        wanted = parse_field_set_or_none(key.fields)
        missing, unresolvable = [], []
        for impl in sg.possible_types(t.name):
            match = next(
                (k for k in sg.types[impl].keys if parse_field_set_or_none(k.fields) == wanted),
                None,
            )
            if match is None:
                missing.append(impl)
            elif key.is_resolvable and not match.is_resolvable:
                unresolvable.append(impl)
        directive = _directive_text("key", key.fields)
        if missing:
            err(
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                f'Key {directive} on interface type "{t.name}" is missing on implementation '
                f"type{'s' if len(missing) > 1 else ''} "
                + ", ".join(f'"{m}"' for m in missing)
                + ".",
                t.name,
            )
        elif unresolvable:
            err(
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                f'Key {directive} on interface type "{t.name}" should be resolvable on all '
                'implementation types, but is declared with argument "@key(resolvable:)" set '
                "to false in " + ", ".join(f'"{m}"' for m in unresolvable) + ".",
                t.name,
            )


def parse_field_set_or_none(text: str):
    try:
        return parse_field_set(text)
    except FieldSetError:
        return None


def _validate_requires(sg: Subgraph, t: SubgraphType, f, err) -> None:
    coordinate = f"{t.name}.{f.name}"
    label = f'On field "{coordinate}", for {_directive_text("requires", f.requires)}'
    try:
        targets = resolve(sg, t.name, f.requires)
    except FieldSetError as exc:
        err(f"REQUIRES_{exc.code_suffix}", f"{label}: {exc.message}", coordinate)
        return
    _check_external_leaves(sg, targets, "requires", label, coordinate, err)


def _validate_provides(sg: Subgraph, f, coordinate: str, err) -> None:
    label = f'On field "{coordinate}", for {_directive_text("provides", f.provides)}'
    if f.external:
        err(
            "EXTERNAL_COLLISION_WITH_ANOTHER_DIRECTIVE",
            f'Cannot have both @provides and @external on field "{coordinate}"',
            coordinate,
        )
        return
    base = named_type(f.type)
    if base not in sg.types or sg.types[base].kind not in COMPOSITE:
        err(
            "PROVIDES_ON_NON_OBJECT_FIELD",
            f'Invalid @provides directive on field "{coordinate}": field has type "{f.type}" '
            "which is not a Composite Type",
            coordinate,
        )
        return
    try:
        targets = resolve(sg, base, f.provides)
    except FieldSetError as exc:
        err(f"PROVIDES_{exc.code_suffix}", f"{label}: {exc.message}", coordinate)
        return
    for target in targets:
        if target.field.args:
            err(
                "PROVIDES_FIELDS_HAS_ARGS",
                f"{label}: field {target.parent}.{target.field.name} cannot be included because "
                "it has arguments (fields with argument are not allowed in @provides)",
                coordinate,
            )
    _check_external_leaves(sg, targets, "provides", label, coordinate, err)


def _check_external_leaves(sg, targets, directive: str, label: str, coordinate: str, err):
    """Each leaf must be @external unless some enclosing field already is."""
    # Targets come outermost-first; track which selected composite fields were external.
    parents_external: dict[int, bool] = {}
    for target in targets:
        sel = target.selection
        inherited = parents_external.get(id(sel), False)
        external = target.field.external
        if (
            not external
            and sg.types.get(target.parent) is not None
            and sg.types[target.parent].kind == "INTERFACE"
        ):
            external = any(
                (impl_f := sg.field(impl, target.field.name)) is not None and impl_f.external
                for impl in sg.implementations(target.parent)
            )
        for child in _field_children(sel):
            parents_external[id(child)] = inherited or external
        if not sel.children and not inherited and not target.field.external:
            err(
                f"{directive.upper()}_FIELDS_MISSING_EXTERNAL",
                f'{label}: field "{target.parent}.{target.field.name}" should not be part of a '
                f"@{directive} since it is already provided by this subgraph (it is not marked "
                "@external)",
                coordinate,
            )


def _field_children(sel):
    for child in sel.children:
        if child.name:
            yield child
        else:
            yield from _field_children(child)
