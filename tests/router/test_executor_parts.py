"""The executor's data plumbing, on plain data: collecting objects at a path, building
representations, merging answers, renaming aliased keys back."""

from __future__ import annotations

import orjson

from router.executor.execute import (
    MISSING,
    build_representation,
    collect,
    merge,
    objects_at,
    plain_path,
)
from router.planner.inputs import InputField, InputSelection
from router.planner.subquery import apply_renames, renamed_path


def test_collect_walks_lists_and_keeps_response_paths():
    data = {
        "shelves": [
            {"books": [{"id": 1}, None, {"id": 2}]},
            None,
            {"books": [[{"id": 3}], [{"id": 4}, {"id": 5}]]},
        ]
    }
    found = collect(data, ("shelves", "@", "books", "@"))
    assert [(obj.get("id"), path) for obj, path in found] == [
        (1, ("shelves", 0, "books", 0)),
        (2, ("shelves", 0, "books", 2)),
        # a nested list the path did not walk into is flattened one level
        (3, ("shelves", 2, "books", 0, 0)),
        (4, ("shelves", 2, "books", 1, 0)),
        (5, ("shelves", 2, "books", 1, 1)),
    ]


def test_representation_copies_keys_requirements_and_nested_objects():
    selection = InputSelection(
        (
            InputField("__typename", "__typename"),
            InputField("id", "id"),
            InputField("price", "price__1"),  # fetched under an alias
            InputField("dims", "dims", InputSelection((InputField("w", "w"),))),
        )
    )
    obj = {"__typename": "P", "id": "p1", "price": 5, "price__1": 7, "dims": {"w": 2, "h": 9}}
    assert build_representation(obj, selection) == {
        "__typename": "P",
        "id": "p1",
        "price": 7,
        "dims": {"w": 2},
    }
    # a key the data lacks (its fetch failed) means no representation at all
    assert build_representation({"__typename": "P"}, selection) is MISSING


def test_representation_includes_type_specific_requirements():
    selection = InputSelection(
        (InputField("__typename", "__typename"),),
        (("Book", (InputField("pages", "pages"),)), ("Film", (InputField("minutes", "minutes"),))),
    )
    book = {"__typename": "Book", "pages": 300, "minutes": None}
    assert build_representation(book, selection) == {"__typename": "Book", "pages": 300}


def test_a_requirement_excluded_by_the_clients_conditions_is_left_out():
    # `price` is required only under @include(if: $withShipping)
    price = InputField("price", "price", conditions=frozenset({(("withShipping", True),)}))
    selection = InputSelection(
        (InputField("__typename", "__typename"), InputField("id", "id"), price)
    )
    obj = {"__typename": "P", "id": "p1"}
    assert build_representation(obj, selection, {"withShipping": False}) == {
        "__typename": "P",
        "id": "p1",
    }
    # included, yet absent (the fetch that brings it failed): no representation
    assert build_representation(obj, selection, {"withShipping": True}) is MISSING


def test_merge_is_deep_and_keeps_values_a_null_does_not_replace():
    target = {
        "a": {"x": 1, "list": [{"id": 1}, None, [{"k": 1}]]},
        "b": "kept",
    }
    merge(
        target,
        {"a": {"y": 2, "list": [{"name": "one"}, {"id": 2}, [{"v": 2}]]}, "b": None, "c": 3},
    )
    assert target == {
        "a": {"x": 1, "y": 2, "list": [{"id": 1, "name": "one"}, {"id": 2}, [{"k": 1, "v": 2}]]},
        "b": "kept",
        "c": 3,
    }


def test_renames_restore_client_keys_at_any_depth():
    response = {
        "members": [
            {"__typename": "Person", "id": "p1", "similar": [{"id__alias_0": "x"}]},
            {"__typename": "Bot", "id__alias_0": "b1"},
        ]
    }
    renames = {
        "members": (
            "members",
            {"id__alias_0": ("id", None), "similar": ("similar", {"id__alias_0": ("id", None)})},
        )
    }
    apply_renames(response, renames)
    assert response == {
        "members": [
            {"__typename": "Person", "id": "p1", "similar": [{"id": "x"}]},
            {"__typename": "Bot", "id": "b1"},
        ]
    }


