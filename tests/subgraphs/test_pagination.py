"""common/pagination: argument rules, cursors and page flags, without a database."""

from __future__ import annotations

import base64
import uuid

import orjson
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select

from subgraphs.common.errors import BadUserInput
from subgraphs.common.pagination import (
    DEFAULT_PAGE_SIZE,
    Ordering,
    PageArgs,
    PageQuery,
    PageWindow,
    SortKey,
    decode_cursor,
    encode_cursor,
    page_of,
    page_window,
)

_TABLE = Table(
    "things", MetaData(), Column("id", Uuid), Column("name", String(10)), Column("n", Integer)
)
ID = SortKey(_TABLE.c.id, decode=uuid.UUID)
BY_NAME = Ordering("NAME", (SortKey(_TABLE.c.name), ID))
BY_NAME_DESC = Ordering("NAME_DESC", (SortKey(_TABLE.c.name, True), ID))
ONE = uuid.UUID(int=1)


def test_a_window_defaults_to_the_first_page_and_reads_both_directions() -> None:
    assert page_window(PageArgs(), BY_NAME) == PageWindow(DEFAULT_PAGE_SIZE, True, None, None)
    after = encode_cursor(BY_NAME, ["a", ONE])
    before = encode_cursor(BY_NAME, ["z", ONE])
    assert page_window(PageArgs(first=3, after=after, before=before), BY_NAME) == PageWindow(
        3, True, ["a", ONE], ["z", ONE]
    )
    # going backward the page starts from `before`; `after` is where it must stop
    assert page_window(PageArgs(last=4, after=after, before=before), BY_NAME) == PageWindow(
        4, False, ["z", ONE], ["a", ONE]
    )
    assert page_window(PageArgs(last=0), BY_NAME).size == 0


@pytest.mark.parametrize(
    ("args", "message", "field"),
    [
        (PageArgs(first=1, last=1), "Pass `first` or `last`, not both", ["last"]),
        (PageArgs(first=101), "`first` must be at most 100 (got 101)", None),
        (PageArgs(last=101), "`last` must be at most 100 (got 101)", None),
        (PageArgs(first=-1), "`first` must not be negative", None),
        (PageArgs(last=-5), "`last` must not be negative", None),
        (PageArgs(before="x"), "Invalid cursor for this list (`before`)", ["before"]),
    ],
)
def test_bad_arguments(args: PageArgs, message: str, field: list[str] | None) -> None:
    with pytest.raises(BadUserInput) as raised:
        page_window(args, BY_NAME)
    assert (raised.value.message, raised.value.field) == (message, field)


def test_a_cursor_names_its_ordering() -> None:
    cursor = encode_cursor(BY_NAME, ["a", ONE])
    assert orjson.loads(base64.urlsafe_b64decode(cursor)) == ["NAME", "a", str(ONE)]
    assert decode_cursor(cursor, BY_NAME) == ["a", ONE]
    for other in (BY_NAME_DESC, Ordering("NAME", (ID,))):
        with pytest.raises(BadUserInput) as raised:
            decode_cursor(cursor, other, "before")
        assert raised.value.field == ["before"]


def test_page_flags_in_both_directions() -> None:
    forward = PageWindow(2, True, None, None)
    assert page_of(forward, [1, 2, 3], behind=False, past_stop=False).__dict__ == {
        "rows": [1, 2],
        "has_next": True,
        "has_previous": False,
    }
    # no extra row, but the far cursor cut the page short and rows lie beyond it
    assert page_of(forward, [1], behind=True, past_stop=True).__dict__ == {
        "rows": [1],
        "has_next": True,
        "has_previous": True,
    }
    # backward: fetched nearest-first, returned in list order
    backward = PageWindow(2, False, None, None)
    assert page_of(backward, [9, 8, 7], behind=True, past_stop=False).__dict__ == {
        "rows": [8, 9],
        "has_next": True,
        "has_previous": True,
    }
    assert page_of(backward, [9], behind=False, past_stop=False).__dict__ == {
        "rows": [9],
        "has_next": False,
        "has_previous": False,
    }


def _sql(statement: object) -> str:
    return " ".join(str(statement).split())


def test_backward_pages_read_the_order_reversed() -> None:
    window = page_window(PageArgs(last=2, before=encode_cursor(BY_NAME, ["m", ONE])), BY_NAME)
    query = PageQuery(select(_TABLE), BY_NAME, window)
    sql = _sql(query.statement())
    assert "ORDER BY things.name DESC, things.id DESC" in sql
    assert "things.name < :name_1 OR things.name = :name_2 AND things.id < :id_1" in sql
    assert query.past_stop() is None
    behind = _sql(query.behind())
    assert behind == "NOT (things.name < :name_1 OR things.name = :name_2 AND things.id < :id_1)"
    first_page = PageQuery(select(_TABLE), BY_NAME, page_window(PageArgs(first=2), BY_NAME))
    assert first_page.behind() is None  # a page from the list's start has nothing before it
