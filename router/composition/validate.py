"""Per-subgraph Federation 2 rules: keys, @requires/@provides, @external, interfaces.

Runs after parsing (and the Federation 1 upgrade) and before merging.
"""

from __future__ import annotations

from collections.abc import Callable

from router.federation.fieldset import FieldSetError, parse_field_set
from router.federation.typeref import named_type

from .errors import Report
from .fieldset import resolve
from .model import Subgraph, SubgraphField, SubgraphType
from .settle import COMPOSITE

# err(code, message, coordinate): reports an error of the subgraph being validated.
Err = Callable[[str, str, str], None]


def _directive_text(name: str, fields: str) -> str:
    return f'@{name}(fields: "{fields}")'


def validate_subgraph(sg: Subgraph, report: Report) -> None:
    """Report every Federation 2 rule the subgraph breaks (messages prefixed `[name]`)."""
    name = sg.name

    def err(code: str, message: str, coordinate: str) -> None:
        """Report an error of this subgraph (message prefixed with its name)."""
        report.error(code, f"[{name}] {message}", (name,), coordinate)

    for t in sg.types.values():
        if t.kind == "INTERFACE" and t.keys and sg.fed2 and sg.fed_version < (2, 3):
            err(
                "KEY_UNSUPPORTED_ON_INTERFACE",
                f'Cannot use @key on interface "{t.name}": @key is not yet supported on interfaces',
                t.name,
            )
            continue
        _validate_type(sg, t, err)
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


def _validate_type(sg: Subgraph, t: SubgraphType, err: Err) -> None:
    for key in t.keys:
        _validate_key(sg, t, key.fields, err)
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
        if t.kind == "INTERFACE":
            _validate_interface_field(sg, t, f, err)
        else:
            _validate_field(sg, t, f, err)


def _validate_key(sg: Subgraph, t: SubgraphType, fields: str, err: Err) -> None:
    """Key fields must exist, take no arguments and not be abstract."""
    label = f'On type "{t.name}", for {_directive_text("key", fields)}'
    try:
        targets = resolve(sg, t.name, fields)
    except FieldSetError as exc:
        err(f"KEY_{exc.code_suffix}", f"{label}: {exc.message}", t.name)
        return
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


def _validate_interface_field(sg: Subgraph, t: SubgraphType, f: SubgraphField, err: Err) -> None:
    """Interface fields take no @external, @shareable, @requires, @provides or @override."""
    coordinate = f"{t.name}.{f.name}"
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
            f'"{sg.name}": @override is not supported on interface type fields.',
            coordinate,
        )


def _validate_field(sg: Subgraph, t: SubgraphType, f: SubgraphField, err: Err) -> None:
    coordinate = f"{t.name}.{f.name}"
    if f.requires:
        _validate_requires(sg, t, f, err)
    if f.provides:
        _validate_provides(sg, f, coordinate, err)
    if f.override_from is not None and f.external:
        err(
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            f'@override cannot be used on field "{coordinate}" on subgraph "{sg.name}" '
            f'since "{coordinate}" on "{sg.name}" is marked with directive "@external"',
            coordinate,
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
    """The parsed field set, or None when `text` does not parse."""
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