def test_error_paths_get_the_clients_keys_back():
    renames = {"audit__if1": ("audit", None), "box": ("box", {"w__alias_0": ("w", None)})}
    assert renamed_path(["entries", 1, "audit__if1"], {"entries": ("entries", renames)}) == [
        "entries",
        1,
        "audit",
    ]
    assert renamed_path(["box", "w__alias_0"], renames) == ["box", "w"]
    # below a key the planner did not alias, nothing is renamed
    assert renamed_path(["other", "audit__if1"], renames) == ["other", "audit__if1"]


def test_only_plain_error_paths_are_renamed_and_deduplicated():
    # a subgraph's error path is not checked by anyone before the router: a step that
    # is not a key or an index must not crash the request (it was hashed)
    assert plain_path(["entries", 0, "audit"])
    assert not plain_path(["entries", 0, {"weird": 1}])
    assert not plain_path("entries.0")


def test_objects_at_finds_what_collect_finds_in_the_same_order():
    data = {
        "shelves": [
            {"books": [{"id": 1}, None, {"id": 2}, "odd"]},
            None,
            {"books": [[{"id": 3}], [{"id": 4}, None, {"id": 5}]]},
            {"books": None},
            {"books": {"id": 6}},
        ]
    }
    for path in (("shelves", "@", "books", "@"), ("shelves", "@", "books"), ("shelves",), ()):
        assert objects_at(data, path) == [obj for obj, _ in collect(data, path)]
    assert [b["id"] for b in objects_at(data, ("shelves", "@", "books", "@"))] == [1, 2, 3, 4, 5]
    # objects only, no nulls or odd values on the way: each step is read in C
    tidy = {"shelves": [{"books": [{"id": 1}]}, {"books": None}, {"x": 1},
                        {"books": [{"id": 2}, {"id": 3}]}]}
    for path in (("shelves", "@", "books", "@"), ("shelves", "@", "books")):
        assert objects_at(tidy, path) == [obj for obj, _ in collect(tidy, path)]
    assert [b["id"] for b in objects_at(tidy, ("shelves", "@", "books", "@"))] == [1, 2, 3]


def test_a_run_resumes_walks_from_what_it_found_until_an_answer_changes_it():
    from router.executor.execute import _Run

    run = _Run(None, {}, None)  # type: ignore[arg-type]
    shelves = [{"books": [{"id": 1}]}, {"books": [{"id": 2}]}]
    run.data = {"shelves": shelves}
    assert run.objects_at(("shelves", "@")) == shelves
    assert [b["id"] for b in run.objects_at(("shelves", "@", "books", "@"))] == [1, 2]
    # an answer merged into the shelves: what lies below them is walked again
    shelves[0]["books"] = [{"id": 3}]
    run.merged_at(("shelves", "@"))
    assert [b["id"] for b in run.objects_at(("shelves", "@", "books", "@"))] == [3, 2]
    assert ("shelves", "@") in run.found  # the shelves themselves are the same objects
    # answers merged elsewhere leave it alone; a root answer forgets everything
    run.merged_at(("other",))
    assert ("shelves", "@", "books", "@") in run.found
    run.merged_at(())
    assert run.found == {}
    run.found = None  # a @defer'red part: other parts write the same data
    assert [b["id"] for b in run.objects_at(("shelves", "@", "books", "@"))] == [3, 2]


