"""common/pagination: argument rules, cursors and page flags, without a database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from sqlalchemy import (
    REAL,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    select,
)

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
    "things",
    MetaData(),
    Column("id", Uuid),
    Column("name", String(10)),
    Column("n", Integer),
    Column("price", Numeric(12, 2)),
    Column("created", DateTime(timezone=True)),
    Column("rank", REAL),
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
        (PageArgs(first=101), "`first` must be at most 100 (got 101)", ["first"]),
        (PageArgs(last=101), "`last` must be at most 100 (got 101)", ["last"]),
        (PageArgs(first=-1), "`first` must not be negative", ["first"]),
        (PageArgs(last=-5), "`last` must not be negative", ["last"]),
        (PageArgs(before="x"), "Invalid cursor for this list (`before`)", ["before"]),
    ],
)
def test_bad_arguments(args: PageArgs, message: str, field: list[str]) -> None:
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


# Orderings as the shop's lists build them (products' price, newest and relevance).
BY_PRICE = Ordering("PRICE", (SortKey(_TABLE.c.price, decode=Decimal), ID))
BY_NEWEST = Ordering(
    "NEWEST",
    (
        SortKey(
            _TABLE.c.created, True, encode=datetime.isoformat, decode=datetime.fromisoformat
        ),
        ID,
    ),
)
BY_RANK = Ordering("RANK", (SortKey(_TABLE.c.rank, True, encode=repr, decode=float), ID))
TEXT_ID = str(ONE)


def _crafted(values: list[object]) -> str:
    """A cursor spelled as encode_cursor spells one (compact JSON, padded url-safe
    base64), so only the values can make it one the list does not write."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


@pytest.mark.parametrize(
    ("ordering", "written"),
    [
        (BY_PRICE, [Decimal("5.00"), ONE]),
        (BY_PRICE, [Decimal("0.00"), ONE]),
        (BY_PRICE, [Decimal("9999999999.99"), ONE]),
        (BY_NEWEST, [datetime(2026, 11, 30, 0, 0, tzinfo=UTC), ONE]),
        (BY_NEWEST, [datetime(2026, 11, 30, 0, 0, 0, 120, tzinfo=UTC), ONE]),
        (BY_RANK, [0.0607927106320858, ONE]),
        (BY_RANK, [0.0, ONE]),
    ],
)
def test_the_cursors_a_list_writes_read_back(ordering: Ordering, written: list[object]) -> None:
    assert decode_cursor(encode_cursor(ordering, written), ordering) == written


@pytest.mark.parametrize(
    ("ordering", "value"),
    [
        (BY_PRICE, " 5 "),
        (BY_PRICE, "\u0665"),  # ARABIC-INDIC DIGIT FIVE: Decimal reads it as 5
        (BY_PRICE, "1E+2"),
        (BY_PRICE, "-5"),
        (BY_PRICE, "5"),
        (BY_PRICE, "5.000"),
        (BY_PRICE, "-0.00"),
        (BY_RANK, " 0.5\n"),
        (BY_RANK, "1_0"),
        (BY_RANK, "-0"),
        (BY_RANK, "1e1"),
        (BY_RANK, "0.50"),
        (BY_NEWEST, "2026-11-30T01:00:00+01:00"),  # the same moment, not as read back
        (BY_NEWEST, "2026-11-30T00:00:00Z"),
        (BY_NEWEST, "2026-11-30 00:00:00+00:00"),
        (BY_NEWEST, "2026-11-30T00:00:00.000000+00:00"),
        (BY_NEWEST, "0001-01-01T00:00:00+00:00"),  # asyncpg would send -infinity
        (BY_NEWEST, "9999-12-31T23:59:59.999999+00:00"),  # and infinity
        (BY_NEWEST, "9999-12-31T23:59:59-14:00"),  # year 10000 in UTC
    ],
)
def test_other_spellings_of_a_sort_value_are_refused(ordering: Ordering, value: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor(_crafted([ordering.name, value, TEXT_ID]), ordering, "before")
    assert (raised.value.message, raised.value.field) == (
        "Invalid cursor for this list (`before`)",
        ["before"],
    )


@pytest.mark.parametrize(
    "spelled",
    [
        "{" + TEXT_ID + "}",
        "urn:uuid:" + TEXT_ID,
        TEXT_ID.upper().replace("0", "A"),  # another id, but one never written upper-case
        TEXT_ID.replace("-", ""),
        " " + TEXT_ID,
    ],
)
def test_other_spellings_of_an_id_are_refused(spelled: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor(_crafted(["NAME", "a", spelled]), BY_NAME)
    assert raised.value.field == ["after"]


def _respelled(cursor: str) -> list[str]:
    """The same ordering and values as `cursor`, spelled otherwise."""
    raw = base64.urlsafe_b64decode(cursor)
    spaced = orjson.loads(raw)
    return [
        cursor.rstrip("="),  # no padding
        cursor + "\n",
        " " + cursor,
        base64.urlsafe_b64encode(raw.replace(b",", b", ")).decode(),  # JSON with spaces
        base64.urlsafe_b64encode(raw.replace(b"a", b"\\u0061")).decode(),  # escaped
        base64.urlsafe_b64encode(orjson.dumps(spaced, option=orjson.OPT_INDENT_2)).decode(),
    ]


def test_other_spellings_of_a_whole_cursor_are_refused() -> None:
    cursor = encode_cursor(BY_NAME, ["ab", ONE])  # ends with "==": padded
    assert decode_cursor(cursor, BY_NAME) == ["ab", ONE]
    for respelled in _respelled(cursor):
        assert respelled != cursor
        with pytest.raises(BadUserInput) as raised:
            decode_cursor(respelled, BY_NAME)
        assert raised.value.field == ["after"], respelled
