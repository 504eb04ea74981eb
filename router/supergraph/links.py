"""`@link` handling: which names the core features (join, link, inaccessible, tag ...) use.

A supergraph may rename a feature (`@link(url: ".../join/v0.3", as: "j")`) or import
its directives under other names, so every federation name is resolved through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import DocumentNode, SchemaDefinitionNode, SchemaExtensionNode, value_from_ast_untyped

# Features the router understands or must hide from clients. Every element that
# belongs to one of them is removed from the API schema.
MACHINERY_FEATURES = frozenset(
    {
        "link",
        "core",
        "join",
        "inaccessible",
        "tag",
        "authenticated",
        "requiresScopes",
        "policy",
        "cost",
        "listSize",
        "context",
        "connect",
    }
)


@dataclass(frozen=True)
class LinkedFeature:
    feature: str  # the spec's own name, e.g. "join"
    version: str
    prefix: str  # name used in this document (the `as:` value or the spec name)
    imports: dict[str, str] = field(default_factory=dict)  # spec element -> local name

    def directive(self, name: str) -> str:
        """Local name of this feature's directive `name` (`"type"` -> `join__type`)."""
        spec_name = "@" + (self.feature if name == "" else name)
        if spec_name in self.imports:
            return self.imports[spec_name][1:]
        if name == "" or name == self.feature:
            return self.prefix
        return f"{self.prefix}__{name}"

    def type_name(self, name: str) -> str:
        if name in self.imports:
            return self.imports[name]
        return f"{self.prefix}__{name}"


@dataclass(frozen=True)
class Links:
    features: dict[str, LinkedFeature]

    def get(self, feature: str) -> LinkedFeature | None:
        return self.features.get(feature)

    def machinery_directives(self) -> frozenset[str]:
        """Directive names (local) that belong to a machinery feature."""
        names: set[str] = set()
        for feat in self.features.values():
            if feat.feature in MACHINERY_FEATURES:
                names.add(feat.prefix)
                names.update(local[1:] for spec, local in feat.imports.items() if spec[:1] == "@")
        return frozenset(names)

    def machinery_prefixes(self) -> frozenset[str]:
        return frozenset(
            f.prefix + "__" for f in self.features.values() if f.feature in MACHINERY_FEATURES
        )

    def machinery_types(self) -> frozenset[str]:
        names: set[str] = set()
        for feat in self.features.values():
            if feat.feature in MACHINERY_FEATURES:
                names.update(local for spec, local in feat.imports.items() if spec[:1] != "@")
        return frozenset(names)


def _parse_url(url: str) -> tuple[str, str]:
    path = url.rstrip("/").split("?")[0]
    parts = path.split("/")
    version = parts[-1]
    name = parts[-2] if version.startswith("v") else parts[-1]
    if not version.startswith("v"):
        version = ""
    return name, version


def read_links(document: DocumentNode) -> Links:
    features: dict[str, LinkedFeature] = {}
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value not in {"link", "core"}:
                continue
            args = {
                arg.name.value: value_from_ast_untyped(arg.value) for arg in directive.arguments
            }
            url = args.get("url") or args.get("feature")
            if not isinstance(url, str):
                continue
            feature, version = _parse_url(url)
            prefix = args.get("as") or feature
            imports: dict[str, str] = {}
            for item in args.get("import") or ():
                if isinstance(item, str):
                    imports[item] = item
                elif isinstance(item, dict) and "name" in item:
                    imports[item["name"]] = item.get("as") or item["name"]
            features[feature] = LinkedFeature(feature, version, prefix, imports)
    if "link" not in features:
        features["link"] = LinkedFeature("link", "v1.0", "link")
    return Links(features)
