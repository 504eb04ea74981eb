"""`@link` / `@core`: which specs a document links, and under which local names.

A document may rename a spec (`@link(url: ".../join/v0.3", as: "j")`) or import its
elements under other names (`import: ["@key", {name: "@shareable", as: "@share"}]`);
every name a spec defines is resolved through a `Link`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graphql import (
    DirectiveNode,
    Node,
    SchemaDefinitionNode,
    SchemaExtensionNode,
)

from router.astnodes import directive_arguments
from router.federation.specs import (
    CORE,
    DEFAULT_LINK_VERSION,
    LINK,
    LINK_IDENTITY,
    MACHINERY_FEATURES,
    parse_version,
)


@dataclass(frozen=True)
class SpecUrl:
    """A spec URL split the way the link spec reads it: `<identity>/<version>`."""

    identity: str  # the URL without its version, e.g. "https://specs.apollo.dev/join"
    name: str  # the spec's own name, e.g. "join"
    version: str  # "v0.3", or "" when the URL names no version


def parse_spec_url(url: str) -> SpecUrl:
    """`https://specs.apollo.dev/federation/v2.3` -> (identity, "federation", "v2.3")."""
    path = url.split("?")[0].rstrip("/")
    base, _, last = path.rpartition("/")
    if parse_version(last) is None:
        return SpecUrl(path, last, "")
    return SpecUrl(base, base.rpartition("/")[2], last)


@dataclass(frozen=True)
class Link:
    """One linked spec: its URL, its local prefix and what it imports.

    `imports` maps each imported element's spec name to its local name; directive
    names keep their `@` (`"@key" -> "@key"`, `"FieldSet" -> "FieldSet"`). Elements
    not imported are named `<prefix>__<element>`, except the directive named like the
    spec itself (`@inaccessible`, `@link`), which is named `<prefix>`.
    """

    url: str
    identity: str
    name: str
    version: str
    prefix: str  # the `as:` value, or the spec's name
    imports: Mapping[str, str] = field(default_factory=dict)

    def directive(self, name: str) -> str:
        """Local name of the spec's directive `name` (`"type"` -> `"join__type"`)."""
        local = self.imports.get("@" + name)
        return local[1:] if local is not None else self.namespaced_directive(name)

    def namespaced_directive(self, name: str) -> str:
        """The directive's name when not imported: `<prefix>__<name>`, or `<prefix>`."""
        return self.prefix if name == self.name else f"{self.prefix}__{name}"

    def type_name(self, name: str) -> str:
        """Local name of the spec's type `name` (`"Graph"` -> `"join__Graph"`)."""
        return self.imports.get(name) or f"{self.prefix}__{name}"

    @cached_property
    def imported_names(self) -> Mapping[str, str]:
        """The import map the other way round: local name -> spec name (`@` kept)."""
        return {local: spec for spec, local in self.imports.items()}

    def spec_name_of_directive(self, local: str) -> str | None:
        """The spec's name for the local directive name `local` (no `@`), or None if the
        name is not this spec's: an import (`"ciao"` -> `"bye"` for `{name: "@bye", as:
        "@ciao"}`), the `<prefix>__<name>` rule, or the directive named like the spec.
        """
        imported = self.imported_names.get("@" + local)
        if imported is not None:
            return imported[1:]
        if local.startswith(self.prefix + "__"):
            return local[len(self.prefix) + 2 :]
        return self.name if local == self.prefix else None


@dataclass(frozen=True)
class Links:
    """Every `@link` of a document, in document order."""

    links: tuple[Link, ...]

    @cached_property
    def _by_name(self) -> dict[str, Link]:
        # A spec linked twice counts once: the later link wins.
        return {link.name: link for link in self.links}

    def get(self, name: str) -> Link | None:
        """The link to the spec named `name` (`"join"`), if the document has one."""
        return self._by_name.get(name)

    def _machinery(self) -> Iterable[Link]:
        return (link for link in self._by_name.values() if link.name in MACHINERY_FEATURES)

    def machinery_directives(self) -> frozenset[str]:
        """Local directive names that belong to a machinery feature (prefix or imported)."""
        names: set[str] = set()
        for link in self._machinery():
            names.add(link.prefix)
            names.update(local[1:] for spec, local in link.imports.items() if spec[:1] == "@")
        return frozenset(names)

    def machinery_prefixes(self) -> frozenset[str]:
        """`<prefix>__` of every machinery feature: names starting so are the feature's."""
        return frozenset(link.prefix + "__" for link in self._machinery())

    def machinery_types(self) -> frozenset[str]:
        """Local names of the types the machinery features import."""
        names: set[str] = set()
        for link in self._machinery():
            names.update(local for spec, local in link.imports.items() if spec[:1] != "@")
        return frozenset(names)


def read_links(definitions: Iterable[Node], *, core: bool = True) -> Links:
    """The `@link`s (and, with `core`, the older `@core`s) of the schema definitions.

    A document that links no `link` spec is read as linking `link/v1.0`.
    """
    directive_names = {LINK, CORE} if core else {LINK}
    links: list[Link] = []
    for definition in definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value in directive_names:
                link = _read_link(directive)
                if link is not None:
                    links.append(link)
    if not any(link.name == LINK for link in links):
        default_url = f"{LINK_IDENTITY}/{DEFAULT_LINK_VERSION}"
        links.append(Link(default_url, LINK_IDENTITY, LINK, DEFAULT_LINK_VERSION, LINK))
    return Links(tuple(links))


def _read_link(directive: DirectiveNode) -> Link | None:
    args = directive_arguments(directive)
    url = args.get("url") or args.get("feature")  # `@core` names it `feature`
    if not isinstance(url, str):
        return None
    spec = parse_spec_url(url)
    prefix = args.get("as") or spec.name
    return Link(url, spec.identity, spec.name, spec.version, str(prefix), _imports(args))


def _imports(args: Mapping[str, object]) -> dict[str, str]:
    imports: dict[str, str] = {}
    # A lone string (`import: "@key"`) is iterated by character, as Apollo's composition
    # does: its characters are no spec element, so composition reports it.
    items: Any = args.get("import") or ()
    for item in items:
        if isinstance(item, str):
            name, local = item, item
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name = item["name"]
            local = str(item.get("as") or name)
        else:
            continue
        if name.startswith("@"):
            local = "@" + local.lstrip("@")
        imports[name] = local
    return imports
