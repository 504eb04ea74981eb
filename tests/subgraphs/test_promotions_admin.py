"""promotions: what admins create, schedule, disable and list; what a storefront sees."""

from __future__ import annotations

from typing import Any

import pytest
from promotions_helpers import (
    ACTIVE,
    DISABLE,
    SCHEDULE,
    buy_get,
    create,
    created,
    fixed,
    hours,
    percent_off,
)
from subgraph_stack import Stack, admin_token, customer_token, service_token


async def test_each_kind_is_created_with_its_rule(stack: Stack) -> None:
    tea = await created(stack, "tea3for2", buy_get(), priority=10)
    assert tea["code"] == "TEA3FOR2"  # codes are stored upper-case
    assert tea["kind"] == "BUY_N_GET_M_FREE"
    assert tea["status"] == "ACTIVE"
    assert tea["priority"] == 10
    assert tea["rule"] == {
        "__typename": "BuyNGetMFreeRule",
        "categorySlug": "tea",
        "buy": 2,
        "get": 1,
    }
    coffee = await created(stack, "COFFEE15", percent_off("coffee", "12.5"))
    assert coffee["rule"] == {
        "__typename": "PercentageOffCategoryRule",
        "categorySlug": "coffee",
        "percent": "12.5",
    }
    five = await created(stack, "FIVE-OFF_50", fixed("5", "50.00"), endsAt=hours(48))
    assert five["rule"] == {
        "__typename": "FixedAmountOverThresholdRule",
        "amount": {"amount": "5.00", "currencyCode": "USD"},
        "threshold": {"amount": "50.00", "currencyCode": "USD"},
    }
    assert five["endsAt"] is not None and five["disabledAt"] is None


async def test_active_promotions_lists_only_what_runs_now_for_anyone(stack: Stack) -> None:
    await created(stack, "RUNNING", buy_get(), priority=1)
    await created(stack, "FIRST", percent_off("tea", "5"), priority=7)
    await created(stack, "LATER", buy_get(), startsAt=hours(24))
    await created(stack, "GONE", buy_get(), startsAt=hours(-48), endsAt=hours(1))
    await created(stack, "STOPPED", buy_get())
    await stack.data("promotions", DISABLE, {"input": {"code": "stopped"}}, admin_token())
    expire = "UPDATE promotions SET ends_at = now() - interval '1 hour' WHERE code = 'GONE'"
    await stack.sql("promotions", expire)
    for token in (None, customer_token()):
        active = (await stack.data("promotions", ACTIVE, token=token))["activePromotions"]
        assert [p["code"] for p in active] == ["FIRST", "RUNNING"]  # priority first
        assert {p["status"] for p in active} == {"ACTIVE"}


async def test_admin_fields_are_refused_to_others_on_the_public_list(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get(), priority=3)
    query = "{ activePromotions { code priority createdAt disabledAt } }"
    body = await stack.gql("promotions", query, token=customer_token())
    assert body["data"]["activePromotions"] == [
        {"code": "TEA3FOR2", "priority": None, "createdAt": None, "disabledAt": None}
    ]
    assert sorted((e["path"][-1], e["extensions"]["code"]) for e in body["errors"]) == [
        ("createdAt", "FORBIDDEN"),
        ("disabledAt", "FORBIDDEN"),
        ("priority", "FORBIDDEN"),
    ]
    seen = await stack.data("promotions", query, token=admin_token())
    [promotion] = seen["activePromotions"]
    assert promotion["priority"] == 3 and promotion["createdAt"] is not None


# Moments Python can hold whose UTC time falls outside years 1-9999.
LAST_LOCAL_MOMENT = "9999-12-31T23:59:59-14:00"
FIRST_LOCAL_MOMENT = "0001-01-01T00:00:00+14:00"
OUT_OF_RANGE = "must fall after 0001-01-01T00:00:00Z and before 9999-12-31T23:59:59.999999Z"


