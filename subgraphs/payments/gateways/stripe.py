"""Stripe's PaymentIntents through the official client library.

An authorization is a PaymentIntent created with `capture_method=manual` and
`confirm=true` (Stripe holds the amount: status `requires_capture`), captured
later; a refund is a Refund of the PaymentIntent. Every POST carries our
idempotency key, so Stripe answers a repeated request with its first result.

Stripe has no "find by idempotency key": the lookup retrieves the
PaymentIntent by the id stored on the payment row when the row has one, and
otherwise searches PaymentIntents by the key kept in their metadata (Stripe's
search is eventually consistent, so a just-created intent may not be found
yet; the payment then stays in flight and a later settle finds it).

Errors: a card error is a DECLINED answer. So is an authorization Stripe
refuses as invalid (400 invalid_request_error): an unknown or unusable payment
method (`resource_missing` on `payment_method`) is the token's fault, anything
else (an amount under Stripe's minimum, a parameter it rejects) is ours; either
way asking again cannot succeed, so it is not "unavailable": it is DECLINED with
Stripe's message (the token itself blanked out of it, since only its hash is
stored), and the second kind is logged as an error to fix. A request that
certainly did not reach Stripe (connection refused) or that Stripe refused for
who we are or how often we ask (401/403/429), and an invalid capture, refund or
lookup, is GatewayUnavailable: nothing was charged; anything else
(a timeout mid-request, a 5xx) is re-raised: the outcome is unknown and the
caller looks the charge up. The secret key lives in the client only; it is
never logged or put in an error.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import httpx
import stripe

from .base import (
    AUTHORIZED,
    CAPTURED,
    DECLINED,
    PENDING,
    REFUNDED,
    GatewayPayment,
    GatewayUnavailable,
)

logger = logging.getLogger("shopgraph.payments.stripe")

# The shop's currencies (USD, EUR, GBP) all have cents as Stripe's minor unit.
MINOR_UNITS = Decimal(100)
_HELD = "requires_capture"
_DECLINED_STATES = ("requires_payment_method", "canceled", "requires_action")
# Refused before acting: the request changed nothing at Stripe.
_REFUSED = (
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.RateLimitError,
    stripe.InvalidRequestError,
)


def minor_units(amount: Decimal) -> int:
    """`amount` in cents, as Stripe takes it."""
    return int((amount * MINOR_UNITS).to_integral_exact())


def _never_sent(error: BaseException) -> bool:
    """Whether the connection itself failed (so the request never reached Stripe)."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, httpx.ConnectError | httpx.ConnectTimeout):
            return True
        current = current.__cause__ or current.__context__
    return False


def _payment(intent: Any) -> GatewayPayment:
    """The GatewayPayment a PaymentIntent stands for."""
    status = intent.status
    if status == _HELD:
        return GatewayPayment(intent.id, AUTHORIZED)
    if status == "succeeded":
        return GatewayPayment(intent.id, CAPTURED)
    if status in _DECLINED_STATES:
        error = getattr(intent, "last_payment_error", None)
        reason = getattr(error, "message", None) or f"The payment was not completed ({status})"
        return GatewayPayment(intent.id, DECLINED, reason)
    return GatewayPayment(intent.id, PENDING)  # processing: Stripe has not decided yet


def _declined(error: stripe.CardError) -> GatewayPayment:
    body = error.json_body or {}
    intent = (body.get("error") or {}).get("payment_intent") or {}
    reason = error.user_message or "Your card was declined."
    return GatewayPayment(intent.get("id"), DECLINED, reason)


def _invalid(error: stripe.InvalidRequestError, token: str) -> GatewayPayment:
    """An authorization Stripe refused as invalid: declined with its message, no intent."""
    message = (error.user_message or "The payment method cannot be used").replace(token, "…")
    if error.param != "payment_method":  # not the token's fault: a request we built wrong
        logger.error(
            "stripe refused an authorization as invalid: code=%s param=%s",
            error.code,
            error.param,
        )
    return GatewayPayment(None, DECLINED, message)


class StripeGateway:
    """PaymentIntents with manual capture, through one StripeClient (no global state)."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str, timeout: float = 30.0) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            http_client=stripe.HTTPXClient(timeout=timeout),
            max_network_retries=0,
        )

    def __repr__(self) -> str:  # never shows the key
        return "StripeGateway()"

    async def _call(self, request: Any, authorizing: bool = False) -> Any:
        try:
            return await request
        except stripe.CardError:
            raise
        except stripe.InvalidRequestError as error:
            if authorizing:  # authorize answers it as a decline
                raise
            raise GatewayUnavailable(f"stripe refused the request ({error.http_status})") from None
        except _REFUSED as error:
            raise GatewayUnavailable(f"stripe refused the request ({error.http_status})") from None
        except stripe.APIConnectionError as error:
            if _never_sent(error):
                raise GatewayUnavailable("stripe could not be reached") from None
            raise

    async def authorize(
        self,
        amount: Decimal,
        currency: str,
        token: str,
        idempotency_key: str,
        order_id: str | None = None,
    ) -> GatewayPayment:
        """Create and confirm a manual-capture PaymentIntent under `idempotency_key`."""
        metadata = {"idempotency_key": idempotency_key}
        if order_id is not None:
            metadata["order_id"] = order_id
        params = {
            "amount": minor_units(amount),
            "currency": currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "payment_method": token,
            "metadata": metadata,
        }
        create = self._client.v1.payment_intents.create_async
        try:
            intent = await self._call(
                create(params, {"idempotency_key": idempotency_key}), authorizing=True
            )
        except stripe.CardError as error:
            return _declined(error)
        except stripe.InvalidRequestError as error:
            return _invalid(error, token)
        return _payment(intent)

    async def capture(
        self, reference: str, amount: Decimal, idempotency_key: str
    ) -> GatewayPayment:
        """Capture `amount` of the held PaymentIntent `reference`."""
        capture = self._client.v1.payment_intents.capture_async
        params = {"amount_to_capture": minor_units(amount)}
        intent = await self._call(capture(reference, params, {"idempotency_key": idempotency_key}))
        return _payment(intent)

    async def refund(self, reference: str, amount: Decimal, idempotency_key: str) -> GatewayPayment:
        """Refund `amount` of the captured PaymentIntent `reference`."""
        create = self._client.v1.refunds.create_async
        params = {"payment_intent": reference, "amount": minor_units(amount)}
        refund = await self._call(create(params, {"idempotency_key": idempotency_key}))
        if refund.status in ("failed", "canceled"):
            raise GatewayUnavailable(f"stripe did not refund ({refund.status})")
        return GatewayPayment(reference, REFUNDED)

    async def find_by_idempotency_key(
        self, key: str, reference: str | None = None
    ) -> GatewayPayment | None:
        """The PaymentIntent `reference`, or the one whose metadata holds `key`."""
        intents = self._client.v1.payment_intents
        if reference is not None:
            return _payment(await self._call(intents.retrieve_async(reference)))
        query = f"metadata['idempotency_key']:'{key}'"
        found = await self._call(intents.search_async({"query": query, "limit": 1}))
        return _payment(found.data[0]) if found.data else None
