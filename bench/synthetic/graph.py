"""The synthetic company graph's subgraph SDLs, drawn from a seeded random generator.

`build_subgraphs(seed)` -> {subgraph name: SDL}. What it contains (counts are fixed,
shapes drawn): entities owned by one subgraph and extended by up to four others (some
with compound keys, some with a second key), entity interfaces with @interfaceObject
extensions, @shareable value types defined identically in several subgraphs,
@external + @requires, @provides, local interfaces and unions, enums, input types used
as arguments, nested lists, root query fields in every subgraph and a few mutations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench.synthetic.words import (
    DOMAINS,
    ENUM_VALUES,
    FIELD_SUFFIXES,
    FIELD_WORDS,
    NOUNS,
    SUFFIXES,
)

# how many of each kind of type the supergraph has; local value types fill up to TOTAL
TOTAL_TYPES = 2000
ENTITIES = 560
ENTITY_INTERFACES = 12
INTERFACES = 50
UNIONS = 100
LOCAL_ENUMS = 220
SHARED_ENUMS = 30
SHARED_VALUES = 60
INPUTS = 300
MUTATING_SUBGRAPHS = 10
SCALARS = ("String", "String", "Int", "Float", "Boolean", "ID", "DateTime")
LINK = (
    'extend schema\n  @link(url: "https://specs.apollo.dev/federation/v2.3", import: '
    '["@key", "@shareable", "@external", "@requires", "@provides", "@interfaceObject"])\n'
)


@dataclass
class FieldDef:
    """One field (or input field) as written in one subgraph."""

    name: str
    type: str
    args: str = ""
    directives: str = ""

    def sdl(self) -> str:
        """The field's line."""
        return f"  {self.name}{self.args}: {self.type}{self.directives}"


@dataclass
class TypeDef:
    """One type as written in one subgraph."""

    kind: str  # type, interface, union, enum, input, scalar
    name: str
    directives: str = ""
    implements: list[str] = field(default_factory=list)
    fields: dict[str, FieldDef] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)  # enum values or union members

    def add(self, f: FieldDef) -> None:
        """Add `f` unless a field of that name is already there."""
        self.fields.setdefault(f.name, f)

    def sdl(self) -> str:
        """The type's definition."""
        if self.kind == "scalar":
            return f"scalar {self.name}"
        if self.kind == "union":
            return f"union {self.name}{self.directives} = {' | '.join(self.values)}"
        head = f"{self.kind} {self.name}"
        if self.implements:
            head += " implements " + " & ".join(self.implements)
        if self.kind == "enum":
            body = [f"  {v}" for v in self.values]
        else:
            body = [f.sdl() for f in self.fields.values()]
        return head + self.directives + " {\n" + "\n".join(body) + "\n}"


@dataclass
class Entity:
    """An entity type: its owner subgraph, keys and the owner's fields others may use."""

    name: str
    owner: str
    key: tuple[str, ...]  # the primary key's fields, declared wherever the type is
    alt_key: bool = False  # a second key, "slug", in the owner (and some extenders)
    plain: list[str] = field(default_factory=list)  # owner scalars @requires may use
    shareable: list[str] = field(default_factory=list)  # owner scalars @provides may use
    types: dict[str, str] = field(default_factory=dict)  # field name -> type, for those

    @property
    def key_text(self) -> str:
        """The primary key's field set."""
        return " ".join(self.key)


@dataclass
class Subgraph:
    """One subgraph being built: its types and the pools its fields draw from."""

    name: str
    types: dict[str, TypeDef] = field(default_factory=dict)
    owned: list[str] = field(default_factory=list)  # entities it owns
    enums: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    abstract: list[str] = field(default_factory=list)  # its interfaces and unions
    interface_objects: list[str] = field(default_factory=list)  # entity interfaces
    used: set[str] = field(default_factory=set)

    def sdl(self) -> str:
        """The subgraph's SDL."""
        return LINK + "\n" + "\n\n".join(t.sdl() for t in self.types.values()) + "\n"