def test_representations_equal_in_python_but_not_in_json_stay_apart():
    from router.executor.execute import _representations, _Run
    from router.planner.nodes import Fetch, Flatten

    selection = InputSelection((InputField("__typename", "__typename"), InputField("id", "id")))
    fetch = Fetch(
        id=1, service="s", operation="query { x }", operation_kind="query",
        variable_usages=(), requires={"P": selection}, type_map={"P": "P"},
    )
    run = _Run(None, {}, None)  # type: ignore[arg-type]
    ids = [1, True, 1.0, 1, "1", ["a"], ["a"]]
    run.data = {"items": [{"__typename": "P", "id": i} for i in ids]}
    representations, targets = _representations(Flatten(("items", "@"), fetch), run)
    assert [rep["id"] for rep in representations] == [1, True, 1.0, "1", ["a"]]
    assert [len(objs) for objs in targets] == [2, 1, 1, 1, 2]


def _fetch_of(requires: dict[str, InputSelection], type_map: dict[str, str]):
    from router.planner.nodes import Fetch

    return Fetch(
        id=1, service="s", operation="query { x }", operation_kind="query",
        variable_usages=(), requires=requires, type_map=type_map,
    )


def _key(*names: str) -> InputSelection:
    return InputSelection((InputField("__typename", "__typename"),
                           *(InputField(name, name) for name in names)))


def test_one_type_with_string_keys_is_grouped_in_first_seen_order_under_the_subgraph_type():
    from router.executor.execute import _one_type_representations

    fetch = _fetch_of({"Sub": _key("upc")}, {"Product": "Sub"})
    objs = [{"__typename": "Product", "upc": u, "n": i} for i, u in enumerate("abab c")]
    found = _one_type_representations(fetch, objs, {})
    assert found is not None
    representations, targets = found
    assert representations == [{"__typename": "Sub", "upc": u} for u in ("a", "b", " ", "c")]
    assert [[obj["n"] for obj in group] for group in targets] == [[0, 2], [1, 3], [4], [5]]


def test_one_type_keys_equal_in_python_but_not_in_json_stay_apart():
    # found by review: 0.0 and -0.0 were one representation (equal and hashed alike)
    from router.executor.execute import _one_type_representations

    fetch = _fetch_of({"P": _key("id", "n")}, {"P": "P"})
    pairs = [("a", 1), ("a", 1.0), ("a", True), ("a", 0.0), ("a", -0.0), ("a", 0),
             ("a", False), ("a", 1), ("a", "1"), ("a", None), ("a", [1]), ("a", [1])]
    objs = [{"__typename": "P", "id": i, "n": n} for i, n in pairs]
    found = _one_type_representations(fetch, objs, {})
    assert found is not None
    representations, targets = found
    assert orjson.dumps([rep["n"] for rep in representations]) == (
        b'[1,1.0,true,0.0,-0.0,0,false,"1",null,[1]]')
    assert [len(group) for group in targets] == [2, 1, 1, 1, 1, 1, 1, 1, 1, 2]


def _colliding_pairs(count: int) -> list[tuple[int, int]]:
    """Pairs of ints whose tuple hashes are all equal: CPython hashes ints and tuples
    without a per-process seed, so anyone can compute them (this inverts the tuple hash's
    xxHash-style round for the second element)."""
    mask, prime1, prime2, prime5 = (1 << 64) - 1, 11400714785074694791, \
        14029467366897019727, 2870177450012600261

    def round_(acc: int, lane: int) -> int:
        acc = (acc + lane * prime2) & mask
        return (((acc << 31) | (acc >> 33)) & mask) * prime1 & mask

    goal = round_(round_(prime5, hash(0) & mask), hash(0) & mask)
    goal = goal * pow(prime1, -1, 1 << 64) & mask
    before = ((goal >> 31) | (goal << 33)) & mask  # the accumulator before the last rotation
    pairs, first = [], 0
    while len(pairs) < count:
        first += 1
        lane = (before - round_(prime5, hash(first) & mask)) * pow(prime2, -1, 1 << 64) & mask
        second = lane if lane < 1 << 63 else lane - (1 << 64)
        if second != -1 and hash(second) & mask == lane:
            pairs.append((first, second))
    return pairs