def _errors(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        (percent_off("tea", "0"), {}, ["percentageOffCategory", "percent"]),
        (percent_off("tea", "100.01"), {}, ["percentageOffCategory", "percent"]),
        (percent_off("tea", "12.345"), {}, ["percentageOffCategory", "percent"]),
        (percent_off("Tea", "10"), {}, ["percentageOffCategory", "categorySlug"]),
        (fixed("5", "0"), {}, ["fixedAmountOverThreshold", "threshold", "amount"]),
        (fixed("-1", "20"), {}, ["fixedAmountOverThreshold", "amount", "amount"]),
        (fixed("30", "20"), {}, ["fixedAmountOverThreshold", "amount", "amount"]),
        (buy_get(buy=0), {}, ["buyNGetMFree", "buy"]),
        (buy_get(get=101), {}, ["buyNGetMFree", "get"]),
        (buy_get(), {"code": "x!"}, ["code"]),
        (buy_get(), {"description": "  "}, ["description"]),
        (buy_get(), {"priority": -1}, ["priority"]),
        (buy_get(), {"endsAt": hours(-1)}, ["endsAt"]),
        (buy_get(), {"startsAt": hours(5), "endsAt": hours(4)}, ["endsAt"]),
        (buy_get(), {"startsAt": "2030-01-01T00:00:00"}, ["startsAt"]),
        # year 10000 and year 0 in UTC: asyncpg could not store them (was a 500)
        (buy_get(), {"endsAt": LAST_LOCAL_MOMENT}, ["endsAt"]),
        (buy_get(), {"startsAt": FIRST_LOCAL_MOMENT}, ["startsAt"]),
        (fixed("-0", "20"), {}, ["fixedAmountOverThreshold", "amount", "amount"]),
        (fixed("5", "-0.00"), {}, ["fixedAmountOverThreshold", "threshold", "amount"]),
        (percent_off("tea", "-0"), {}, ["percentageOffCategory", "percent"]),
        ({}, {}, []),
        ({**buy_get(), **percent_off("tea", "5")}, {}, []),
    ],
)
async def test_each_broken_rule_is_a_user_error_naming_its_field(
    stack: Stack, kind: dict[str, Any], fields: dict[str, Any], expected: list[str]
) -> None:
    payload = await create(stack, fields.pop("code", "BROKEN"), kind, **fields)
    assert payload["promotion"] is None
    assert _errors(payload) == [("INVALID_INPUT", ["input", *expected])]
    assert await stack.sql("promotions", "SELECT code FROM promotions") == []


async def test_the_kind_inputs_are_a_one_of(stack: Stack) -> None:
    payload = await create(stack, "NONE", {})
    assert payload["userErrors"][0]["message"] == (
        "give exactly one of percentageOffCategory, fixedAmountOverThreshold, buyNGetMFree "
        "(got none)"
    )


async def test_amount_and_threshold_in_two_currencies_are_refused(stack: Stack) -> None:
    kind = fixed("5", "50")
    kind["fixedAmountOverThreshold"]["threshold"]["currencyCode"] = "EUR"
    payload = await create(stack, "MIXED", kind)
    assert _errors(payload) == [
        ("CURRENCY_MISMATCH", ["input", "fixedAmountOverThreshold", "threshold", "currencyCode"])
    ]


