"""Parallel entity fetches to one subgraph, sent as one request (router/executor/batch.py):
the batched operation, and answers, errors and failures reported as each fetch's own.
The conformance suite answers every recorded case a third time through a batching
router (24 of its plans batch); these cover what the recordings do not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from graphql import parse

from router import Router
from router.executor.batch import batch_operation
from router.executor.fetcher import SubgraphRequestError
from tests.router.conftest import scenario

_ONE = "query Q__s__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on A { x } } }"  # noqa: E501
_TWO = "query Q__s__2($representations: [_Any!]!, $n: Int) { _entities(representations: $representations) { ... on B { y(n: $n) } } }"  # noqa: E501


def test_each_fetch_gets_an_alias_and_a_variable_of_its_own():
    batch = batch_operation(((_ONE, "representations"), (_TWO, "representations")))
    assert batch is not None
    assert batch.names == ("_b0", "_b1")  # each fetch's alias and variable
    document = parse(batch.operation)
    (operation,) = document.definitions
    assert [v.variable.name.value for v in operation.variable_definitions] == ["n", "_b0", "_b1"]
    assert operation.name.value == "Q__s__1"
    fields = operation.selection_set.selections
    assert [(f.alias.value, f.name.value) for f in fields] == [
        ("_b0", "_entities"),
        ("_b1", "_entities"),
    ]
    assert [f.arguments[0].value.name.value for f in fields] == ["_b0", "_b1"]


def test_a_client_variable_named_like_a_batch_variable_keeps_its_name():
    clash = _TWO.replace("$n", "$_b1")
    batch = batch_operation(((_ONE, "representations"), (clash, "representations")))
    assert batch is not None
    assert batch.names == ("_b0", "__b1")
    assert "$_b1: Int" in batch.operation


def test_one_variable_declared_with_two_types_is_not_batched():
    other = _TWO.replace("$n: Int", "$n: String")
    assert batch_operation(((_TWO, "representations"), (other, "representations"))) is None


@pytest.mark.parametrize(
    "other",
    [
        # fragments, operation directives, a second root field: not the planner's shape
        "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ...F } } fragment F on B { y }",  # noqa: E501
        "query Q($representations: [_Any!]!) @d { _entities(representations: $representations) { __typename } }",  # noqa: E501
        "query Q($representations: [_Any!]!) { _entities(representations: $representations) { __typename } x }",  # noqa: E501
        "mutation M($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }",  # noqa: E501
        "query Q( { broken",
    ],
)
def test_operations_that_cannot_share_a_request_are_not_batched(other: str):
    assert batch_operation(((_ONE, "representations"), (other, "representations"))) is None


class Scripted:
    """A subgraph client answering each call from a script: (service, answer or error)."""

    def __init__(self, urls: Mapping[str, str], answer: Any) -> None:
        self.urls = dict(urls)
        self.answer = answer
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def request(
        self, service: str, query: str, variables: Any, operation_name: Any = None,
        headers: Any = None, *, idempotent: bool = False, received: Any = None,
    ) -> dict[str, Any]:
        self.calls.append((service, query, dict(variables or {})))
        return self.answer(service, query, dict(variables or {}))

    async def aclose(self) -> None:
        pass


_QUERY = "{ us: boxes { id usLabel } eu: boxes { id euLabel } }"


def _router(answer: Any) -> tuple[Router, Scripted]:
    conflicting = scenario("requires-conflicting-args")
    client = Scripted({"boxes": "http://b", "labels": "http://l"}, answer)
    return Router.from_supergraph(conflicting.supergraph, client=client), client


def _boxes_then(labels: Any) -> Any:
    def answer(service: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if service == "boxes":
            boxes = [{"__typename": "Box", "id": f"b{i}", "side": float(i)} for i in (1, 2)]
            return {"data": {"us": boxes, "eu": [dict(box) for box in boxes]}}
        return labels(query, variables)

    return answer


async def test_answers_and_errors_come_back_to_their_own_fetch():
    def labels(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        aliases = [name for name in variables if isinstance(variables[name], list)]
        data = {
            alias: [{"usLabel": f"{alias}-{i}", "euLabel": f"{alias}-{i}"} for i in range(2)]
            for alias in aliases
        }
        errors = [
            {"message": "no eu label", "path": [aliases[1], 1, "euLabel"]},
            {"message": "somewhere", "path": ["elsewhere"]},
            {"message": "nowhere"},
        ]
        return {"data": data, "errors": errors}

    router, client = _router(_boxes_then(labels))
    async with router:
        answer = await router.execute(_QUERY)
    batched = [call for call in client.calls if call[0] == "labels"]
    assert len(batched) == 1  # two fetches to labels, one request
    assert answer["data"]["us"] == [
        {"id": "b1", "usLabel": "_b0-0"},
        {"id": "b2", "usLabel": "_b0-1"},
    ]
    assert answer["data"]["eu"] == [
        {"id": "b1", "euLabel": "_b1-0"},
        {"id": "b2", "euLabel": "_b1-1"},
    ]
    assert [(e["message"], e.get("path")) for e in answer["errors"]] == [
        ("no eu label", ["eu", 1, "euLabel"]),
        ("somewhere", None),
        ("nowhere", None),
    ]


async def test_a_failed_batch_fails_each_of_its_fetches_where_it_would_have_alone():
    def labels(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        raise SubgraphRequestError("labels", "HTTP fetch failed from 'labels': ConnectError")

    router, client = _router(_boxes_then(labels))
    async with router:
        answer = await router.execute(_QUERY)
    assert len([call for call in client.calls if call[0] == "labels"]) == 1
    assert [(e["message"], e.get("path")) for e in answer["errors"]] == [
        ("HTTP fetch failed from 'labels': ConnectError", ["us"]),
        ("HTTP fetch failed from 'labels': ConnectError", ["eu"]),
    ]
    assert answer["data"] is None or answer["data"]["us"] is None


async def test_without_batching_each_fetch_is_its_own_request():
    def labels(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return {"data": {"_entities": [{"usLabel": "u", "euLabel": "e"}] * 2}}

    conflicting = scenario("requires-conflicting-args")
    client = Scripted({"boxes": "http://b", "labels": "http://l"}, _boxes_then(labels))
    router = Router.from_supergraph(conflicting.supergraph, client=client, batch_fetches=False)
    async with router:
        answer = await router.execute(_QUERY)
    assert "errors" not in answer
    assert len([c for c in client.calls if c[0] == "labels"]) == 2


async def test_an_error_at_an_object_reached_by_several_paths_is_reported_once_per_path():
    # both stores are in one city: its answer (and the country in it) is merged into
    # both, so the country object is reached twice; its error is one per store
    def answer(service: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        city = {"__typename": "City", "id": "c1"}
        if service == "stores":
            return {"data": {"stores": [{"name": f"s{i}", "city": dict(city)} for i in (0, 1)]}}
        reps = variables["representations"]
        if service == "cities":
            country = {"__typename": "Country", "code": "FR"}
            return {"data": {"_entities": [{"name": "Paris", "country": country} for _ in reps]}}
        return {
            "data": {"_entities": [{"name": None} for _ in reps]},
            "errors": [{"message": "no name", "path": ["_entities", 0, "name"]}],
        }

    chain = scenario("entity-chain-linear")
    client = Scripted({name: f"http://{name}" for name in chain.subgraph_sdls}, answer)
    async with Router.from_supergraph(chain.supergraph, client=client) as router:
        response = await router.execute("{ stores { name city { name country { name } } } }")
    assert [(e["message"], e["path"]) for e in response["errors"]] == [
        ("no name", ["stores", 0, "city", "country", "name"]),
        ("no name", ["stores", 1, "city", "country", "name"]),
    ]


async def test_each_batched_fetch_keeps_its_own_bound_on_errors():
    def labels(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        aliases = [name for name in variables if isinstance(variables[name], list)]
        errors = [
            {"message": f"{alias} {n}", "path": [alias, n % 2, "usLabel"]}
            for alias in aliases
            for n in range(60)
        ]
        errors += [{"message": "odd", "path": ["elsewhere", 0]}, "not an error"]
        data = {alias: [{"usLabel": "u", "euLabel": "e"}] * 2 for alias in aliases}
        return {"data": data, "errors": errors}

    router, client = _router(_boxes_then(labels))
    async with router:
        answer = await router.execute(_QUERY)
    messages = [e["message"] for e in answer["errors"]]
    assert len([c for c in client.calls if c[0] == "labels"]) == 1
    # 60 per fetch, as two requests would have reported them; then the unplaced one
    # and the invalid item, as one answer's
    assert messages[:120] == [f"_b{i} {n}" for i in (0, 1) for n in range(60)]
    assert messages[120:] == [
        "odd",
        "Subgraph 'labels' returned an invalid 'errors' value: 1 of its 2 items are not "
        "error objects.",
    ]


def test_an_operation_without_its_representations_variable_is_not_batched():
    other = _TWO.replace("$representations: [_Any!]!, ", "")
    assert batch_operation(((_ONE, "representations"), (other, "representations"))) is None
