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
    GraphQLDeferDirective,
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
from router.federation.links import Links
from router.federation.specs import INACCESSIBLE
from router.federation.typeref import node_named_type

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


# incremental delivery, declared as Apollo Router's API schema declares it (router/planner/
# defer.py plans it): directive @defer(label: String, if: Boolean! = true)
_DEFER = GraphQLDirective(
    name=GraphQLDeferDirective.name,
    locations=[DirectiveLocation.FRAGMENT_SPREAD, DirectiveLocation.INLINE_FRAGMENT],
    args={
        "label": GraphQLDeferDirective.args["label"],
        "if": GraphQLDeferDirective.args["if"],
    },
    description=GraphQLDeferDirective.description,
)


def build_api_schema(document: DocumentNode, links: Links) -> GraphQLSchema:
    """The schema clients see: machinery features and @inaccessible elements removed."""
    api = _ApiFilter(document, links)
    definitions = (api.definition(d) for d in document.definitions)
    api_document = DocumentNode(definitions=tuple(d for d in definitions if d is not None))
    schema = build_ast_schema(api_document, assume_valid_sdl=True)
    # graphql-core 3.3 also allows @deprecated on directive definitions; introspection
    # reports the locations the federation ecosystem (graphql-js 16) reports
    schema.directives = [
        _DEPRECATED if d is GraphQLDeprecatedDirective else d for d in schema.directives
    ]
    if schema.get_directive("defer") is None:
        # graphql-core's validation then applies the @defer rules (static unique labels,
        # valid roots): they go by the directive's name
        schema.directives = [*schema.directives, _DEFER]
    return schema


class _ApiFilter:
    """What the API schema leaves out of one supergraph document."""

    def __init__(self, document: DocumentNode, links: Links) -> None:
        self.hidden_directives = links.machinery_directives()
        self.prefixes = tuple(links.machinery_prefixes())
        machinery_types = links.machinery_types()
        inaccessible = links.get(INACCESSIBLE)
        self.inaccessible = inaccessible.directive(INACCESSIBLE) if inaccessible else None
        self.removed_types = {
            d.name.value
            for d in document.definitions
            if isinstance(d, _TYPE_NODES)
            and (
                d.name.value.startswith(self.prefixes)
                or d.name.value in machinery_types
                or self.is_hidden(d)
            )
        }

    def is_hidden(self, node: Any) -> bool:
        """Whether the element is @inaccessible."""
        return self.inaccessible is not None and any(
            d.name.value == self.inaccessible for d in getattr(node, "directives", None) or ()
        )

    def is_kept(self, node: Any) -> bool:
        """Whether a field, input field or argument stays: visible, and of a kept type."""
        return not self.is_hidden(node) and node_named_type(node.type) not in self.removed_types

    def directives(self, node: Any) -> tuple[DirectiveNode, ...]:
        """The element's directive applications minus the machinery ones."""
        return tuple(
            d
            for d in getattr(node, "directives", None) or ()
            if d.name.value not in self.hidden_directives
        )

    def arguments(self, args: Any) -> tuple[Any, ...]:
        """The argument definitions that stay, without machinery directives."""
        return tuple(
            copy_node(a, directives=self.directives(a)) for a in args or () if self.is_kept(a)
        )

    def definition(self, definition: Any) -> Any | None:
        """The definition as the API schema has it, or None if it is left out."""
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            ops = tuple(
                op
                for op in definition.operation_types or ()
                if op.type.name.value not in self.removed_types
            )
            return copy_node(definition, directives=(), operation_types=ops)
        if isinstance(definition, DirectiveDefinitionNode):
            name = definition.name.value
            if name in self.hidden_directives or name.startswith(self.prefixes):
                return None
            return copy_node(definition, arguments=self.arguments(definition.arguments))
        if not isinstance(definition, (TypeDefinitionNode, *_TYPE_NODES)):
            return None
        if definition.name.value in self.removed_types:
            return None
        return copy_node(
            definition, directives=self.directives(definition), **self.members(definition)
        )

    def members(self, definition: Any) -> dict[str, tuple[Any, ...]]:
        """A type definition's fields/interfaces/members/values that stay."""
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            return {
                "fields": tuple(
                    copy_node(
                        f, directives=self.directives(f), arguments=self.arguments(f.arguments)
                    )
                    for f in definition.fields or ()
                    if self.is_kept(f)
                ),
                "interfaces": tuple(
                    i for i in definition.interfaces or () if i.name.value not in self.removed_types
                ),
            }
        if isinstance(definition, UnionTypeDefinitionNode):
            types = definition.types or ()
            return {"types": tuple(t for t in types if t.name.value not in self.removed_types)}
        if isinstance(definition, EnumTypeDefinitionNode):
            values = definition.values or ()
            kept = (v for v in values if not self.is_hidden(v))
            return {"values": tuple(copy_node(v, directives=self.directives(v)) for v in kept)}
        if isinstance(definition, InputObjectTypeDefinitionNode):
            fields = definition.fields or ()
            kept = (f for f in fields if self.is_kept(f))
            return {"fields": tuple(copy_node(f, directives=self.directives(f)) for f in kept)}
        return {}
