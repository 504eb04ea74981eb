"""Representation shapes: which data an entity fetch sends for each object.

An `InputSelection` says, for one typename the target subgraph expects, which
fields (key + @requires) to copy from an object of the merged response into its
representation. `data_key` is where the value lives in the merged data (it
differs from the field name when the planner had to alias it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from router.operation import Conditions, Field


def _either(a: Conditions, b: Conditions) -> Conditions:
    """Needed when either is: the union of two sets of alternative conditions."""
    return None if a is None or b is None else a | b


@dataclass(frozen=True)
class InputField:
    """One field of a representation, read from `data_key` of the merged data."""

    name: str
    data_key: str
    selection: InputSelection | None = None
    # required only under these client @skip/@include conditions (None: always): when
    # the conditions exclude it, the representation goes without it
    conditions: Conditions = None


@dataclass(frozen=True)
class InputSelection:
    """The fields a representation carries for one typename (key and @requires)."""

    fields: tuple[InputField, ...]
    # Fragments inside @requires on abstract fields: type name -> fields
    by_type: tuple[tuple[str, tuple[InputField, ...]], ...] = ()

    def print(self) -> str:
        """The shape as a selection set text, as the plan prints it."""
        lines: list[str] = []
        for f in self.fields:
            alias = f"{f.data_key}: " if f.data_key != f.name else ""
            if f.selection is None:
                lines.append(f"{alias}{f.name}")
            else:
                lines.append(f"{alias}{f.name} {f.selection.print()}")
        for type_name, fields in self.by_type:
            lines.append(f"... on {type_name} {InputSelection(fields).print()}")
        body = "\n".join("  " + line.replace("\n", "\n  ") for line in lines)
        return "{\n" + body + "\n}"

    def merged(self, other: InputSelection) -> InputSelection:
        """Both shapes in one: fields of `other` not here appended, shared ones merged
        (needed under either's conditions)."""
        seen = {(f.name, f.data_key): i for i, f in enumerate(self.fields)}
        fields = list(self.fields)
        for f in other.fields:
            index = seen.get((f.name, f.data_key))
            if index is None:
                seen[(f.name, f.data_key)] = len(fields)
                fields.append(f)
                continue
            current = fields[index]
            sub = current.selection
            if f.selection is not None:
                sub = sub.merged(f.selection) if sub else f.selection
            conditions = _either(current.conditions, f.conditions)
            if sub is not current.selection or conditions != current.conditions:
                fields[index] = InputField(f.name, f.data_key, sub, conditions)
        by_type = dict(self.by_type)
        for type_name, tfields in other.by_type:
            if type_name in by_type:
                by_type[type_name] = (
                    InputSelection(by_type[type_name]).merged(InputSelection(tfields)).fields
                )
            else:
                by_type[type_name] = tfields
        return InputSelection(tuple(fields), tuple(by_type.items()))


def input_selection(fields: Iterable[Field]) -> InputSelection:
    """The representation shape that carries `fields` (a key or @requires set)."""
    out: list[InputField] = []
    for f in fields:
        sub: InputSelection | None = None
        if f.selection is not None:
            sel = f.selection
            if len(sel.by_type) == 1 and sel.type_name in sel.by_type:
                sub = input_selection(sel.fields_for(sel.type_name))
            else:
                sub = InputSelection(
                    (InputField("__typename", "__typename"),),
                    tuple((t, input_selection(fs).fields) for t, fs in sel.by_type.items() if fs),
                )
        out.append(InputField(f.name, f.response_key, sub, f.conditions))
    return InputSelection(tuple(out))


def key_input(key_fields: Iterable[Field]) -> InputSelection:
    """The representation of an entity by its key: `__typename` and the key fields."""
    return InputSelection((InputField("__typename", "__typename"),)).merged(
        input_selection(key_fields)
    )


def merge_input(current: InputSelection | None, new: InputSelection) -> InputSelection:
    """`new` added to the representation a fetch already takes (if any)."""
    return new if current is None else current.merged(new)
