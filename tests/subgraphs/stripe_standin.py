"""A local stand-in for the part of Stripe's API the StripeGateway uses (no network here).

It speaks what the official client sends and expects: form-encoded bodies with bracket
keys (`metadata[order_id]`), `Authorization: Bearer <secret key>` (else 401), JSON
objects with their `object` names. PaymentIntents: create (with confirm=true), capture,
retrieve, search by `metadata['key']:'value'`; refunds: create. An Idempotency-Key seen
before answers the original response again, as Stripe does for 24 hours. A payment
method in DECLINING is a 402 card_error `card_declined` (the intent is left
requires_payment_method). A payment method Stripe does not know (anything but
`pm_card_*` and `tok_*`) is a 400 invalid_request_error `resource_missing` on
`payment_method`, and an amount under 50 cents a 400 `amount_too_small`, as Stripe answers
them: no intent is created. Every request is recorded for the tests to assert on.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from quart import Quart, Response, request

DECLINING = frozenset({"pm_card_chargeDeclined", "tok_chargeDeclined"})
DECLINE_MESSAGE = "Your card was declined."
KNOWN_METHOD_PREFIXES = ("pm_card_", "tok_")
MINIMUM_AMOUNT = 50  # cents, Stripe's minimum charge in USD
_SEARCH = re.compile(r"metadata\['(?P<key>[^']+)'\]:'(?P<value>[^']*)'")


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it."""

    method: str
    path: str
    idempotency_key: str | None
    form: dict[str, str]


@dataclass
class StripeState:
    """The stand-in's intents, refunds, replayable answers and the requests it received."""

    api_key: str
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def _error(status: int, kind: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, **extra}}


def _missing(what: str) -> tuple[int, dict[str, Any]]:
    return _error(404, "invalid_request_error", f"No such {what}", code="resource_missing")


def _metadata(form: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}


def _invalid_intent(form: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
    """Stripe's 400 for a request it refuses before creating anything, or None."""
    method = form.get("payment_method")
    if method is not None and not method.startswith(KNOWN_METHOD_PREFIXES):
        message = f"No such PaymentMethod: '{method}'"
        return _error(
            400, "invalid_request_error", message, code="resource_missing", param="payment_method"
        )
    if int(form["amount"]) < MINIMUM_AMOUNT:
        message = "Amount must be at least $0.50 usd"
        return _error(
            400, "invalid_request_error", message, code="amount_too_small", param="amount"
        )
    return None


def create_intent(state: StripeState, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST /v1/payment_intents (confirmed at once when confirm=true)."""
    invalid = _invalid_intent(form)
    if invalid is not None:
        return invalid
    intent = {
        "id": f"pi_{next(state.ids)}",
        "object": "payment_intent",
        "amount": int(form["amount"]),
        "amount_received": 0,
        "currency": form["currency"],
        "capture_method": form.get("capture_method", "automatic"),
        "payment_method": form.get("payment_method"),
        "metadata": _metadata(form),
        "status": "requires_confirmation",
        "last_payment_error": None,
    }
    state.intents[intent["id"]] = intent
    if form.get("confirm") != "true":
        return 200, intent
    if intent["payment_method"] in DECLINING:
        intent["status"] = "requires_payment_method"
        error = {"type": "card_error", "code": "card_declined", "message": DECLINE_MESSAGE}
        intent["last_payment_error"] = error
        return _error(
            402, "card_error", DECLINE_MESSAGE, code="card_declined", payment_intent=intent
        )
    manual = intent["capture_method"] == "manual"
    intent["status"] = "requires_capture" if manual else "succeeded"
    return 200, intent


def capture_intent(
    state: StripeState, intent_id: str, form: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """POST /v1/payment_intents/<id>/capture."""
    intent = state.intents.get(intent_id)
    if intent is None:
        return _missing(f"payment_intent: '{intent_id}'")
    if intent["status"] != "requires_capture":
        message = f"This PaymentIntent could not be captured: its status is {intent['status']}."
        return _error(400, "invalid_request_error", message, code="payment_intent_unexpected_state")
    intent["status"] = "succeeded"
    intent["amount_received"] = int(form.get("amount_to_capture", intent["amount"]))
    return 200, intent


def create_refund(state: StripeState, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST /v1/refunds of a succeeded PaymentIntent."""
    intent = state.intents.get(form.get("payment_intent", ""))
    if intent is None:
        return _missing(f"payment_intent: '{form.get('payment_intent')}'")
    if intent["status"] != "succeeded":
        return _error(400, "invalid_request_error", "This PaymentIntent has not been captured.")
    refund = {
        "id": f"re_{next(state.ids)}",
        "object": "refund",
        "amount": int(form.get("amount", intent["amount_received"])),
        "payment_intent": intent["id"],
        "status": "succeeded",
    }
    state.refunds[refund["id"]] = refund
    return 200, refund


def search_intents(state: StripeState, query: str) -> tuple[int, dict[str, Any]]:
    """GET /v1/payment_intents/search?query=metadata['k']:'v' (the one form supported)."""
    match = _SEARCH.fullmatch(query)
    if match is None:
        return _error(400, "invalid_request_error", "unsupported search query")
    key, value = match["key"], match["value"]
    found = [i for i in state.intents.values() if i["metadata"].get(key) == value]
    return 200, {
        "object": "search_result",
        "data": found,
        "has_more": False,
        "url": "/v1/payment_intents/search",
    }


def _answer(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json")


def _post(state: StripeState, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if path == "/v1/payment_intents":
        return create_intent(state, form)
    if path == "/v1/refunds":
        return create_refund(state, form)
    capture = re.fullmatch(r"/v1/payment_intents/([^/]+)/capture", path)
    if capture:
        return capture_intent(state, capture[1], form)
    return _missing(f"route: {path}")


def _get(state: StripeState, path: str) -> tuple[int, dict[str, Any]]:
    if path == "/v1/payment_intents/search":
        return search_intents(state, request.args.get("query", ""))
    found = re.fullmatch(r"/v1/payment_intents/([^/]+)", path)
    if found and found[1] in state.intents:
        return 200, state.intents[found[1]]
    return _missing(f"payment_intent: '{found[1] if found else path}'")


def stripe_standin(state: StripeState) -> Quart:
    """The stand-in app over `state` (serve it with subgraphs.common.serve.start_server)."""
    app = Quart("stripe-standin")

    @app.get("/health")
    async def health() -> Response:
        return _answer(200, {"status": "ok"})

    @app.route("/v1/<path:rest>", methods=["GET", "POST"])
    async def api(rest: str) -> Response:
        path = f"/v1/{rest}"
        key = request.headers.get("Idempotency-Key")
        form = dict((await request.form).items()) if request.method == "POST" else {}
        state.received.append(Received(request.method, path, key, form))
        if request.headers.get("Authorization") != f"Bearer {state.api_key}":
            return _answer(*_error(401, "invalid_request_error", "Invalid API Key provided"))
        if request.method == "POST" and key is not None and key in state.replies:
            return _answer(*state.replies[key])
        status, body = _post(state, path, form) if request.method == "POST" else _get(state, path)
        if request.method == "POST" and key is not None and status < 500:
            state.replies[key] = (status, copy.deepcopy(body))  # the answer as it was then
        return _answer(status, body)

    return app
