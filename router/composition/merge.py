"""Merge validated subgraphs into the supergraph model (Federation 2 merge rules)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from router.federation.typeref import is_list, is_non_null, list_item, named_type, nullable

from .composed import (
    ComposedArgument,
    ComposedDirective,
    ComposedEnumValue,
    ComposedField,
    ComposedGraph,
    ComposedSupergraph,
    ComposedType,
    JoinField,
    JoinType,
)
from .errors import Report
from .model import InputValue, Subgraph, SubgraphField, SubgraphType
from .validate import partially_external

KIND_NAMES = {
    "OBJECT": "Object Type",
    "INTERFACE": "Interface Type",
    "UNION": "Union Type",
    "ENUM": "Enum Type",
    "INPUT_OBJECT": "Input Object Type",
    "SCALAR": "Scalar Type",
}
EXECUTABLE_LOCATIONS = frozenset(
    {
        "QUERY",
        "MUTATION",
        "SUBSCRIPTION",
        "FIELD",
        "FRAGMENT_DEFINITION",
        "FRAGMENT_SPREAD",
        "INLINE_FRAGMENT",
        "VARIABLE_DEFINITION",
    }
)
_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


def graph_enum_name(name: str) -> str:
    sanitized = re.sub(r"\W", "_", name)
    if re.match(r"^\d", sanitized):
        sanitized = "_" + sanitized
    if re.search(r"_\d+$", sanitized):
        sanitized += "_"
    return sanitized.upper()


def human_list(items: Sequence[str], singular: str = "subgraph", plural: str = "subgraphs"):
    quoted = [f'"{i}"' for i in items]
    if len(quoted) == 1:
        return f"{singular} {quoted[0]}"
    return f"{plural} {', '.join(quoted[:-1])} and {quoted[-1]}"


def join_version_for(subgraphs: Sequence[Subgraph]) -> str:
    versions = [sg.fed_version for sg in subgraphs if sg.fed2]
    latest = max(versions) if versions else (2, 0)
    if latest >= (2, 8):
        return "0.5"
    if latest >= (2, 7):
        return "0.4"
    return "0.3"


class Merger:
    def __init__(self, subgraphs: Sequence[Subgraph], report: Report) -> None:
        self.subgraphs = sorted(subgraphs, key=lambda s: s.name)
        self.report = report
        names = [graph_enum_name(s.name) for s in self.subgraphs]
        counts = Counter(names)
        seen: Counter[str] = Counter()
        enum_names = []
        for n in names:
            if counts[n] > 1:
                seen[n] += 1
                enum_names.append(f"{n}_{seen[n]}")
            else:
                enum_names.append(n)
        self.graph = {sg.name: e for sg, e in zip(self.subgraphs, enum_names, strict=True)}
        self.out = ComposedSupergraph(
            graphs=[
                ComposedGraph(e, sg.name, sg.url)
                for sg, e in zip(self.subgraphs, enum_names, strict=True)
            ],
            join_version=join_version_for(self.subgraphs),
        )
        self.partial = {sg.name: partially_external(sg) for sg in self.subgraphs}
        self.enum_usage: dict[str, tuple[str, str | None, str | None]] = {}
        self.composed: dict[str, list[str]] = {}  # directive -> subgraphs composing it

    def error(self, code: str, message: str, subgraphs=(), coordinate: str | None = None):
        self.report.error(code, message, tuple(subgraphs), coordinate)

    def hint(self, code: str, message: str, subgraphs=(), coordinate: str | None = None):
        self.report.hint(code, message, tuple(subgraphs), coordinate)

    # -- driver ------------------------------------------------------------------------

    def merge(self) -> ComposedSupergraph | None:
        before = len(self.report.errors)
        self.collect_composed_directives()
        kinds = self.add_types_shallow()
        if len(self.report.errors) > before:
            return None
        out = self.out
        for name in kinds:
            st = out.types[name]
            if st.kind in ("OBJECT", "INTERFACE"):
                self.merge_implements(st)
        order = ("UNION", "SCALAR", "INPUT_OBJECT", "INTERFACE", "OBJECT")
        for kind in order:
            for name in kinds:
                if out.types[name].kind == kind:
                    self.merge_type(out.types[name])
        # before the enums, like the fields: directive arguments use enums too
        self.merge_directive_definitions()
        self.note_composed_directive_enum_usage()
        for name in list(kinds):
            if out.types[name].kind == "ENUM":
                self.merge_type(out.types[name])
        for kind in ("query", "mutation", "subscription"):
            root = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}[kind]
            if root in out.types:
                out.roots[kind] = root
        if "query" not in out.roots:
            self.error(
                "NO_QUERIES",
                "No queries found in any subgraph: a supergraph must have a query root type.",
            )
        self.add_interface_object_fields()
        if len(self.report.errors) == before:
            self.post_merge_validations()
        if len(self.report.errors) == before:
            from .inaccessible import validate_inaccessible

            validate_inaccessible(out, self.report)
        return out if len(self.report.errors) == before else None

    def sources(self, name: str) -> list[tuple[Subgraph, SubgraphType]]:
        return [(sg, sg.types[name]) for sg in self.subgraphs if name in sg.types]

    # -- types -------------------------------------------------------------------------

    def add_types_shallow(self) -> list[str]:
        kinds: dict[str, str] = {}
        per_subgraph: dict[str, list[tuple[str, str]]] = {}
        interface_objects: set[str] = set()
        for sg in self.subgraphs:
            for t in sg.types.values():
                kind = "INTERFACE" if t.interface_object else t.kind
                if t.interface_object:
                    interface_objects.add(t.name)
                kinds.setdefault(t.name, kind)
                per_subgraph.setdefault(t.name, []).append((sg.name, kind))
        for name, entries in per_subgraph.items():
            if len({k for _, k in entries}) > 1:
                by_kind: dict[str, list[str]] = {}
                for sg_name, k in entries:
                    by_kind.setdefault(k, []).append(sg_name)
                parts = [f"{KIND_NAMES[k]} in {human_list(s)}" for k, s in by_kind.items()]
                self.error(
                    "TYPE_KIND_MISMATCH",
                    f'Type "{name}" has mismatched kind: it is defined as ' + " but ".join(parts),
                    [s for s, _ in entries],
                    name,
                )
        for name in interface_objects:
            entries = per_subgraph[name]
            if not any(
                sg.types[name].kind == "INTERFACE" for sg in self.subgraphs if name in sg.types
            ):
                self.error(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs '
                    f"in which it is defined (it is defined in "
                    f"{human_list([s for s, _ in entries])} but should be defined as an "
                    "interface in at least one subgraph)",
                    [s for s, _ in entries],
                    name,
                )
        for name, kind in kinds.items():
            self.out.types[name] = ComposedType(kind=kind, name=name)
        return list(kinds)

    def merge_implements(self, st: ComposedType) -> None:
        for sg, t in self.sources(st.name):
            for itf in t.interfaces:
                st.join_implements.append((self.graph[sg.name], itf))
                if itf not in st.interfaces:
                    st.interfaces.append(itf)

    def merge_type(self, st: ComposedType) -> None:
        sources = self.sources(st.name)
        self.check_extension_with_no_base(st, sources)
        st.description = self.merge_description(
            [t.description for _, t in sources], st.name, [sg.name for sg, _ in sources]
        )
        for sg, t in sources:
            graph = self.graph[sg.name]
            if not t.keys:
                st.join_types.append(JoinType(graph, interface_object=t.interface_object))
            for key in t.keys:
                extension = (key.extension and sg.fed2) or t.extends
                st.join_types.append(
                    JoinType(graph, key.fields, extension, key.resolvable, t.interface_object)
                )
        self.merge_applied(st, [(sg, t) for sg, t in sources])
        if st.kind == "OBJECT":
            self.merge_object(st, sources)
        elif st.kind == "INTERFACE":
            self.merge_interface(st, sources)
        elif st.kind == "UNION":
            self.merge_union(st, sources)
        elif st.kind == "ENUM":
            self.merge_enum(st, sources)
        elif st.kind == "INPUT_OBJECT":
            self.merge_input(st, sources)

    def check_extension_with_no_base(self, st: ComposedType, sources) -> None:
        if st.name in ("Query", "Mutation", "Subscription"):
            return
        fed2 = [(sg, t) for sg, t in sources if sg.fed2]
        has_base = any(t.has_definition for _, t in fed2) or any(not sg.fed2 for sg, _ in sources)
        if has_base:
            return
        for sg, t in fed2:
            if t.has_extension:
                self.error(
                    "EXTENSION_WITH_NO_BASE",
                    f'[{sg.name}] Type "{st.name}" is an extension type, but there is no '
                    f'type definition for "{st.name}" in any subgraph.',
                    [sg.name],
                    st.name,
                )

    def merge_description(
        self, descriptions: list[str | None], coordinate: str, subgraphs: list[str]
    ) -> str | None:
        present = [d for d in descriptions if d is not None]
        if not present:
            return None
        distinct = list(dict.fromkeys(present))
        if len(distinct) == 1:
            return distinct[0]
        non_empty = [d for d in distinct if d != ""]
        if len(non_empty) == 1:
            return non_empty[0]
        counts = Counter(d for d in present if d != "")
        best = max(non_empty, key=lambda d: counts[d])  # first among equals
        self.hint(
            "INCONSISTENT_DESCRIPTION",
            f'Element "{coordinate}" has inconsistent descriptions across subgraphs.',
            subgraphs,
            coordinate,
        )
        return best

    def merge_applied(self, dest, sources: list[tuple[Subgraph, object]]) -> None:
        """@inaccessible, @tag, built-in and composed directives of an element."""
        if any(getattr(e, "inaccessible", False) for _, e in sources):
            dest.inaccessible = True
            self.out.uses_inaccessible = True
        tags: list[str] = []
        for _, e in sources:
            for tag in e.tags:
                if tag not in tags:
                    tags.append(tag)
        kept: list[str] = []
        non_repeatable: dict[str, list[str]] = {}
        for _, e in sources:
            for printed in e.directives:
                name = printed[1:].split("(", 1)[0].strip()
                if self.is_repeatable(name):
                    if printed not in kept:
                        kept.append(printed)
                else:
                    non_repeatable.setdefault(name, []).append(printed)
        for name, applications in non_repeatable.items():
            counts = Counter(applications)
            chosen = max(dict.fromkeys(applications), key=lambda a: counts[a])
            if len(counts) > 1:
                self.hint(
                    "INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
                    f"Non-repeatable directive @{name} is applied in multiple subgraphs "
                    "but with incompatible arguments.",
                )
            kept.append(chosen)
        if tags:
            self.out.uses_tag = True
        dest.directives = [*dest.directives, *kept, *(f'@tag(name: "{t}")' for t in tags)]

    def is_repeatable(self, name: str) -> bool:
        for sg in self.subgraphs:
            d = sg.directive_defs.get(name)
            if d is not None:
                return d.repeatable
        return False

    # -- objects and interfaces ---------------------------------------------------------

    def field_sources(
        self, st: ComposedType, sources
    ) -> dict[str, list[tuple[Subgraph, SubgraphField | None]]]:
        """For each field: every subgraph that defines the type (None where it lacks it)."""
        order: list[str] = []
        for _, t in sources:
            for name in t.fields:
                if name not in order:
                    order.append(name)
        out: dict[str, list[tuple[Subgraph, SubgraphField | None]]] = {}
        for name in order:
            out[name] = [(sg, t.fields.get(name)) for sg, t in sources]
        return out

    def merge_object(self, st: ComposedType, sources) -> None:
        is_entity = any(t.keys for _, t in sources)
        if is_entity and any(not t.keys for _, t in sources):
            self.hint(
                "INCONSISTENT_ENTITY",
                f'Type "{st.name}" is declared as an entity (has a @key applied) in some '
                "but not all defining subgraphs.",
                [sg.name for sg, _ in sources],
                st.name,
            )
        for name, fsources in self.field_sources(st, sources).items():
            if not is_entity and st.name not in ("Query", "Mutation", "Subscription"):
                missing = [
                    sg.name
                    for sg, f in fsources
                    if f is None and not all(x.external for x in sg.types[st.name].fields.values())
                ]
                if missing:
                    self.hint(
                        "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD",
                        f'Field "{st.name}.{name}" of non-entity object type "{st.name}" '
                        f'is defined in some but not all subgraphs that define "{st.name}"',
                        missing,
                        f"{st.name}.{name}",
                    )
            context = self.validate_override(st, name, fsources)
            field = self.merge_field(st, name, fsources, context)
            if field is not None:
                self.validate_field_sharing(st, field, fsources, context)
                self.validate_shared_runtime_types(st, field, fsources, context)
        if not st.fields:
            del self.out.types[st.name]

    def merge_interface(self, st: ComposedType, sources) -> None:
        implementations = self.out.possible_types(st.name)
        for sg, t in sources:
            if t.kind == "INTERFACE" and any(k.is_resolvable for k in t.keys):
                local = set(sg.possible_types(st.name))
                missing = [i for i in implementations if i not in local]
                if missing:
                    key = next(k for k in t.keys if k.is_resolvable)
                    self.error(
                        "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
                        f'[{sg.name}] Interface type "{st.name}" has a resolvable key '
                        f'(@key(fields: "{key.fields}")) in subgraph "{sg.name}" but that '
                        "subgraph is missing some of the supergraph implementation types "
                        f'of "{st.name}". Subgraph "{sg.name}" should define '
                        f"{human_list(missing, 'type', 'types')} (and have "
                        f'{"them" if len(missing) > 1 else "it"} implement "{st.name}").',
                        [sg.name],
                        st.name,
                    )
            if t.interface_object:
                defined = [i for i in implementations if i in sg.types]
                if defined:
                    self.error(
                        "INTERFACE_OBJECT_USAGE_ERROR",
                        f'[{sg.name}] Interface type "{st.name}" is defined as an '
                        f'@interfaceObject in subgraph "{sg.name}" so that subgraph should '
                        f'not define any of the implementation types of "{st.name}", but '
                        f"it defines {human_list(defined, 'type', 'types')}",
                        [sg.name],
                        st.name,
                    )
        has_key = any(t.keys for _, t in sources)
        for name, fsources in self.field_sources(st, sources).items():
            if not has_key:
                missing = [
                    sg.name
                    for sg, f in fsources
                    if f is None
                    and not (
                        sg.types[st.name].interface_object
                        or self.provided_by_interface_object(name, st.name)
                    )
                ]
                if missing:
                    self.hint(
                        "INCONSISTENT_INTERFACE_VALUE_TYPE_FIELD",
                        f'Field "{st.name}.{name}" of interface type "{st.name}" is defined '
                        f'in some but not all subgraphs that define "{st.name}"',
                        missing,
                        f"{st.name}.{name}",
                    )
            context = self.validate_override(st, name, fsources)
            self.merge_field(st, name, fsources, context)

    def validate_override(self, st: ComposedType, name: str, fsources) -> dict[str, dict]:
        """Per subgraph: 'used'/'unused' (overridden), 'label', 'unknown_target'."""
        context: dict[str, dict] = {sg.name: {} for sg, _ in fsources}
        coordinate = f"{st.name}.{name}"
        by_name = {sg.name: (sg, f) for sg, f in fsources}
        with_override = [sg.name for sg, f in fsources if f is not None and f.override_from]
        all_names = {sg.name for sg in self.subgraphs}
        for sg_name in with_override:
            sg, f = by_name[sg_name]
            assert f is not None and f.override_from is not None
            source = f.override_from
            if sg.types[st.name].interface_object:
                self.error(
                    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    "@override is not yet supported on fields of @interfaceObject types: "
                    f'cannot be used on field "{coordinate}" on subgraph "{sg_name}".',
                    [sg_name],
                    coordinate,
                )
                continue
            if source not in all_names:
                context[sg_name]["unknown_target"] = True
                self.hint(
                    "FROM_SUBGRAPH_DOES_NOT_EXIST",
                    f'Source subgraph "{source}" for field "{coordinate}" on subgraph '
                    f'"{sg_name}" does not exist.',
                    [sg_name],
                    coordinate,
                )
            elif source == sg_name:
                self.error(
                    "OVERRIDE_FROM_SELF_ERROR",
                    f'Source and destination subgraphs "{source}" are the same for '
                    f'overridden field "{coordinate}"',
                    [sg_name],
                    coordinate,
                )
            elif source in with_override:
                self.error(
                    "OVERRIDE_SOURCE_HAS_OVERRIDE",
                    f'Field "{coordinate}" on subgraph "{sg_name}" is also marked with '
                    f'directive @override in subgraph "{source}". Only one @override '
                    "directive is allowed per field.",
                    [sg_name, source],
                    coordinate,
                )
            elif source not in by_name or by_name[source][1] is None:
                self.hint(
                    "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                    f'Field "{coordinate}" on subgraph "{sg_name}" no longer exists in the '
                    "from subgraph. The @override directive can be removed.",
                    [sg_name],
                    coordinate,
                )
            else:
                from_field = by_name[source][1]
                assert from_field is not None
                conflict = None
                if from_field.requires:
                    conflict, where = "requires", source
                elif from_field.provides:
                    conflict, where = "provides", source
                elif f.external:
                    conflict, where = "external", sg_name
                if conflict:
                    self.error(
                        "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                        f'@override cannot be used on field "{coordinate}" on subgraph '
                        f'"{sg_name}" since "{coordinate}" on "{where}" is marked with '
                        f'directive "@{conflict}"',
                        [sg_name, source],
                        coordinate,
                    )
                    continue
                label = f.override_label
                if from_field.external:
                    self.hint(
                        "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                        f'Field "{coordinate}" on subgraph "{sg_name}" is not resolved '
                        f'anymore by the from subgraph (it is marked "@external" in '
                        f'"{source}"). The @override directive can be removed.',
                        [sg_name],
                        coordinate,
                    )
                elif from_field.used:
                    context[source]["used"] = True
                    if not label:
                        self.hint(
                            "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                            f'Field "{coordinate}" on subgraph "{source}" is overridden. '
                            "It is still used in some federation directive(s) (@key, "
                            "@requires, and/or @provides) and/or to satisfy interface "
                            "constraint(s), but consider marking it @external explicitly "
                            "or removing it along with its references.",
                            [source],
                            coordinate,
                        )
                else:
                    context[source]["unused"] = True
                    if not label:
                        self.hint(
                            "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                            f'Field "{coordinate}" on subgraph "{source}" is overridden. '
                            "Consider removing it.",
                            [source],
                            coordinate,
                        )
                if label is not None:
                    valid = bool(_LABEL.match(label))
                    m = _PERCENT.match(label)
                    if m and 0 <= float(m[1]) <= 100:
                        valid = True
                    if valid:
                        context[sg_name]["label"] = label
                        context[source]["label"] = label
                        self.hint(
                            "OVERRIDE_MIGRATION_IN_PROGRESS",
                            f'Field "{coordinate}" is currently being migrated with '
                            "progressive @override. Once the migration is complete, "
                            f'remove the field from subgraph "{source}".',
                            [source],
                            coordinate,
                        )
                    else:
                        self.error(
                            "OVERRIDE_LABEL_INVALID",
                            f'Invalid @override label "{label}" on field "{coordinate}" '
                            f'on subgraph "{sg_name}": labels must start with a letter '
                            "and after that may contain alphanumerics, underscores, "
                            "minuses, colons, periods, or slashes. Alternatively, labels "
                            'may be of the form "percent(x)" where x is a float between '
                            "0-100 inclusive.",
                            [sg_name],
                            coordinate,
                        )
        return context

    def merge_field(self, st: ComposedType, name: str, fsources, context) -> ComposedField | None:
        coordinate = f"{st.name}.{name}"
        present = [(sg, f) for sg, f in fsources if f is not None]
        if all(f.external for _, f in present):
            self.error(
                "EXTERNAL_MISSING_ON_BASE",
                f'Field "{coordinate}" is marked @external on all the subgraphs in which '
                f"it is listed ({human_list([sg.name for sg, _ in present])}).",
                [sg.name for sg, _ in present],
                coordinate,
            )
            return None
        internal = [(sg, f) for sg, f in present if not f.external]
        field = ComposedField(name=name, type=internal[0][1].type)
        st.fields[name] = field
        field.description = self.merge_description(
            [f.description for _, f in internal], coordinate, [sg.name for sg, _ in internal]
        )
        self.merge_applied(field, internal)
        self.merge_arguments(field, coordinate, internal)
        all_equal = self.merge_type_reference(field, coordinate, internal, "field")
        if len(internal) != len(present):
            self.validate_external(field, coordinate, present, all_equal)
        self.add_join_fields(st, field, fsources, context, all_equal)
        return field

    def merge_arguments(self, field: ComposedField, coordinate: str, internal) -> None:
        names: list[str] = []
        for _, f in internal:
            for a in f.args:
                if a not in names:
                    names.append(a)
        for arg_name in names:
            arg_coordinate = f"{coordinate}({arg_name}:)"
            arg_sources = [(sg, f.args.get(arg_name)) for sg, f in internal]
            missing = [sg.name for sg, a in arg_sources if a is None]
            if missing:
                required = [sg.name for sg, a in arg_sources if a is not None and a.required]
                if required:
                    self.error(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        f'Argument "{arg_coordinate}" is required in some subgraphs but '
                        f"does not appear in all subgraphs: it is required in "
                        f"{human_list(required)} but does not appear in "
                        f"{human_list(missing)}",
                        required + missing,
                        arg_coordinate,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_ARGUMENT_PRESENCE",
                        f'Optional argument "{arg_coordinate}" will not be included in the '
                        "supergraph as it does not appear in all subgraphs",
                        missing,
                        arg_coordinate,
                    )
                continue
            present = [(sg, a) for sg, a in arg_sources if a is not None]
            field.args[arg_name] = self.merge_input_value(
                arg_name, arg_coordinate, present, "Argument"
            )

    def merge_input_value(self, name: str, coordinate: str, present, kind: str) -> ComposedArgument:
        value = ComposedArgument(name=name, type=present[0][1].type)
        value.description = self.merge_description(
            [a.description for _, a in present], coordinate, [sg.name for sg, _ in present]
        )
        self.merge_applied(value, present)
        self.merge_type_reference(
            value,
            coordinate,
            present,
            "argument" if kind == "Argument" else "field",
            input_position=True,
        )
        defaults = [(sg, a.default) for sg, a in present]
        distinct = {d for _, d in defaults if d is not None}
        if len(distinct) > 1:
            self.error(
                "FIELD_ARGUMENT_DEFAULT_MISMATCH"
                if kind == "Argument"
                else "INPUT_FIELD_DEFAULT_MISMATCH",
                f'{kind} "{coordinate}" has incompatible default values across '
                "subgraphs: it has "
                + " and ".join(
                    f'default value {d} in subgraph "{sg.name}"'
                    if d is not None
                    else f'no default value in subgraph "{sg.name}"'
                    for sg, d in defaults
                ),
                [sg.name for sg, _ in defaults],
                coordinate,
            )
        elif distinct and any(d is None for _, d in defaults):
            self.hint(
                "INCONSISTENT_DEFAULT_VALUE_PRESENCE",
                f'{kind} "{coordinate}" has a default value in only some subgraphs',
                [sg.name for sg, d in defaults if d is None],
                coordinate,
            )
        else:
            value.default = next(iter(distinct), None)
        if len(distinct) > 1:
            value.default = defaults[0][1]
        return value

    # -- type references ----------------------------------------------------------------

    def is_subtype(self, sup: str, sub: str) -> bool:
        """Federation's subtyping for merging (no list upgrade)."""
        if sup == sub:
            return True
        if is_non_null(sub):
            inner = nullable(sub)
            return self.is_subtype(nullable(sup) if is_non_null(sup) else sup, inner)
        if is_non_null(sup):
            return False
        if is_list(sup) or is_list(sub):
            return is_list(sup) and is_list(sub) and self.is_subtype(list_item(sup), list_item(sub))
        st = self.out.types.get(sup)
        if st is None:
            return False
        if st.kind == "UNION":
            return sub in st.members
        if st.kind == "INTERFACE":
            sub_type = self.out.types.get(sub)
            return sub_type is not None and sup in sub_type.interfaces
        return False

    def merge_type_reference(
        self, dest, coordinate: str, present, element: str, input_position: bool = False
    ) -> bool:
        dest_type: str | None = None
        has_subtypes = incompatible = False
        for _, source in present:
            t = source.type
            if dest_type is None or dest_type == t:
                dest_type = t
            elif self.is_subtype(dest_type, t):
                has_subtypes = True
                if input_position:
                    dest_type = t
            elif self.is_subtype(t, dest_type):
                has_subtypes = True
                if not input_position:
                    dest_type = t
            else:
                incompatible = True
        assert dest_type is not None
        dest.type = dest_type
        base = named_type(dest_type)
        enum_type = self.out.types.get(base)
        if enum_type is not None and enum_type.kind == "ENUM":
            position = "Input" if input_position else "Output"
            previous = self.enum_usage.get(base)
            if previous is None:
                examples = (coordinate, None) if input_position else (None, coordinate)
                self.enum_usage[base] = (position, *examples)
            else:
                pos, in_ex, out_ex = previous
                if input_position and in_ex is None:
                    in_ex = coordinate
                if not input_position and out_ex is None:
                    out_ex = coordinate
                self.enum_usage[base] = (pos if pos == position else "Both", in_ex, out_ex)
        if incompatible:
            code = (
                "FIELD_ARGUMENT_TYPE_MISMATCH" if element == "argument" else "FIELD_TYPE_MISMATCH"
            )
            self.error(
                code,
                f'Type of {element} "{coordinate}" is incompatible across subgraphs: it '
                "has "
                + " and ".join(f'type "{f.type}" in subgraph "{sg.name}"' for sg, f in present),
                [sg.name for sg, _ in present],
                coordinate,
            )
            return False
        if has_subtypes:
            code = (
                "INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE"
                if element == "argument"
                else "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE"
            )
            self.hint(
                code,
                f'Type of {element} "{coordinate}" is inconsistent but compatible '
                f'across subgraphs: will use type "{dest_type}" in the supergraph',
                [sg.name for sg, _ in present],
                coordinate,
            )
            return False
        return True

    def validate_external(self, field: ComposedField, coordinate: str, present, all_equal: bool):
        externals = [(sg, f) for sg, f in present if f.external]
        bad = [
            sg.name
            for sg, f in externals
            if not (f.type == field.type or (not all_equal and self.is_subtype(field.type, f.type)))
        ]
        if bad:
            self.error(
                "EXTERNAL_TYPE_MISMATCH",
                f'Type of field "{coordinate}" is incompatible across subgraphs (where '
                "marked @external): it has "
                + " and ".join(f'type "{f.type}" in subgraph "{sg.name}"' for sg, f in present),
                bad,
                coordinate,
            )
        for arg_name, arg in field.args.items():
            arg_coordinate = f"{coordinate}({arg_name}:)"
            missing = [sg.name for sg, f in externals if arg_name not in f.args]
            if missing:
                self.error(
                    "EXTERNAL_ARGUMENT_MISSING",
                    f'Field "{coordinate}" is missing argument "{arg_coordinate}" in some '
                    f"subgraphs where it is marked @external: {human_list(missing)}",
                    missing,
                    arg_coordinate,
                )
                continue
            for sg, f in externals:
                ext_arg = f.args[arg_name]
                if ext_arg.type != arg.type and not self.is_subtype(ext_arg.type, arg.type):
                    self.error(
                        "EXTERNAL_ARGUMENT_TYPE_MISMATCH",
                        f'Type of argument "{arg_coordinate}" is incompatible across '
                        f'subgraphs (where "{coordinate}" is marked @external)',
                        [sg.name],
                        arg_coordinate,
                    )
                if ext_arg.default != arg.default:
                    self.error(
                        "EXTERNAL_ARGUMENT_DEFAULT_MISMATCH",
                        f'Argument "{arg_coordinate}" has incompatible defaults across '
                        f'subgraphs (where "{coordinate}" is marked @external)',
                        [sg.name],
                        arg_coordinate,
                    )

    # -- join directives ----------------------------------------------------------------

    def add_join_fields(
        self, st: ComposedType, field: ComposedField, fsources, context, all_equal: bool
    ):
        def needs() -> bool:
            if not all_equal:
                return True
            if any(c.get("used") or c.get("label") for c in context.values()):
                return True
            for sg, f in fsources:
                if f is not None and not context[sg.name].get("unused"):
                    if f.external or f.provides or f.requires:
                        return True
                else:
                    return True  # the type is in this subgraph but the field is not
            return False

        if not needs():
            return
        for sg, f in fsources:
            if f is None:
                continue
            ctx = context[sg.name]
            if ctx.get("unused") and not ctx.get("label"):
                continue
            field.join_fields.append(
                JoinField(
                    graph=self.graph[sg.name],
                    requires=f.requires,
                    provides=f.provides,
                    type=None if all_equal else f.type,
                    external=f.external,
                    override=f.override_from,
                    used_overridden=bool(ctx.get("used")),
                    override_label=ctx.get("label"),
                )
            )

    def validate_field_sharing(
        self, st: ComposedType, field: ComposedField, fsources, context
    ) -> None:
        resolving: list[str] = []
        non_shareable: list[str] = []
        shareable: list[str] = []
        for sg, f in fsources:
            if f is None:
                continue
            if context[sg.name].get("used") or context[sg.name].get("unused"):
                continue
            if f.external and (st.name, f.name) not in self.partial[sg.name]:
                continue
            resolving.append(sg.name)
            (shareable if f.shareable else non_shareable).append(sg.name)
        # Implementations also get fields that an @interfaceObject resolves.
        for itf in st.interfaces:
            for sg in self.subgraphs:
                t = sg.types.get(itf)
                if t is None or not t.interface_object or st.name in sg.types:
                    continue
                f = t.fields.get(field.name)
                if f is not None and not f.external:
                    label = f'{sg.name}" (through @interfaceObject field "{itf}.{f.name})'
                    resolving.append(label)
                    (shareable if f.shareable else non_shareable).append(label)
        if non_shareable and (shareable or len(non_shareable) > 1):
            coordinate = f"{st.name}.{field.name}"
            which = human_list(non_shareable) if shareable else "all of them"
            extra = ""
            unknown = [sg.name for sg, _ in fsources if context[sg.name].get("unknown_target")]
            if unknown:
                extra = (
                    f' (please note that "{coordinate}" has an @override directive in '
                    f'"{unknown[0]}" that targets an unknown subgraph so this could be due '
                    "to misspelling the @override(from:) argument)"
                )
            self.error(
                "INVALID_FIELD_SHARING",
                f'Non-shareable field "{coordinate}" is resolved from multiple subgraphs: '
                f"it is resolved from {human_list(resolving)} and defined as "
                f"non-shareable in {which}{extra}",
                [r.split('"')[0] for r in resolving],
                coordinate,
            )

    def validate_shared_runtime_types(
        self, st: ComposedType, field: ComposedField, fsources, context
    ) -> None:
        """A shared field with an abstract type must resolve to the same runtime types
        everywhere: no common type is an error, different sets are a hint."""
        per_subgraph: dict[str, frozenset[str]] = {}
        for sg, f in fsources:
            if f is None or f.external or context[sg.name].get("used"):
                continue
            if context[sg.name].get("unused"):
                continue
            # only where the subgraph itself declares an abstract type (a subgraph
            # returning one object type is covered by the field-type merge rules)
            named = named_type(f.type)
            target = sg.types.get(named)
            if target is not None and target.kind in ("INTERFACE", "UNION"):
                per_subgraph[sg.name] = frozenset(sg.possible_types(named))
        if len(per_subgraph) < 2 or len(set(per_subgraph.values())) == 1:
            return
        coordinate = f"{st.name}.{field.name}"
        common = frozenset.intersection(*per_subgraph.values())
        listing = "; ".join(
            f'"{name}": {", ".join(sorted(types)) or "none"}'
            for name, types in per_subgraph.items()
        )
        if not common:
            self.error(
                "SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES",
                f'Shared field "{coordinate}" return type "{field.type}" has a '
                f"non-intersecting set of possible runtime types across subgraphs: {listing}.",
                list(per_subgraph),
                coordinate,
            )
        else:
            self.hint(
                "INCONSISTENT_RUNTIME_TYPES_FOR_SHAREABLE_RETURN",
                f'Shared field "{coordinate}" return type "{field.type}" has different sets '
                f"of possible runtime types across subgraphs: {listing}. Make sure every "
                f"subgraph only resolves it to {', '.join(sorted(common))}.",
                list(per_subgraph),
                coordinate,
            )

    # -- unions, enums, inputs ----------------------------------------------------------

    def merge_union(self, st: ComposedType, sources) -> None:
        for _, t in sources:
            for m in t.members:
                if m not in st.members:
                    st.members.append(m)
        for m in st.members:
            for sg, t in sources:
                if m in t.members:
                    st.join_members.append((self.graph[sg.name], m))
            lacking = [sg.name for sg, t in sources if m not in t.members]
            if lacking:
                self.hint(
                    "INCONSISTENT_UNION_MEMBER",
                    f'Union type "{st.name}" includes member type "{m}" in some but not all '
                    "defining subgraphs",
                    lacking,
                    st.name,
                )

    def merge_enum(self, st: ComposedType, sources) -> None:
        usage = self.enum_usage.get(st.name)
        if usage is None:
            usage = ("Output", None, None)
            self.hint(
                "UNUSED_ENUM_TYPE",
                f'Enum type "{st.name}" is defined but unused. It will be included in the '
                'supergraph with all the values appearing in any subgraph ("as if" it was '
                "only used as an output type).",
                [sg.name for sg, _ in sources],
                st.name,
            )
        position, input_example, output_example = usage
        order: list[str] = []
        for _, t in sources:
            for v in t.values:
                if v not in order:
                    order.append(v)
        for value_name in order:
            value_sources = [
                (sg, t.values[value_name]) for sg, t in sources if value_name in t.values
            ]
            value = ComposedEnumValue(value_name)
            value.description = self.merge_description(
                [v.description for _, v in value_sources],
                f"{st.name}.{value_name}",
                [sg.name for sg, _ in value_sources],
            )
            self.merge_applied(value, value_sources)
            value.graphs = [self.graph[sg.name] for sg, _ in value_sources]
            lacking = [sg.name for sg, t in sources if value_name not in t.values]
            coordinate = f"{st.name}.{value_name}"
            if lacking and not value.inaccessible and position != "Output":
                if position == "Both":
                    self.error(
                        "ENUM_VALUE_MISMATCH",
                        f'Enum type "{st.name}" is used as both input type (for example, '
                        f'as type of "{input_example}") and output type (for example, as '
                        f'type of "{output_example}"), but value "{value_name}" is not '
                        f'defined in all the subgraphs defining "{st.name}": '
                        f'"{value_name}" is defined in '
                        f"{human_list([sg.name for sg, _ in value_sources])} but not in "
                        f"{human_list(lacking)}",
                        lacking,
                        coordinate,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                        f'Value "{value_name}" of enum type "{st.name}" will not be part of '
                        "the supergraph as it is not defined in all the subgraphs defining "
                        f'"{st.name}"',
                        lacking,
                        coordinate,
                    )
                    continue
            elif lacking and position == "Output":
                self.hint(
                    "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
                    f'Value "{value_name}" of enum type "{st.name}" has been added to the '
                    "supergraph but is only defined in a subset of the subgraphs defining "
                    f'"{st.name}"',
                    lacking,
                    coordinate,
                )
            st.values[value_name] = value
        if not st.values:
            self.error(
                "EMPTY_MERGED_ENUM_TYPE",
                f'None of the values of enum type "{st.name}" are defined consistently in '
                "all the subgraphs defining that type. As only values common to all "
                "subgraphs are merged, this would result in an empty type.",
                [sg.name for sg, _ in sources],
                st.name,
            )

    def merge_input(self, st: ComposedType, sources) -> None:
        order: list[str] = []
        for _, t in sources:
            for name in t.input_fields:
                if name not in order:
                    order.append(name)
        for name in order:
            coordinate = f"{st.name}.{name}"
            fsources: list[tuple[Subgraph, InputValue | None]] = [
                (sg, t.input_fields.get(name)) for sg, t in sources
            ]
            present = [(sg, f) for sg, f in fsources if f is not None]
            value = self.merge_input_value(name, coordinate, present, "Input field")
            lacking = [sg.name for sg, f in fsources if f is None]
            if lacking and not value.inaccessible:
                required = [sg.name for sg, f in present if f.required]
                if required:
                    self.error(
                        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                        f'Input object field "{coordinate}" is required in some subgraphs '
                        f"but does not appear in all subgraphs: it is required in "
                        f"{human_list(required)} but does not appear in "
                        f"{human_list(lacking)}",
                        required + lacking,
                        coordinate,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_INPUT_OBJECT_FIELD",
                        f'Input object field "{name}" will not be added to "{st.name}" in '
                        "the supergraph as it does not appear in all subgraphs",
                        lacking,
                        coordinate,
                    )
                continue
            if len({f.type for _, f in present}) > 1:
                value.join_fields = [
                    JoinField(self.graph[sg.name], type=f.type) for sg, f in present
                ]
            st.input_fields[name] = value
        if not st.input_fields:
            self.error(
                "EMPTY_MERGED_INPUT_TYPE",
                f'None of the fields of input object type "{st.name}" are consistently '
                "defined in all the subgraphs defining that type. As only fields common "
                "to all subgraphs are merged, this would result in an empty type.",
                [sg.name for sg, _ in sources],
                st.name,
            )

    # -- directives ---------------------------------------------------------------------

    def collect_composed_directives(self) -> None:
        """@composeDirective: the directive is kept, its spec linked in the supergraph."""
        links: dict[str, tuple[str, str, str, str]] = {}  # identity -> (version, url, ...)
        for sg in self.subgraphs:
            for name in sg.composed:
                link = next(
                    (
                        lk
                        for lk in sg.links
                        if name in lk.imports or name.startswith(lk.prefix + "__")
                    ),
                    None,
                )
                if link is None:
                    self.error(
                        "DIRECTIVE_COMPOSITION_ERROR",
                        f'[{sg.name}] Directive "@{name}" in subgraph "{sg.name}" cannot '
                        "be composed because it is not a member of a core feature",
                        [sg.name],
                        f"@{name}",
                    )
                    continue
                if name not in sg.directive_defs:
                    self.error(
                        "DIRECTIVE_COMPOSITION_ERROR",
                        f"[{sg.name}] Could not find matching directive definition for "
                        f'argument to @composeDirective "@{name}" in subgraph '
                        f'"{sg.name}".',
                        [sg.name],
                        f"@{name}",
                    )
                    continue
                self.composed.setdefault(name, []).append(sg.name)
                current = links.get(link.identity)
                if current is None or _version_key(link.version) > _version_key(current[0]):
                    imports = [n for n, orig in link.imports.items() if n in sg.composed]
                    links[link.identity] = (
                        link.version,
                        link.url,
                        name,
                        ", ".join(f'"@{n}"' for n in imports),
                    )
        for _identity, (_, url, _name, imports) in sorted(links.items()):
            self.out.feature_links.append(f'@link(url: "{url}", import: [{imports}])')
        for name in self.composed:
            for sg in self.subgraphs:
                if name in sg.directive_defs and sg.name in self.composed[name]:
                    d = sg.directive_defs[name]
                    self.out.directive_defs[name] = ComposedDirective(
                        name,
                        list(d.locations),
                        d.repeatable,
                        {
                            a.name: ComposedArgument(a.name, a.type, a.default, a.description)
                            for a in d.args.values()
                        },
                        d.description,
                    )

    def note_composed_directive_enum_usage(self) -> None:
        """Enums in the arguments of composed directives are used, as input types (the
        executable directives' arguments are merged like fields' and noted there)."""
        for sg in self.subgraphs:
            for name in sorted(self.composed.keys() & sg.directive_defs.keys()):
                for arg in sg.directive_defs[name].args.values():
                    base = named_type(arg.type)
                    enum_type = self.out.types.get(base)
                    if enum_type is not None and enum_type.kind == "ENUM":
                        self.enum_usage.setdefault(base, ("Input", f"@{name}({arg.name}:)", None))

    def merge_directive_definitions(self) -> None:
        """Executable directives defined in every subgraph, on their common locations."""
        names: list[str] = []
        for sg in self.subgraphs:
            for name, d in sg.directive_defs.items():
                if (
                    name not in self.composed
                    and name not in names
                    and EXECUTABLE_LOCATIONS.intersection(d.locations)
                ):
                    names.append(name)
        for name in names:
            defs = [sg.directive_defs.get(name) for sg in self.subgraphs]
            if any(d is None for d in defs):
                self.hint(
                    "INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE",
                    f'Executable directive "@{name}" will not be part of the supergraph as '
                    "it does not appear in all subgraphs",
                    (),
                    f"@{name}",
                )
                continue
            present = [d for d in defs if d is not None]
            locations = [loc for loc in present[0].locations if loc in EXECUTABLE_LOCATIONS]
            for d in present[1:]:
                locations = [loc for loc in locations if loc in d.locations]
            if not locations:
                self.hint(
                    "NO_EXECUTABLE_DIRECTIVE_LOCATIONS_INTERSECTION",
                    f'Executable directive "@{name}" has no location that is common to all '
                    "subgraphs",
                    (),
                    f"@{name}",
                )
                continue
            arg_sources = [(sg, sg.directive_defs[name]) for sg in self.subgraphs]
            args: dict[str, ComposedArgument] = {}
            for arg_name in present[0].args:
                if all(arg_name in d.args for d in present):
                    args[arg_name] = self.merge_input_value(
                        arg_name,
                        f"@{name}({arg_name}:)",
                        [(sg, d.args[arg_name]) for sg, d in arg_sources],
                        "Argument",
                    )
            self.out.directive_defs[name] = ComposedDirective(
                name,
                sorted(locations),
                all(d.repeatable for d in present),
                args,
                present[0].description,
            )

    # -- interface objects and post-merge checks ---------------------------------------

    def add_interface_object_fields(self) -> None:
        for st in self.out.types.values():
            if st.kind != "OBJECT":
                continue
            for itf_name in st.interfaces:
                itf = self.out.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in list(itf.fields.values()):
                    if itf_field.name in st.fields or not self.provided_by_interface_object(
                        itf_field.name, itf_name
                    ):
                        continue
                    st.fields[itf_field.name] = ComposedField(
                        name=itf_field.name,
                        type=itf_field.type,
                        args={
                            n: ComposedArgument(
                                a.name, a.type, a.default, a.description, list(a.directives)
                            )
                            for n, a in itf_field.args.items()
                        },
                        description=itf_field.description,
                        directives=list(itf_field.directives),
                        join_fields=[JoinField(None)],
                        inaccessible=itf_field.inaccessible,
                    )

    def provided_by_interface_object(self, field_name: str, interface: str) -> bool:
        for sg in self.subgraphs:
            t = sg.types.get(interface)
            if t is not None and t.interface_object:
                f = t.fields.get(field_name)
                if f is not None and not f.external:
                    return True
        return False

    def post_merge_validations(self) -> None:
        for st in self.out.types.values():
            if st.kind not in ("OBJECT", "INTERFACE"):
                continue
            for itf_name in st.interfaces:
                itf = self.out.types.get(itf_name)
                if itf is None:
                    continue
                for fname in itf.fields:
                    if fname in st.fields:
                        continue
                    declaring = [
                        sg.name
                        for sg in self.subgraphs
                        if itf_name in sg.types and fname in sg.types[itf_name].fields
                    ]
                    implementing = [
                        sg.name
                        for sg in self.subgraphs
                        if st.name in sg.types and itf_name in sg.types[st.name].interfaces
                    ]
                    self.error(
                        "INTERFACE_FIELD_NO_IMPLEM",
                        f'Interface field "{itf_name}.{fname}" is declared in '
                        f'{human_list(declaring)} but type "{st.name}", which implements '
                        f'"{itf_name}" only in {human_list(implementing)} does not have '
                        f'field "{fname}".',
                        declaring + implementing,
                        f"{st.name}.{fname}",
                    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def merge(subgraphs: Sequence[Subgraph], report: Report) -> ComposedSupergraph | None:
    return Merger(subgraphs, report).merge()
