"""The client-facing API schema: the supergraph minus join/link machinery and @inaccessible."""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DirectiveLocation,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLDeprecatedDirective,
    GraphQLDirective,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
)

from router.astnodes import copy_node
from router.federation.typeref import node_named_type
from router.supergraph.links import Links

_TYPE_NODES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
)


_DEPRECATED = GraphQLDirective(
    name="deprecated",
    locations=[
        DirectiveLocation.FIELD_DEFINITION,
        DirectiveLocation.ARGUMENT_DEFINITION,
        DirectiveLocation.INPUT_FIELD_DEFINITION,
        DirectiveLocation.ENUM_VALUE,
    ],
    args=GraphQLDeprecatedDirective.args,
    description=GraphQLDeprecatedDirective.description,
)



def build_api_schema(document: DocumentNode, links: Links) -> GraphQLSchema:
    hidden_directives = links.machinery_directives()
    prefixes = tuple(links.machinery_prefixes())
    machinery_types = links.machinery_types()
    inaccessible = links.get("inaccessible")
    inaccessible_name = inaccessible.directive("") if inaccessible else None

    def is_hidden(node: Any) -> bool:
        return inaccessible_name is not None and any(
            d.name.value == inaccessible_name for d in getattr(node, "directives", None) or ()
        )

    removed_types: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, _TYPE_NODES):
            name = definition.name.value
            if name.startswith(prefixes) or name in machinery_types or is_hidden(definition):
                removed_types.add(name)

    def keep_directives(node: Any) -> tuple[DirectiveNode, ...]:
        return tuple(
            d
            for d in getattr(node, "directives", None) or ()
            if d.name.value not in hidden_directives
        )

    def clean_args(args: Any) -> tuple[Any, ...]:
        return tuple(
            copy_node(a, directives=keep_directives(a))
            for a in args or ()
            if not is_hidden(a) and node_named_type(a.type) not in removed_types
        )

    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            ops = tuple(
                op
                for op in definition.operation_types or ()
                if op.type.name.value not in removed_types
            )
            definitions.append(copy_node(definition, directives=(), operation_types=ops))
            continue
        if isinstance(definition, DirectiveDefinitionNode):
            if definition.name.value in hidden_directives or definition.name.value.startswith(
                prefixes
            ):
                continue
            definitions.append(copy_node(definition, arguments=clean_args(definition.arguments)))
            continue
        if not isinstance(definition, (TypeDefinitionNode, *_TYPE_NODES)):
            continue
        if definition.name.value in removed_types:
            continue
        changes: dict[str, Any] = {"directives": keep_directives(definition)}
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            changes["fields"] = tuple(
                copy_node(f, directives=keep_directives(f), arguments=clean_args(f.arguments))
                for f in definition.fields or ()
                if not is_hidden(f) and node_named_type(f.type) not in removed_types
            )
            changes["interfaces"] = tuple(
                i for i in definition.interfaces or () if i.name.value not in removed_types
            )
        elif isinstance(definition, UnionTypeDefinitionNode):
            changes["types"] = tuple(
                t for t in definition.types or () if t.name.value not in removed_types
            )
        elif isinstance(definition, EnumTypeDefinitionNode):
            changes["values"] = tuple(
                copy_node(v, directives=keep_directives(v))
                for v in definition.values or ()
                if not is_hidden(v)
            )
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            changes["fields"] = tuple(
                copy_node(f, directives=keep_directives(f))
                for f in definition.fields or ()
                if not is_hidden(f) and node_named_type(f.type) not in removed_types
            )
        definitions.append(copy_node(definition, **changes))
    api_document = DocumentNode(definitions=tuple(definitions))
    schema = build_ast_schema(api_document, assume_valid_sdl=True)
    # graphql-core 3.3 also allows @deprecated on directive definitions; introspection
    # reports the locations the federation ecosystem (graphql-js 16) reports
    schema.directives = [
        _DEPRECATED if d is GraphQLDeprecatedDirective else d for d in schema.directives
    ]
    return schema