def test_number_keys_are_grouped_by_json_whose_hashes_a_subgraph_cannot_collide():
    # found by review: keys of two number fields were grouped as tuples, whose hashes a
    # subgraph can make all equal: 4,000 such objects took 649 ms instead of 25
    from router.executor.execute import _grouping_keys, _one_type_representations

    pairs = _colliding_pairs(2000)
    assert len({hash(pair) for pair in pairs}) == 1  # the hazard is real in this Python
    assert len({hash(key) for key in _grouping_keys(pairs)}) > 1990
    assert _grouping_keys(["a", "b"]) == ["a", "b"]  # strings hash with a seed already
    fetch = _fetch_of({"P": _key("a", "b")}, {"P": "P"})
    objs = [{"__typename": "P", "a": a, "b": b} for a, b in pairs]
    found = _one_type_representations(fetch, objs, {})
    assert found is not None
    assert [(rep["a"], rep["b"]) for rep in found[0]] == pairs


def test_the_one_type_path_gives_way_where_it_cannot_tell_representations_apart():
    from router.executor.execute import _one_type_representations

    fetch = _fetch_of({"P": _key("id"), "Q": _key("id")}, {"P": "P", "Q": "Q"})
    assert _one_type_representations(fetch, [{"__typename": "P", "id": 1},
                                             {"__typename": "Q", "id": 2}], {}) is None
    assert _one_type_representations(fetch, [{"__typename": "P"}], {}) is None  # no id
    assert _one_type_representations(fetch, [{"id": 1}], {}) is None  # no __typename
    assert _one_type_representations(fetch, [{"__typename": "P", "id": {1: 2}}], {}) is None
    assert _one_type_representations(fetch, [{"__typename": "R", "id": 1}], {}) == ([], [])
    assert _one_type_representations(fetch, [], {}) == ([], [])


def test_the_one_type_path_agrees_with_the_general_one_on_random_objects():
    import random

    from router.executor.execute import _mixed_representations, _one_type_representations

    fetch = _fetch_of({"P": _key("a", "b"), "Q": _key("a")}, {"P": "P", "Q": "Q"})
    mixed = ["1", "2", 1, 2, 1.0, True, False, 0, 0.0, -0.0, None, 2.5, [1], {"a": 1}]
    plain = ["1", "2", "3", 1, 2, None]
    rng = random.Random(15)
    taken = given_way = 0
    for _ in range(500):
        typename, pool = rng.choice(["P", "Q"]), rng.choice([mixed, plain])
        objs = [{"__typename": typename, "a": rng.choice(pool), "b": rng.choice(pool)}
                for _ in range(rng.randint(1, 12))]
        odd = rng.random()
        if odd < 0.1:
            objs[-1]["__typename"] = "Q" if typename == "P" else "P"  # two types
        elif odd < 0.2:
            del objs[-1]["a"]  # a key field missing
        fast = _one_type_representations(fetch, objs, {})
        if fast is None:
            given_way += 1
            continue
        taken += 1
        slow = _mixed_representations(fetch, objs, {})
        assert orjson.dumps(fast[0]) == orjson.dumps(slow[0])
        assert [[id(o) for o in group] for group in fast[1]] == [
            [id(o) for o in group] for group in slow[1]]
    assert taken > 300 and given_way > 50  # both paths were taken


def test_objects_whose_typename_no_dict_takes_get_no_representation():
    # they raised TypeError (an internal error); shaping reports them as invalid objects
    from router.executor.execute import _representations, _Run
    from router.planner.nodes import Flatten

    fetch = _fetch_of({"P": _key("id")}, {"P": "P"})
    run = _Run(None, {}, None)  # type: ignore[arg-type]
    run.data = {"items": [{"__typename": ["P"], "id": "1"}, {"__typename": "P", "id": "2"},
                          {"__typename": {"P": 1}, "id": "3"}]}
    representations, targets = _representations(Flatten(("items", "@"), fetch), run)
    assert representations == [{"__typename": "P", "id": "2"}]
    assert targets == [[run.data["items"][1]]]
