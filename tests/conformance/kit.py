"""The subgraph kit: Federation subgraphs from an SDL file plus plain resolvers.

`build_subgraph_schema` turns a subgraph SDL (Federation 2 with `@link`, or
Federation 1 with `extend type` / `@extends`) into an executable graphql-core
schema with the federation additions (`_service`, `_entities`, `_Any`, ...).
`SubgraphServer` serves any number of such subgraphs over real HTTP from one
thread-per-connection server and records what every subgraph received, so
tests can assert batching and deduplication.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    build_ast_schema,
    graphql_sync,
    parse,
    print_ast,
)

Resolver = Callable[..., Any]


@dataclass(frozen=True)
class Resolvers:
    """How one subgraph answers.

    query/mutation: root field -> fn(info, **args)
    entities: type name -> fn(representation) -> object or None (`__resolveReference`);
        a type without one resolves to the representation itself, like @apollo/subgraph
    fields: type -> field -> fn(obj, info, **args); other fields read obj[field_name]
    http_status/http_body: when http_status is not 200 the subgraph answers every
        request with that status and body instead of executing (to test partial data)
    """

    query: Mapping[str, Resolver] = field(default_factory=dict)
    mutation: Mapping[str, Resolver] = field(default_factory=dict)
    entities: Mapping[str, Callable[[dict], Any]] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, Resolver]] = field(default_factory=dict)
    http_status: int = 200
    http_body: str = "subgraph unavailable"


# --------------------------------------------------------------------------- schema

FEDERATION_URL_PREFIX = "https://specs.apollo.dev/federation/"

# Federation directive definitions; {fs} is the FieldSet scalar's name in this subgraph.
_FEDERATION_DIRECTIVES: dict[str, str] = {
    "key": "(fields: {fs}!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE",
    "requires": "(fields: {fs}!) on FIELD_DEFINITION",
    "provides": "(fields: {fs}!) on FIELD_DEFINITION",
    "external": "(reason: String) on OBJECT | FIELD_DEFINITION",
    "extends": " on OBJECT | INTERFACE",
    "shareable": " repeatable on OBJECT | FIELD_DEFINITION",
    "inaccessible": (
        " on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR"
        " | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
    ),
    "tag": (
        "(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
        " | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT"
        " | INPUT_FIELD_DEFINITION | SCHEMA"
    ),
    "override": "(from: String!, label: String) on FIELD_DEFINITION",
    "composeDirective": "(name: String!) repeatable on SCHEMA",
    "interfaceObject": " on OBJECT",
    "authenticated": " on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "requiresScopes": (
        "(scopes: [[{prefix}Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
    ),
    "policy": (
        "(policies: [[{prefix}Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE"
        " | SCALAR | ENUM"
    ),
    "cost": (
        "(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
        " | OBJECT | SCALAR"
    ),
    "listSize": (
        "(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],"
        " requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION"
    ),
    "context": "(name: String!) repeatable on INTERFACE | OBJECT | UNION",
    "fromContext": "(field: {prefix}ContextFieldValue) on ARGUMENT_DEFINITION",
}
_FEDERATION_1_DIRECTIVES = frozenset(
    {"key", "requires", "provides", "external", "extends", "tag", "inaccessible"}
)
_FEDERATION_SCALARS = ("FieldSet", "Scope", "Policy", "ContextFieldValue")


def _link_imports(doc: DocumentNode) -> tuple[str, dict[str, str]] | None:
    """The federation @link of a Fed2 subgraph: (prefix, {spec name: local name})."""
    for definition in doc.definitions:
        if not isinstance(definition, SchemaExtensionNode | SchemaDefinitionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = {arg.name.value: arg.value for arg in directive.arguments or ()}
            url = args.get("url")
            if not isinstance(url, StringValueNode) or not url.value.startswith(
                FEDERATION_URL_PREFIX
            ):
                continue
            alias = args.get("as")
            prefix = alias.value if isinstance(alias, StringValueNode) else "federation"
            imported: dict[str, str] = {}
            imports = args.get("import")
            for item in imports.values if isinstance(imports, ListValueNode) else ():
                if isinstance(item, StringValueNode):
                    imported[item.value] = item.value
                elif isinstance(item, ObjectValueNode):
                    parts = {f.name.value: f.value for f in item.fields}
                    name, local = parts.get("name"), parts.get("as")
                    if isinstance(name, StringValueNode):
                        local_name = local.value if isinstance(local, StringValueNode) else None
                        imported[name.value] = local_name or name.value
            return prefix, imported
    return None


def _federation_definitions(doc: DocumentNode) -> str:
    """SDL for the federation directives/scalars this subgraph refers to."""
    defined = {
        d.name.value for d in doc.definitions if hasattr(d, "name") and d.name is not None
    }
    link = _link_imports(doc)
    out: list[str] = []
    if link is None:  # Federation 1: fixed names, _FieldSet
        if "_FieldSet" not in defined:
            out.append("scalar _FieldSet")
        for name, signature in _FEDERATION_DIRECTIVES.items():
            if name not in defined and name in _FEDERATION_1_DIRECTIVES:
                out.append(f"directive @{name}{signature.format(fs='_FieldSet', prefix='')}")
        return "\n".join(out)

    prefix, imported = link
    def local(name: str, is_directive: bool) -> str:
        key = f"@{name}" if is_directive else name
        if key in imported:
            return imported[key].lstrip("@")
        return f"{prefix}__{name}"

    for scalar in _FEDERATION_SCALARS:
        scalar_name = local(scalar, False)
        if scalar_name not in defined:
            out.append(f"scalar {scalar_name}")
    field_set = local("FieldSet", False)
    scalar_prefix = f"{prefix}__"
    for name, signature in _FEDERATION_DIRECTIVES.items():
        directive_name = local(name, True)
        if directive_name not in defined:
            rendered = signature.format(fs=field_set, prefix=scalar_prefix)
            if name in {"requiresScopes", "policy", "fromContext"}:
                # these refer to the other federation scalars by their local names
                for scalar in ("Scope", "Policy", "ContextFieldValue"):
                    rendered = rendered.replace(f"{scalar_prefix}{scalar}", local(scalar, False))
            out.append(f"directive @{directive_name}{rendered}")
    if "link" not in defined:
        out.append(
            "directive @link(url: String!, as: String, import: [link__Import],"
            " for: link__Purpose) repeatable on SCHEMA"
        )
    if "link__Import" not in defined:
        out.append("scalar link__Import")
    if "link__Purpose" not in defined:
        out.append("enum link__Purpose { SECURITY EXECUTION }")
    return "\n".join(out)


def _definitions_for_orphan_extensions(doc: DocumentNode) -> DocumentNode:
    """Turn `extend type X` into `type X` when X has no definition (Fed1 style)."""
    defined = {
        d.name.value
        for d in doc.definitions
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode)
    }
    definitions = []
    for d in doc.definitions:
        if isinstance(d, ObjectTypeExtensionNode) and d.name.value not in defined:
            d = ObjectTypeDefinitionNode(
                name=d.name, interfaces=d.interfaces, directives=d.directives, fields=d.fields
            )
            defined.add(d.name.value)
        elif isinstance(d, InterfaceTypeExtensionNode) and d.name.value not in defined:
            d = InterfaceTypeDefinitionNode(
                name=d.name, interfaces=d.interfaces, directives=d.directives, fields=d.fields
            )
            defined.add(d.name.value)
        definitions.append(d)
    return DocumentNode(definitions=tuple(definitions))


def _key_directive_names(doc: DocumentNode) -> set[str]:
    link = _link_imports(doc)
    if link is None:
        return {"key"}
    prefix, imported = link
    return {imported.get("@key", f"@{prefix}__key").lstrip("@")}


def _entity_type_names(doc: DocumentNode) -> list[str]:
    """Object types with @key (definitions or extensions), in SDL order."""
    key_names = _key_directive_names(doc)
    names: list[str] = []
    for d in doc.definitions:
        is_object = isinstance(d, ObjectTypeDefinitionNode | ObjectTypeExtensionNode)
        if is_object and d.name.value not in names and any(
            directive.name.value in key_names for directive in d.directives or ()
        ):
            names.append(d.name.value)
    return names


def _entity_interface_names(doc: DocumentNode) -> list[str]:
    key_names = _key_directive_names(doc)
    return [
        d.name.value
        for d in doc.definitions
        if isinstance(d, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode)
        and any(directive.name.value in key_names for directive in d.directives or ())
    ]


def _typename_of(obj: Any) -> str | None:
    if isinstance(obj, Mapping):
        return obj.get("__typename")
    return getattr(obj, "__typename", None)


def _default_field_resolver(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
    if isinstance(source, Mapping):
        return source.get(info.field_name)
    return getattr(source, info.field_name, None)


def _resolve_type(obj: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str | None:
    return _typename_of(obj)


def build_subgraph_schema(sdl: str, resolvers: Resolvers) -> GraphQLSchema:
    """An executable graphql-core schema for one subgraph SDL, wired to `resolvers`."""
    user_doc = parse(sdl)
    doc = _definitions_for_orphan_extensions(user_doc)
    entity_types = _entity_type_names(doc)
    entity_interfaces = _entity_interface_names(doc)
    has_query = any(
        isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Query"
        for d in doc.definitions
    )
    additions = [_federation_definitions(doc), "scalar _Any", "type _Service { sdl: String }"]
    root_fields = ["_service: _Service!"]
    if entity_types:
        additions.append(f"union _Entity = {' | '.join(entity_types)}")
        root_fields.insert(0, "_entities(representations: [_Any!]!): [_Entity]!")
    query_kind = "extend type" if has_query else "type"
    additions.append(f"{query_kind} Query {{ {' '.join(root_fields)} }}")
    full_doc = parse(print_ast(doc) + "\n" + "\n".join(additions))
    schema = build_ast_schema(full_doc)

    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            type_.resolve_type = _resolve_type
    _wire_root(schema.query_type, resolvers.query, "Query")
    _wire_root(schema.mutation_type, resolvers.mutation, "Mutation")
    for type_name, field_resolvers in resolvers.fields.items():
        type_ = schema.get_type(type_name)
        if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            raise ValueError(f"resolvers.fields names unknown object type {type_name!r}")
        for field_name, fn in field_resolvers.items():
            _field(type_, field_name).resolve = fn
    unknown = set(resolvers.entities) - set(entity_types) - set(entity_interfaces)
    if unknown:
        raise ValueError(f"resolvers.entities names types without @key: {sorted(unknown)}")

    assert schema.query_type is not None
    _field(schema.query_type, "_service").resolve = lambda _root, _info: {"sdl": sdl}
    if entity_types:
        _field(schema.query_type, "_entities").resolve = _entities_resolver(schema, resolvers)
    return schema


def _field(type_: GraphQLObjectType | GraphQLInterfaceType, name: str) -> GraphQLField:
    try:
        return type_.fields[name]
    except KeyError:
        raise ValueError(f"{type_.name} has no field {name!r}") from None


def _wire_root(
    type_: GraphQLObjectType | None, resolvers: Mapping[str, Resolver], kind: str
) -> None:
    if not resolvers:
        return
    if type_ is None:
        raise ValueError(f"resolvers for {kind} but the SDL has no {kind} type")
    for name, fn in resolvers.items():
        _field(type_, name).resolve = _root_resolver(fn)


def _root_resolver(fn: Resolver) -> Resolver:
    def resolve(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return fn(info, **args)

    return resolve


def _entities_resolver(schema: GraphQLSchema, resolvers: Resolvers) -> Resolver:
    def reference_resolver(typename: str) -> Callable[[dict], Any] | None:
        if typename in resolvers.entities:
            return resolvers.entities[typename]
        type_ = schema.get_type(typename)
        if isinstance(type_, GraphQLObjectType):
            for interface in type_.interfaces:
                if interface.name in resolvers.entities:
                    return resolvers.entities[interface.name]
        return None

    def resolve_one(representation: Any) -> Any:
        if not isinstance(representation, Mapping) or not isinstance(
            representation.get("__typename"), str
        ):
            raise GraphQLError("representation has no __typename string")
        typename = representation["__typename"]
        if not isinstance(schema.get_type(typename), GraphQLObjectType | GraphQLInterfaceType):
            raise GraphQLError(
                f"The _entities resolver tried to load an entity for type {typename!r},"
                " but no object or interface type of that name was found in the schema"
            )
        fn = reference_resolver(typename)
        obj = fn(dict(representation)) if fn else dict(representation)
        if obj is None or _typename_of(obj):
            return obj
        # interface objects and entity interfaces: the type comes from the representation
        if isinstance(obj, Mapping):
            return {**obj, "__typename": typename}
        return obj

    def resolve(_root: Any, _info: GraphQLResolveInfo, representations: list[Any]) -> list[Any]:
        results: list[Any] = []
        for representation in representations:
            try:
                results.append(resolve_one(representation))
            except Exception as error:  # per-entity failures become errors at _entities.i
                if not isinstance(error, GraphQLError):
                    error = GraphQLError(str(error))
                results.append(error)
        return results

    return resolve


# --------------------------------------------------------------------------- server


def entity_batches(
    received: Mapping[str, list[Any]], distinct: bool = False
) -> dict[str, list[int]]:
    """subgraph -> sorted sizes of the representation lists of its _entities requests.

    With distinct=True duplicates within one request count once (what a deduplicating
    router would have sent for the same plan).
    """
    batches: dict[str, list[int]] = {}
    for name, bodies in received.items():
        sizes = []
        for body in bodies:
            if not isinstance(body, Mapping) or "_entities" not in str(body.get("query")):
                continue
            representations = [
                item
                for value in (body.get("variables") or {}).values()
                if isinstance(value, list)
                and all(isinstance(v, Mapping) and "__typename" in v for v in value)
                for item in value
            ]
            if distinct:
                sizes.append(len({json.dumps(r, sort_keys=True) for r in representations}))
            else:
                sizes.append(len(representations))
        if sizes:
            batches[name] = sorted(sizes)
    return batches


@dataclass
class _Subgraph:
    schema: GraphQLSchema
    resolvers: Resolvers
    received: list[Any] = field(default_factory=list)


class SubgraphServer:
    """Serves every mounted subgraph at POST /<scenario>/<subgraph> on 127.0.0.1.

    Use as a context manager. One ThreadingHTTPServer (HTTP/1.1 keep-alive) in a
    daemon thread; each subgraph records the JSON bodies it received.
    """

    def __init__(self) -> None:
        self._subgraphs: dict[tuple[str, str], _Subgraph] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def mount(self, scenario: str, name: str, sdl: str, resolvers: Resolvers) -> None:
        schema = build_subgraph_schema(sdl, resolvers)
        with self._lock:
            self._subgraphs[(scenario, name)] = _Subgraph(schema, resolvers)

    def start(self) -> SubgraphServer:
        httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SubgraphServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, scenario: str, subgraph: str) -> str:
        if (scenario, subgraph) not in self._subgraphs:
            raise KeyError(f"no subgraph {subgraph!r} mounted for scenario {scenario!r}")
        return f"{self.base_url}/{scenario}/{subgraph}"

    def subgraph_urls(self, scenario: str) -> dict[str, str]:
        return {name: self.url(s, name) for (s, name) in self._subgraphs if s == scenario}

    def requests(self, scenario: str) -> dict[str, list[Any]]:
        """subgraph name -> the JSON request bodies it received since the last reset."""
        with self._lock:
            return {
                name: list(sub.received)
                for (s, name), sub in self._subgraphs.items()
                if s == scenario
            }

    def counts(self, scenario: str) -> dict[str, int]:
        """subgraph name -> number of requests received (only subgraphs that got any)."""
        return {name: len(bodies) for name, bodies in self.requests(scenario).items() if bodies}

    def reset(self, scenario: str | None = None) -> None:
        with self._lock:
            for (s, _name), sub in self._subgraphs.items():
                if scenario is None or s == scenario:
                    sub.received.clear()

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        """Answer one request: (status, content type, body)."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        subgraph = self._subgraphs.get((parts[0], parts[1])) if len(parts) == 2 else None
        if subgraph is None:
            return 404, "text/plain", b"no such subgraph"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        with self._lock:
            subgraph.received.append(payload)
        if subgraph.resolvers.http_status != 200:
            failure = subgraph.resolvers
            return failure.http_status, "text/plain", failure.http_body.encode()
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            error = {"errors": [{"message": "request body must be a JSON object with a query"}]}
            return 400, "application/json", json.dumps(error).encode()
        result = graphql_sync(
            subgraph.schema,
            payload["query"],
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
            field_resolver=_default_field_resolver,
        )
        return 200, "application/json", json.dumps(result.formatted).encode()


class _QuietServer(ThreadingHTTPServer):
    """A client that drops its connection (a gateway process killed mid-run) is no error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_handler(server: SubgraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # headers and body go out in one write; no Nagle delay on keep-alive
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status, content_type, payload = server.handle(self.path, body)
            head = (
                f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n"
            ).encode("latin-1")
            self.wfile.write(head + payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
