"""Field sets resolved against a subgraph's types: which fields a @key/@requires selects.

Parsing is the shared `router.federation.fieldset`.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.federation.fieldset import FieldSetError, Selection, parse_field_set
from router.federation.typeref import BUILTIN_SCALARS, named_type

from .model import Subgraph, SubgraphField


@dataclass(frozen=True, slots=True)
class Target:
    """A field a field set selects: on which type, and through which selection."""

    parent: str
    field: SubgraphField
    selection: Selection


def resolve(subgraph: Subgraph, type_name: str, text: str) -> list[Target]:
    """The fields a field set selects, outermost first; raises FieldSetError if invalid."""
    out: list[Target] = []
    _walk(subgraph, type_name, parse_field_set(text), out)
    return out


def _walk(sg: Subgraph, type_name: str, selections: tuple[Selection, ...], out: list) -> None:
    t = sg.types.get(type_name)
    for sel in selections:
        if sel.directives:
            raise FieldSetError(
                "DIRECTIVE_IN_FIELDS_ARG",
                f"cannot have directive applications in the field set but found "
                f"{', '.join('@' + d for d in sel.directives)}.",
            )
        if not sel.name:
            condition = sel.type_condition or type_name
            if condition not in sg.types:
                raise FieldSetError("INVALID_FIELDS", f'Unknown type "{condition}".')
            _walk(sg, condition, sel.children, out)
            continue
        if sel.name == "__typename":
            continue
        f = t.fields.get(sel.name) if t is not None else None
        if f is None:
            raise FieldSetError(
                "INVALID_FIELDS",
                f'Cannot query field "{sel.name}" on type "{type_name}" (if the field is '
                "defined in another subgraph, you need to add it to this subgraph with "
                "@external).",
            )
        out.append(Target(type_name, f, sel))
        base = named_type(f.type)
        composite = (
            base not in BUILTIN_SCALARS
            and sg.types.get(base) is not None
            and sg.types[base].kind in ("OBJECT", "INTERFACE", "UNION")
        )
        if composite and not sel.children:
            raise FieldSetError(
                "INVALID_FIELDS",
                f'Field "{sel.name}" of type "{f.type}" must have a selection of subfields.',
            )
        if not composite and sel.children:
            raise FieldSetError(
                "INVALID_FIELDS",
                f'Field "{sel.name}" must not have a selection since type "{f.type}" has no '
                "subfields.",
            )
        if sel.children:
            _walk(sg, base, sel.children, out)


