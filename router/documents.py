"""Parsing GraphQL documents without leaving reference cycles behind.

graphql-core's lexer links its tokens both ways (`prev`, `next`), so once a document is
parsed its tokens are a reference cycle each, freed only when the collector examines the
generation they reached. `shopgraph router` runs the collector rarely (a young collection
every 20,000 allocations, router/commands/router.py), and under bench.attack's hostile
mix (documents of 100,000 tokens, a megabyte of comments) their tokens piled up: the
router grew by 311 MB. Unlinked once the parser is done with them, tokens go with the
last reference to them (a location's first and last token stay while its document does).
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, Source
from graphql.language import Lexer, Token
from graphql.language.parser import Parser, nested_too_deeply_error


def parse_document(text: str, **options: Any) -> DocumentNode:
    """`graphql.parse(text, **options)`, its tokens unlinked afterwards (also when it
    raises: the tokens read until then). Like `graphql.parse`, a document nested deeper
    than the parser goes is a GraphQLSyntaxError."""
    source = Source(text)
    lexer = Lexer(source)
    parser = Parser(source, lexer=lexer, **options)
    try:
        return parser.parse_document()
    except RecursionError:
        pass  # the error is raised outside the handler: the deep stack is gone by then
    finally:
        _unlink(lexer.token)
    raise nested_too_deeply_error(parser)  # as graphql.parse says it


def _unlink(token: Token | None) -> None:
    """Break the chain of tokens ending at `token`, from its end (iteratively)."""
    while token is not None:
        previous = token.prev
        token.prev = token.next = None
        token = previous
