"""Schema diff for `shopgraph check`: classify each change between two subgraph SDLs.

BREAKING changes can fail existing clients or other subgraphs; DANGEROUS ones
can change behaviour of existing operations (a new enum value a client switch
does not know, a changed default); SAFE ones cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.federation.fieldset import FieldSetError, parse_field_set
from router.federation.typeref import is_list, is_non_null, list_item, nullable

from .errors import Report
from .model import Subgraph, SubgraphField, SubgraphInputValue, SubgraphSource, SubgraphType
from .subgraph import read_subgraph

BREAKING = "BREAKING"
DANGEROUS = "DANGEROUS"
SAFE = "SAFE"


@dataclass(frozen=True)
class SchemaChange:
    """One change: its level (BREAKING, DANGEROUS, SAFE), code, coordinate and message."""

    level: str
    code: str
    coordinate: str
    message: str

    def __str__(self) -> str:
        return f"{self.level:<9} {self.code:<28} {self.coordinate}: {self.message}"


class SchemaReadError(ValueError):
    """A snapshot or current SDL that does not parse as a subgraph."""


def _read(name: str, sdl: str) -> Subgraph:
    report = Report()
    sg = read_subgraph(SubgraphSource(name, "", sdl), report)
    if sg is None:
        raise SchemaReadError("; ".join(str(e) for e in report.errors))
    return sg


def _output_compatible(old: str, new: str) -> bool:
    """Can a client that handled `old` values handle `new` ones? (String -> String! yes)."""
    if old == new:
        return True
    if is_non_null(new):
        return _output_compatible(nullable(old), nullable(new))
    if is_non_null(old):
        return False
    if is_list(old) and is_list(new):
        return _output_compatible(list_item(old), list_item(new))
    return False


def _input_compatible(old: str, new: str) -> bool:
    """Does every value valid for `old` stay valid for `new`? (Int! -> Int yes)."""
    if old == new:
        return True
    if is_non_null(old):
        return _input_compatible(nullable(old), nullable(new))
    if is_non_null(new):
        return False
    if is_list(old) and is_list(new):
        return _input_compatible(list_item(old), list_item(new))
    return False


KINDS = {"OBJECT": "object type", "INTERFACE": "interface", "UNION": "union", "ENUM": "enum",
         "INPUT_OBJECT": "input object", "SCALAR": "scalar"}


def diff_subgraph(old_sdl: str, new_sdl: str, name: str = "subgraph") -> list[SchemaChange]:
    """Changes from `old_sdl` (the committed snapshot) to `new_sdl` (the current code)."""
    old, new = _read(name, old_sdl), _read(name, new_sdl)
    changes: list[SchemaChange] = []

    def add(level: str, code: str, coordinate: str, message: str) -> None:
        """Record one change."""
        changes.append(SchemaChange(level, code, coordinate, message))

    for type_name, ot in old.types.items():
        nt = new.types.get(type_name)
        if nt is None:
            add(BREAKING, "TYPE_REMOVED", type_name, f"{KINDS[ot.kind]} {type_name} was removed")
            continue
        if nt.kind != ot.kind:
            add(BREAKING, "TYPE_KIND_CHANGED", type_name,
                f"changed from {KINDS[ot.kind]} to {KINDS[nt.kind]}")
            continue
        _diff_type(ot, nt, add)
    for type_name, nt in new.types.items():
        if type_name not in old.types:
            add(SAFE, "TYPE_ADDED", type_name, f"{KINDS[nt.kind]} {type_name} was added")
    return changes


def _key_set(t: SubgraphType) -> dict[tuple, str]:
    out = {}
    for key in t.keys:
        try:
            out[(parse_field_set(key.fields), key.is_resolvable)] = key.fields
        except FieldSetError:
            out[(key.fields, key.is_resolvable)] = key.fields
    return out


def _diff_type(ot: SubgraphType, nt: SubgraphType, add) -> None:
    _diff_keys(ot, nt, add)
    name = ot.name
    for itf in ot.interfaces:
        if itf not in nt.interfaces:
            add(BREAKING, "INTERFACE_REMOVED", name, f"no longer implements {itf}")
    for itf in nt.interfaces:
        if itf not in ot.interfaces:
            add(DANGEROUS, "INTERFACE_ADDED", name, f"now implements {itf}")
    for m in ot.members:
        if m not in nt.members:
            add(BREAKING, "UNION_MEMBER_REMOVED", name, f"{m} was removed from union {name}")
    for m in nt.members:
        if m not in ot.members:
            add(DANGEROUS, "UNION_MEMBER_ADDED", name, f"{m} was added to union {name}")
    for v in ot.values:
        if v not in nt.values:
            add(BREAKING, "ENUM_VALUE_REMOVED", f"{name}.{v}", f"enum value {v} was removed")
    for v in nt.values:
        if v not in ot.values:
            add(DANGEROUS, "ENUM_VALUE_ADDED", f"{name}.{v}",
                f"enum value {v} was added (clients may not handle it)")
    _diff_fields(ot, nt, add)
    _diff_input_fields(ot, nt, add)


def _diff_keys(ot: SubgraphType, nt: SubgraphType, add) -> None:
    old_keys, new_keys = _key_set(ot), _key_set(nt)
    for k, fields in old_keys.items():
        if k not in new_keys:
            add(BREAKING, "KEY_REMOVED", ot.name,
                f'@key(fields: "{fields}") was removed: other subgraphs can no longer fetch '
                f"{ot.name} by it")
    for k, fields in new_keys.items():
        if k not in old_keys:
            add(SAFE, "KEY_ADDED", ot.name, f'@key(fields: "{fields}") was added')


def _diff_fields(ot: SubgraphType, nt: SubgraphType, add) -> None:
    name = ot.name
    for fname, of in ot.fields.items():
        coordinate = f"{name}.{fname}"
        nf = nt.fields.get(fname)
        if nf is None:
            add(BREAKING, "FIELD_REMOVED", coordinate, f"field {coordinate} was removed")
            continue
        _diff_field(coordinate, of, nf, add)
    for fname in nt.fields:
        if fname not in ot.fields:
            add(SAFE, "FIELD_ADDED", f"{name}.{fname}", f"field {name}.{fname} was added")


def _diff_input_fields(ot: SubgraphType, nt: SubgraphType, add) -> None:
    name = ot.name
    for fname, ov in ot.input_fields.items():
        coordinate = f"{name}.{fname}"
        nv = nt.input_fields.get(fname)
        if nv is None:
            add(BREAKING, "INPUT_FIELD_REMOVED", coordinate,
                f"input field {coordinate} was removed")
            continue
        _diff_input(coordinate, "INPUT_FIELD", ov, nv, add)
    for fname, nv in nt.input_fields.items():
        if fname not in ot.input_fields:
            coordinate = f"{name}.{fname}"
            if nv.required:
                add(BREAKING, "REQUIRED_INPUT_FIELD_ADDED", coordinate,
                    f"required input field {coordinate} was added")
            else:
                add(DANGEROUS, "OPTIONAL_INPUT_FIELD_ADDED", coordinate,
                    f"optional input field {coordinate} was added")


def _diff_field(coordinate: str, of: SubgraphField, nf: SubgraphField, add) -> None:
    if of.type != nf.type:
        if _output_compatible(of.type, nf.type):
            add(SAFE, "FIELD_TYPE_NARROWED", coordinate, f"type changed from {of.type} to "
                f"{nf.type} (every value clients saw stays valid)")
        else:
            add(BREAKING, "FIELD_TYPE_CHANGED", coordinate,
                f"type changed from {of.type} to {nf.type}")
    for aname, oa in of.args.items():
        arg_coordinate = f"{coordinate}({aname}:)"
        na = nf.args.get(aname)
        if na is None:
            add(BREAKING, "ARG_REMOVED", arg_coordinate, f"argument {aname} was removed")
            continue
        _diff_input(arg_coordinate, "ARG", oa, na, add)
    for aname, na in nf.args.items():
        if aname not in of.args:
            arg_coordinate = f"{coordinate}({aname}:)"
            if na.required:
                add(BREAKING, "REQUIRED_ARG_ADDED", arg_coordinate,
                    f"required argument {aname} was added")
            else:
                add(SAFE, "OPTIONAL_ARG_ADDED", arg_coordinate,
                    f"optional argument {aname} was added")
    if not of.external and nf.external:
        add(BREAKING, "FIELD_BECAME_EXTERNAL", coordinate,
            "is now @external: this subgraph no longer resolves it")
    if of.shareable and not nf.shareable and not nf.external:
        add(DANGEROUS, "FIELD_NO_LONGER_SHAREABLE", coordinate,
            "is no longer @shareable: composition fails if another subgraph resolves it")
    deprecated_before = any(d.startswith("@deprecated") for d in of.directives)
    deprecated_now = any(d.startswith("@deprecated") for d in nf.directives)
    if deprecated_now and not deprecated_before:
        add(SAFE, "FIELD_DEPRECATED", coordinate, "was deprecated")
    if of.description != nf.description:
        add(SAFE, "DESCRIPTION_CHANGED", coordinate, "description changed")


def _diff_input(
    coordinate: str, what: str, ov: SubgraphInputValue, nv: SubgraphInputValue, add
) -> None:
    if ov.type != nv.type:
        if _input_compatible(ov.type, nv.type):
            add(SAFE, f"{what}_TYPE_WIDENED", coordinate,
                f"type changed from {ov.type} to {nv.type} (every value accepted before still is)")
        else:
            add(BREAKING, f"{what}_TYPE_CHANGED", coordinate,
                f"type changed from {ov.type} to {nv.type}")
    if ov.default != nv.default:
        add(DANGEROUS, f"{what}_DEFAULT_CHANGED", coordinate,
            f"default value changed from {ov.default or 'none'} to {nv.default or 'none'}")
