"""Documents are parsed without leaving reference cycles (router/documents.py): the
router collects garbage rarely, and hostile documents' tokens piled up (bench.attack:
+311 MB) while they waited for a full collection."""

from __future__ import annotations

import gc

import pytest
from graphql import GraphQLSyntaxError, parse

from router.documents import parse_document

QUERY = "{ " + " ".join(f"f{i}: a(x: {i}) # note\n" for i in range(500)) + " }"


def _cycles_left_by(call) -> int:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            document = call()
        except GraphQLSyntaxError:
            document = None
        del document
        return gc.collect()
    finally:
        if enabled:
            gc.enable()


def test_a_parsed_document_leaves_no_cycles_where_graphql_parse_does():
    assert _cycles_left_by(lambda: parse(QUERY)) > 1000  # what it fixes
    assert _cycles_left_by(lambda: parse_document(QUERY)) == 0
    assert _cycles_left_by(lambda: parse_document(QUERY, no_location=True)) == 0


def test_a_refused_document_leaves_no_cycles_either():
    assert _cycles_left_by(lambda: parse_document(QUERY, max_lexical_tokens=100)) == 0
    assert _cycles_left_by(lambda: parse_document(QUERY + " {")) == 0


def test_it_parses_and_refuses_as_graphql_parse():
    assert parse_document(QUERY).to_dict() == parse(QUERY).to_dict()
    deep = "{ a " * 2000 + "}" * 2000
    with pytest.raises(GraphQLSyntaxError) as ours:
        parse_document(deep)
    with pytest.raises(GraphQLSyntaxError) as theirs:
        parse(deep)
    assert ours.value.message == theirs.value.message
    assert "nested too deeply" in ours.value.message