async def test_a_code_is_taken_whatever_its_case(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    payload = await create(stack, " tea3for2 ", percent_off("tea", "5"))
    assert _errors(payload) == [("PROMOTION_CODE_TAKEN", ["input", "code"])]
    assert payload["userErrors"][0]["message"] == (
        "The code TEA3FOR2 is already used by another promotion"
    )


async def test_schedule_moves_a_promotion_out_of_the_active_list_and_back(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    later = {"code": "tea3for2", "startsAt": hours(24), "endsAt": hours(48)}
    moved = (await stack.data("promotions", SCHEDULE, {"input": later}, admin_token()))
    assert moved["schedulePromotion"]["userErrors"] == []
    assert moved["schedulePromotion"]["promotion"]["status"] == "SCHEDULED"
    assert (await stack.data("promotions", ACTIVE))["activePromotions"] == []
    now = {"code": "TEA3FOR2", "startsAt": hours(-1)}
    back = (await stack.data("promotions", SCHEDULE, {"input": now}, admin_token()))
    assert back["schedulePromotion"]["promotion"]["status"] == "ACTIVE"
    assert back["schedulePromotion"]["promotion"]["endsAt"] is None
    assert [p["code"] for p in (await stack.data("promotions", ACTIVE))["activePromotions"]] == [
        "TEA3FOR2"
    ]


async def test_schedule_refuses_unknown_disabled_and_backwards(stack: Stack) -> None:
    async def schedule(code: str, starts: str, ends: str | None = None) -> dict[str, Any]:
        input = {"code": code, "startsAt": starts, "endsAt": ends}
        data = await stack.data("promotions", SCHEDULE, {"input": input}, admin_token())
        payload: dict[str, Any] = data["schedulePromotion"]
        return payload

    assert _errors(await schedule("NOPE", hours(1))) == [
        ("PROMOTION_NOT_FOUND", ["input", "code"])
    ]
    await created(stack, "TEA3FOR2", buy_get())
    assert _errors(await schedule("TEA3FOR2", hours(3), hours(2))) == [
        ("INVALID_INPUT", ["input", "endsAt"])
    ]
    await stack.data("promotions", DISABLE, {"input": {"code": "TEA3FOR2"}}, admin_token())
    refused = await schedule("TEA3FOR2", hours(1))
    assert _errors(refused) == [("INVALID_STATUS_TRANSITION", ["input", "code"])]
    assert refused["promotion"]["status"] == "DISABLED"


async def test_moments_outside_the_utc_years_are_user_errors_naming_them(stack: Stack) -> None:
    both = {"startsAt": FIRST_LOCAL_MOMENT, "endsAt": LAST_LOCAL_MOMENT}
    payload = await create(stack, "FAR", buy_get(), **both)
    assert payload == {
        "promotion": None,
        "userErrors": [
            {"code": "INVALID_INPUT", "field": ["input", name], "message": f"{name} {OUT_OF_RANGE}"}
            for name in ("startsAt", "endsAt")
        ],
    }
    await created(stack, "TEA3FOR2", buy_get())
    for name, schedule in (
        ("endsAt", {"startsAt": hours(-1), "endsAt": LAST_LOCAL_MOMENT}),
        ("startsAt", {"startsAt": FIRST_LOCAL_MOMENT}),
    ):
        input = {"code": "TEA3FOR2", **schedule}
        data = await stack.data("promotions", SCHEDULE, {"input": input}, admin_token())
        assert data["schedulePromotion"]["userErrors"] == [
            {"code": "INVALID_INPUT", "field": ["input", name], "message": f"{name} {OUT_OF_RANGE}"}
        ]
    stored = "SELECT code, ends_at IS NULL FROM promotions"
    assert await stack.sql("promotions", stored) == [("TEA3FOR2", True)]


@pytest.mark.parametrize(
    ("name", "moment"),
    [("startsAt", "0001-01-01T00:00:00Z"), ("endsAt", "9999-12-31T23:59:59.999999+00:00")],
)
async def test_the_first_and_last_utc_moments_are_refused(
    stack: Stack, name: str, moment: str
) -> None:
    # asyncpg stores them as -infinity / infinity and reads those back naive: every
    # later read of the promotion failed (activePromotions answered 500 for good)
    payload = await create(stack, "EDGE", buy_get(), **{name: moment})
    assert payload["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["input", name], "message": f"{name} {OUT_OF_RANGE}"}
    ]
    assert await stack.sql("promotions", "SELECT code FROM promotions") == []


async def test_the_moments_just_inside_are_kept(stack: Stack) -> None:
    starts, ends = "0001-01-01T00:00:00.000001+00:00", "9999-12-31T23:59:59.999998+00:00"
    kept = await created(stack, "LONG", buy_get(), startsAt=starts, endsAt=ends)
    assert (kept["status"], kept["startsAt"], kept["endsAt"]) == ("ACTIVE", starts, ends)
    [active] = (await stack.data("promotions", ACTIVE))["activePromotions"]
    assert (active["code"], active["endsAt"]) == ("LONG", ends)


async def test_disable_is_for_good_and_repeating_it_changes_nothing(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    first = await stack.data("promotions", DISABLE, {"input": {"code": "TEA3FOR2"}}, admin_token())
    again = await stack.data("promotions", DISABLE, {"input": {"code": "tea3for2"}}, admin_token())
    disabled = first["disablePromotion"]["promotion"]
    assert disabled["status"] == "DISABLED" and disabled["disabledAt"] is not None
    assert again["disablePromotion"]["promotion"]["disabledAt"] == disabled["disabledAt"]
    assert (await stack.data("promotions", ACTIVE))["activePromotions"] == []
    unknown = await stack.data("promotions", DISABLE, {"input": {"code": "NOPE"}}, admin_token())
    assert _errors(unknown["disablePromotion"]) == [("PROMOTION_NOT_FOUND", ["input", "code"])]
    assert unknown["disablePromotion"]["userErrors"][0]["message"] == "No promotion with code NOPE"


ADMIN_OPERATIONS = [
    ("createPromotion", 'mutation { createPromotion(input: {code: "X12", description: "x", '
     'buyNGetMFree: {categorySlug: "tea", buy: 2, get: 1}}) { userErrors { code } } }'),
    ("schedulePromotion", 'mutation { schedulePromotion(input: {code: "X12", '
     'startsAt: "2030-01-01T00:00:00Z"}) { userErrors { code } } }'),
    ("disablePromotion", 'mutation { disablePromotion(input: {code: "X12"}) '
     "{ userErrors { code } } }"),
    ("promotions", "{ promotions(first: 1) { totalCount } }"),
    ("promotion", '{ promotion(code: "X12") { code } }'),
]


@pytest.mark.parametrize(("field", "operation"), ADMIN_OPERATIONS)
@pytest.mark.parametrize(
    ("who", "code"),
    [("customer", "FORBIDDEN"), ("service", "FORBIDDEN"), ("nobody", "UNAUTHENTICATED")],
)
async def test_admin_operations_refuse_everyone_else(
    stack: Stack, field: str, operation: str, who: str, code: str
) -> None:
    token = {"customer": customer_token(), "service": service_token(), "nobody": None}[who]
    body = await stack.gql("promotions", operation, token=token)
    # a nullable root field is null; a non-null one nulls the whole data
    assert body["data"] == ({"promotion": None} if field == "promotion" else None)
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([field], code)]
    assert await stack.sql("promotions", "SELECT code FROM promotions") == []


async def test_promotion_by_code_in_any_case(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    query = "query P($code: String!) { promotion(code: $code) { code kind } }"
    found = await stack.data("promotions", query, {"code": "Tea3For2"}, admin_token())
    assert found["promotion"] == {"code": "TEA3FOR2", "kind": "BUY_N_GET_M_FREE"}
    missing = await stack.data("promotions", query, {"code": "NOPE"}, admin_token())
    assert missing["promotion"] is None