def _singular(word: str) -> str:
    """`word` without its plural ending (close enough for type names)."""
    if word.endswith(("sses", "xes")):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


class GraphBuilder:
    """Draws the whole graph; `build` returns the subgraphs' SDLs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.subgraphs = {name: Subgraph(name) for name in DOMAINS}
        self.entities: dict[str, Entity] = {}
        self.shared_enums: dict[str, TypeDef] = {}
        self.shared_values: dict[str, TypeDef] = {}
        self.type_names: set[str] = set()
        self.field_names: dict[str, set[str]] = {}
        self.root_names: set[str] = set()
        sizes = [1.0 / (1 + 0.06 * i) for i in range(len(DOMAINS))]  # a few big subgraphs
        self.weights = self.rng.sample(sizes, len(sizes))

    # -- names --------------------------------------------------------------------------

    def type_name(self, subgraph: str) -> str:
        """A new type name in `subgraph`'s vocabulary."""
        prefix = _singular(subgraph).capitalize()
        for _ in range(50):
            noun = self.rng.choice(NOUNS)
            if self.rng.random() < 0.3:
                noun += self.rng.choice(SUFFIXES)
            name = prefix + noun
            if name not in self.type_names:
                self.type_names.add(name)
                return name
        raise RuntimeError(f"no type name left for {subgraph}")

    def field_name(self, type_name: str) -> str:
        """A field name not yet used on `type_name` in any subgraph."""
        taken = self.field_names.setdefault(type_name, set())
        name = self.rng.choice(FIELD_WORDS)
        while name in taken:
            name = self.rng.choice(FIELD_WORDS) + self.rng.choice(FIELD_SUFFIXES)
        taken.add(name)
        return name

    def pick_subgraph(self, exclude: tuple[str, ...] = ()) -> str:
        """A subgraph, bigger ones more often."""
        while True:
            name = self.rng.choices(DOMAINS, self.weights)[0]
            if name not in exclude:
                return name

    def define(self, sg: Subgraph, t: TypeDef) -> TypeDef:
        """Add `t` to `sg` (once) and return `sg`'s definition of that type."""
        return sg.types.setdefault(t.name, t)

    # -- plain types --------------------------------------------------------------------

    def enum(self, name: str) -> TypeDef:
        """A new enum of 3-8 values."""
        values = sorted(self.rng.sample(ENUM_VALUES, self.rng.randint(3, 8)))
        return TypeDef("enum", name, values=values)

    def scalar_type(self) -> str:
        """A scalar output type, sometimes a list or non-null."""
        t = self.rng.choice(SCALARS)
        roll = self.rng.random()
        if roll < 0.08:
            return f"[{t}!]"
        if roll < 0.11:
            return "[[Float!]!]"
        return t + "!" if roll < 0.4 else t

    def use_scalar(self, sg: Subgraph, t: str) -> None:
        """Declare the custom scalar `t` uses, if any."""
        if "DateTime" in t:
            self.define(sg, TypeDef("scalar", "DateTime"))

    def use_enum(self, sg: Subgraph) -> str:
        """An enum usable in `sg`: one of its own (unused first) or a shared one."""
        fresh = [e for e in sg.enums if e not in sg.used]
        if fresh or (sg.enums and self.rng.random() < 0.7):
            name = (fresh or sg.enums)[0] if fresh else self.rng.choice(sg.enums)
        else:
            name = self.rng.choice(sorted(self.shared_enums))
            self.define(sg, TypeDef("enum", name, values=self.shared_enums[name].values))
        sg.used.add(name)
        return name

    def scalar_field(self, sg: Subgraph, type_name: str, directives: str = "") -> FieldDef:
        """A new scalar field of `type_name` in `sg`."""
        t = self.scalar_type()
        self.use_scalar(sg, t)
        return FieldDef(self.field_name(type_name), t, directives=directives)

    def make_shared(self) -> None:
        """The enums and value types several subgraphs define identically."""
        for _ in range(SHARED_ENUMS):
            name = "Common" + self.rng.choice(NOUNS) + "Kind"
            while name in self.type_names:
                name = "Common" + self.rng.choice(NOUNS) + self.rng.choice(SUFFIXES) + "Kind"
            self.type_names.add(name)
            self.shared_enums[name] = self.enum(name)
        enums = sorted(self.shared_enums)
        for _ in range(SHARED_VALUES):
            name = self.type_name("shared").replace("Shared", "Common", 1)
            value = TypeDef("type", name, directives=" @shareable")
            for _ in range(self.rng.randint(2, 6)):
                t = self.rng.choice(SCALARS + tuple(enums[:8]))
                value.add(FieldDef(self.field_name(name), t))
            self.shared_values[name] = value

    def use_shared_value(self, sg: Subgraph, name: str | None = None) -> str:
        """A shared value type (`name`, else any), now defined in `sg` with the enums it
        needs."""
        name = name or self.rng.choice(sorted(self.shared_values))
        value = self.shared_values[name]
        for f in value.fields.values():
            if f.type in self.shared_enums:
                self.define(sg, TypeDef("enum", f.type, values=self.shared_enums[f.type].values))
            self.use_scalar(sg, f.type)
        self.define(sg, value)
        return name

    # -- the subgraphs' own types -------------------------------------------------------

    def spread(self, count: int, minimum: int = 0) -> list[str]:
        """`count` subgraph names (one per item), at least `minimum` for each."""
        names = [name for name in DOMAINS for _ in range(minimum)]
        extra = count - len(names)
        return names + [self.pick_subgraph() for _ in range(extra)]

    def key_fields(self, entity: Entity, d: TypeDef, alt: bool = False) -> None:
        """Declare `entity`'s key fields (and "slug" when `alt`) in definition `d`."""
        for name in entity.key:
            d.add(FieldDef(name, "ID!" if name == "id" else "String!"))
        if alt:
            d.add(FieldDef("slug", "String!"))

    def make_entities(self) -> None:
        """The entities, each defined with its keys in its owner."""
        for owner in self.spread(ENTITIES, minimum=4):
            name = self.type_name(owner)
            roll = self.rng.random()
            key = ("code", "region") if roll < 0.15 else ("id",)
            entity = Entity(name, owner, key, alt_key=self.rng.random() < 0.2)
            self.entities[name] = entity
            self.field_names[name] = set(key) | {"slug"}
            directives = f' @key(fields: "{entity.key_text}")'
            if entity.alt_key:
                directives += ' @key(fields: "slug")'
            d = self.define(self.subgraphs[owner], TypeDef("type", name, directives))
            self.key_fields(entity, d, entity.alt_key)
            self.subgraphs[owner].owned.append(name)

    def entity_ref(self, sg: Subgraph, name: str) -> str:
        """`name` usable in `sg`: a stub with its primary key where `sg` lacks it."""
        if name not in sg.types:
            entity = self.entities[name]
            resolvable = "" if self.rng.random() < 0.5 else ", resolvable: false"
            stub = TypeDef("type", name, f' @key(fields: "{entity.key_text}"{resolvable})')
            self.key_fields(entity, stub)
            sg.types[name] = stub
        return name

    def make_enums_and_inputs(self) -> None:
        """Each subgraph's enums, then its input types (built from its enums)."""
        for owner in self.spread(LOCAL_ENUMS):
            sg = self.subgraphs[owner]
            name = self.type_name(owner) + "Kind"
            self.define(sg, self.enum(name))
            sg.enums.append(name)
        for owner in self.spread(INPUTS):
            sg = self.subgraphs[owner]
            name = self.type_name(owner) + "Input"
            d = self.define(sg, TypeDef("input", name))
            for _ in range(self.rng.randint(2, 6)):
                d.add(self.input_field(sg, name))
            sg.inputs.append(name)

    def input_field(self, sg: Subgraph, input_name: str) -> FieldDef:
        """One field of input type `input_name`: a scalar, an enum, a list or an input."""
        name = self.field_name(input_name)
        roll = self.rng.random()
        if roll < 0.2 and sg.enums:
            t = self.use_enum(sg)
        elif roll < 0.3 and sg.inputs:
            t = self.rng.choice(sg.inputs)
            sg.used.add(t)
        elif roll < 0.4:
            t = "[String!]"
        else:
            t = self.rng.choice(("String", "Int", "Float", "Boolean", "ID"))
        if self.rng.random() < 0.15:
            t += "!"
        return FieldDef(name, t)

    def make_values(self, count: int) -> None:
        """Each subgraph's own value types (some nest others, some point at entities)."""
        for owner in self.spread(count):
            sg = self.subgraphs[owner]
            name = self.type_name(owner)
            d = self.define(sg, TypeDef("type", name))
            for _ in range(self.rng.randint(3, 7)):
                d.add(self.value_field(sg, name))
            sg.values.append(name)

    def value_field(self, sg: Subgraph, type_name: str) -> FieldDef:
        """One field of a value type: mostly scalars, else enums, values or entities."""
        roll = self.rng.random()
        if roll < 0.12 and sg.values:
            t = self.rng.choice(sg.values)
            sg.used.add(t)
            t = f"[{t}!]!" if self.rng.random() < 0.4 else t
        elif roll < 0.2:
            t = self.entity_ref(sg, self.rng.choice(self.entity_list))
        elif roll < 0.3 and sg.enums:
            t = self.use_enum(sg)
        else:
            return self.scalar_field(sg, type_name)
        return FieldDef(self.field_name(type_name), t)

    # -- abstract types -----------------------------------------------------------------

    def make_entity_interfaces(self) -> None:
        """Entity interfaces: implemented by entities of their owner, extended elsewhere
        through @interfaceObject."""
        for owner in self.spread(ENTITY_INTERFACES):
            sg = self.subgraphs[owner]
            name = self.type_name(owner)
            key = ' @key(fields: "id")'
            shared = [FieldDef("id", "ID!")]
            shared += [self.scalar_field(sg, name) for _ in range(self.rng.randint(2, 3))]
            self.define(sg, TypeDef("interface", name, key, fields={f.name: f for f in shared}))
            sg.abstract.append(name)
            for _ in range(self.rng.randint(2, 4)):
                impl = self.type_name(owner)
                d = self.define(sg, TypeDef("type", impl, key, implements=[name]))
                self.field_names[impl] = set(self.field_names[name])
                for f in shared:
                    d.add(f)
                for _ in range(self.rng.randint(1, 3)):
                    # named in the interface's namespace: @interfaceObject fields and
                    # the implementations' own fields must not meet
                    d.add(self.scalar_field(sg, name))
            others = {self.pick_subgraph((owner,)) for _ in range(self.rng.randint(1, 3))}
            for other in sorted(others):
                osg = self.subgraphs[other]
                d = self.define(osg, TypeDef("type", name, key + " @interfaceObject"))
                d.add(FieldDef("id", "ID!"))
                for _ in range(self.rng.randint(1, 3)):
                    d.add(self.scalar_field(osg, name))
                osg.interface_objects.append(name)

    def make_interfaces(self) -> None:
        """Each subgraph's own interfaces, implemented by new value types of it and
        sometimes by its entities."""
        for owner in self.spread(INTERFACES):
            sg = self.subgraphs[owner]
            name = self.type_name(owner)
            shared = [self.scalar_field(sg, name) for _ in range(self.rng.randint(2, 3))]
            self.define(sg, TypeDef("interface", name, fields={f.name: f for f in shared}))
            sg.abstract.append(name)
            impls = [self.type_name(owner) for _ in range(self.rng.randint(2, 3))]
            if sg.owned and self.rng.random() < 0.4:
                impls.append(self.rng.choice(sg.owned))
            for impl in impls:
                taken = self.field_names.setdefault(impl, set())
                if impl in sg.types and taken & set(f.name for f in shared):
                    continue  # an entity already using one of the names
                d = self.define(sg, TypeDef("type", impl))
                d.implements.append(name)
                taken.update(f.name for f in shared)
                for f in shared:
                    d.add(f)
                if impl not in self.entities:
                    for _ in range(self.rng.randint(1, 3)):
                        d.add(self.scalar_field(sg, impl))
                    sg.used.add(impl)

    def make_unions(self) -> None:
        """Each subgraph's unions, of its value types and entities."""
        for owner in self.spread(UNIONS):
            sg = self.subgraphs[owner]
            candidates = sg.values + sg.owned
            if len(candidates) < 2:
                candidates = candidates + [self.entity_ref(sg, e) for e in self.entity_list[:2]]
            members = self.rng.sample(candidates, min(len(candidates), self.rng.randint(2, 4)))
            name = self.type_name(owner) + "Result"
            self.define(sg, TypeDef("union", name, values=sorted(set(members))))
            sg.abstract.append(name)
            sg.used.update(members)

    # -- entity fields ------------------------------------------------------------------

    def list_args(self, sg: Subgraph) -> str:
        """Arguments of a list field: paging, sometimes a filter input and an order."""
        args = ["first: Int = 10", "after: String"]
        if sg.inputs and self.rng.random() < 0.5:
            fresh = [i for i in sg.inputs if i not in sg.used]
            name = fresh[0] if fresh else self.rng.choice(sg.inputs)
            sg.used.add(name)
            args.append(f"filter: {name}")
        if sg.enums and self.rng.random() < 0.3:
            args.append(f"orderBy: {self.use_enum(sg)}")
        return "(" + ", ".join(args) + ")"

    def composite_field(self, sg: Subgraph, host: str, t: str) -> FieldDef:
        """A field of `host` returning composite type `t`: single, or a list with
        arguments."""
        if self.rng.random() < 0.5:
            return FieldDef(self.field_name(host), f"[{t}!]!", self.list_args(sg))
        return FieldDef(self.field_name(host), t)

    def pick_fresh(self, sg: Subgraph, pool: list[str]) -> str:
        """A type of `pool`, one no field uses yet when there is one; now used."""
        fresh = [name for name in pool if name not in sg.used]
        name = fresh[0] if fresh else self.rng.choice(pool)
        sg.used.add(name)
        return name

    def owner_fields(self, entity: Entity) -> None:
        """The owner's fields of `entity`: scalars (some @shareable), enums, value types,
        other entities and abstract types."""
        sg = self.subgraphs[entity.owner]
        d = sg.types[entity.name]
        for i in range(self.rng.randint(3, 7)):
            shareable = i < self.rng.randint(0, 2)
            f = self.scalar_field(sg, entity.name, " @shareable" if shareable else "")
            d.add(f)
            if "[" not in f.type:
                (entity.shareable if shareable else entity.plain).append(f.name)
                entity.types[f.name] = f.type
        for _ in range(self.rng.randint(0, 2)):
            d.add(FieldDef(self.field_name(entity.name), self.use_enum(sg)))
        for _ in range(self.rng.randint(0, 2)):
            if sg.values and self.rng.random() < 0.75:
                t = self.pick_fresh(sg, sg.values)
            else:
                t = self.use_shared_value(sg)
            d.add(self.composite_field(sg, entity.name, t))
        for _ in range(self.rng.randint(0, 3)):
            target = self.entity_ref(sg, self.rng.choice(self.entity_list))
            d.add(self.composite_field(sg, entity.name, target))
        if sg.abstract and self.rng.random() < 0.3:
            d.add(self.composite_field(sg, entity.name, self.pick_fresh(sg, sg.abstract)))

    def make_extensions(self) -> None:
        """Extenders for every entity (0-4 other subgraphs), declared with a key each."""
        self.extenders: dict[str, list[str]] = {}
        for entity in self.entities.values():
            count = self.rng.choices((0, 1, 2, 3, 4), (25, 30, 25, 12, 8))[0]
            others = {self.pick_subgraph((entity.owner,)) for _ in range(count)}
            self.extenders[entity.name] = sorted(others)
            for other in sorted(others):
                alt = entity.alt_key and self.rng.random() < 0.3
                key = "slug" if alt else entity.key_text
                d = TypeDef("type", entity.name, f' @key(fields: "{key}")')
                if alt:
                    d.add(FieldDef("slug", "String!"))
                else:
                    self.key_fields(entity, d)
                self.subgraphs[other].types[entity.name] = d

    def extension_fields(self, entity: Entity, other: str) -> None:
        """`other`'s own fields of `entity`: scalars, its entities or value types, and
        sometimes a @requires'd or @shareable one."""
        sg = self.subgraphs[other]
        d = sg.types[entity.name]
        for _ in range(self.rng.randint(1, 4)):
            roll = self.rng.random()
            if roll < 0.25 and sg.owned:
                d.add(self.composite_field(sg, entity.name, self.rng.choice(sg.owned)))
            elif roll < 0.35 and sg.values:
                d.add(self.composite_field(sg, entity.name, self.pick_fresh(sg, sg.values)))
            elif roll < 0.45 and sg.enums:
                d.add(FieldDef(self.field_name(entity.name), self.use_enum(sg)))
            else:
                d.add(self.scalar_field(sg, entity.name))
        required = [f for f in entity.plain if f not in d.fields]
        if required and self.rng.random() < 0.2:
            needed = self.rng.sample(required, min(len(required), self.rng.randint(1, 2)))
            for f in needed:
                d.add(FieldDef(f, entity.types[f], directives=" @external"))
            spec = " ".join(needed)
            d.add(FieldDef(self.field_name(entity.name), "Float",
                           directives=f' @requires(fields: "{spec}")'))
        shared = [f for f in entity.shareable if f not in d.fields]
        if shared and self.rng.random() < 0.1:
            f = self.rng.choice(shared)
            d.add(FieldDef(f, entity.types[f], directives=" @shareable"))

    def make_provides(self, count: int) -> None:
        """Fields that return a foreign entity with some of its fields (@provides)."""
        made = 0
        while made < count:
            sg = self.subgraphs[self.pick_subgraph()]
            target = self.entities[self.rng.choice(self.entity_list)]
            if target.owner == sg.name or not sg.owned:
                continue
            self.entity_ref(sg, target.name)
            d = sg.types[target.name]
            free = [f for f in target.shareable if f not in d.fields]
            if not free:
                continue
            provided = self.rng.sample(free, min(len(free), self.rng.randint(1, 2)))
            for f in provided:
                d.add(FieldDef(f, target.types[f], directives=" @external"))
            host = self.rng.choice(sg.owned)
            spec = " ".join(provided)
            f = self.composite_field(sg, host, target.name)
            f.directives = f' @provides(fields: "{spec}")'
            sg.types[host].add(f)
            made += 1

    # -- roots and leftovers ------------------------------------------------------------

    def lookup_args(self, name: str) -> str:
        """The arguments of a root field finding entity (or entity interface) `name`."""
        entity = self.entities.get(name)
        if entity is None or entity.key == ("id",):
            return "(id: ID!)"
        return "(code: String!, region: String!)"

    def root(self, sg: Subgraph, kind: str = "Query") -> TypeDef:
        """`sg`'s root type of that kind."""
        return self.define(sg, TypeDef("type", kind))

    def root_name(self, base: str) -> str:
        """A root field name no other subgraph uses."""
        name = base[0].lower() + base[1:]
        while name in self.root_names:
            name += self.rng.choice(FIELD_SUFFIXES)
        self.root_names.add(name)
        return name

    def make_roots(self, sg: Subgraph) -> None:
        """`sg`'s query fields: lookups and lists of its entities, searches over its
        abstract types, its @interfaceObject types' lists."""
        query = self.root(sg)
        for name in self.rng.sample(sg.owned, min(len(sg.owned), self.rng.randint(2, 5))):
            query.add(FieldDef(self.root_name(name), name, self.lookup_args(name)))
            query.add(FieldDef(self.root_name(name + "List"), f"[{name}!]!",
                               self.list_args(sg)))
        for name in sg.abstract:
            if sg.types[name].kind == "interface" and "@key" in sg.types[name].directives:
                query.add(FieldDef(self.root_name(name), name, "(id: ID!)"))
            else:
                query.add(FieldDef(self.root_name(name + "Search"), f"[{name}!]!",
                                   "(term: String, first: Int = 20)"))
            sg.used.add(name)
        for name in sg.interface_objects:
            query.add(FieldDef(self.root_name(name + "Featured"), f"[{name}!]!",
                               "(first: Int = 5)"))

    def make_mutations(self) -> None:
        """A few subgraphs' mutations: create and update their entities from inputs."""
        for name in sorted(self.rng.sample(DOMAINS, MUTATING_SUBGRAPHS)):
            sg = self.subgraphs[name]
            mutation = self.root(sg, "Mutation")
            for entity in self.rng.sample(sg.owned, min(len(sg.owned), self.rng.randint(1, 3))):
                if not sg.inputs:
                    break
                payload = self.pick_fresh(sg, sg.inputs)
                mutation.add(FieldDef(self.root_name("create" + entity), entity,
                                      f"(input: {payload}!)"))
                mutation.add(FieldDef(self.root_name("update" + entity), entity,
                                      f"{self.lookup_args(entity)[:-1]}, input: {payload}!)"))

    def use_leftovers(self, sg: Subgraph) -> None:
        """Give every type of `sg` that no field uses yet a field returning it (inputs:
        a root field taking it), so all of the graph is reachable."""
        for name in sg.enums + sg.values + sg.abstract:
            if name not in sg.used:
                host = sg.types[self.rng.choice(sg.owned)]
                t = name if sg.types[name].kind == "enum" else f"[{name}!]"
                host.add(FieldDef(self.field_name(host.name), t))
                sg.used.add(name)
        owned = sg.owned[0]
        for name in sg.inputs:
            if name not in sg.used:
                self.root(sg).add(FieldDef(self.root_name("find" + name[:-5]), f"[{owned}!]!",
                                           f"(where: {name}, first: Int = 10)"))
                sg.used.add(name)

    def use_shared_values(self) -> None:
        """Give each shared value type no subgraph uses yet a field in two subgraphs."""
        used = {name for sg in self.subgraphs.values() for name in sg.types}
        for name in sorted(set(self.shared_values) - used):
            for owner in sorted({self.pick_subgraph() for _ in range(2)}):
                sg = self.subgraphs[owner]
                self.use_shared_value(sg, name)
                host = self.rng.choice(sg.owned)
                sg.types[host].add(self.composite_field(sg, host, name))

    def build(self) -> dict[str, str]:
        """Draw the whole graph: {subgraph name: SDL}."""
        self.make_shared()
        self.make_entities()
        self.entity_list = sorted(self.entities)
        self.make_entity_interfaces()
        self.make_interfaces()
        self.make_enums_and_inputs()
        # the rest are value types; 3: DateTime, Query and Mutation
        self.make_values(TOTAL_TYPES - len(self.type_names) - UNIONS - 3)
        self.make_unions()
        self.make_extensions()
        for entity in self.entities.values():
            self.owner_fields(entity)
        for entity in self.entities.values():
            for other in self.extenders[entity.name]:
                self.extension_fields(entity, other)
        self.use_shared_values()
        self.make_provides(120)
        self.make_mutations()
        for sg in self.subgraphs.values():
            self.use_leftovers(sg)
            self.make_roots(sg)
        return {name: sg.sdl() for name, sg in self.subgraphs.items()}


def build_subgraphs(seed: int = 15) -> dict[str, str]:
    """The synthetic graph's subgraphs, {name: SDL}; the same for the same seed."""
    return GraphBuilder(seed).build()
