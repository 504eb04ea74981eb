"""accounts' mailer: the consumers that turn events into email.

accounts owns the users, so it knows where an order confirmation goes. Both
consumers send inside the event's handling transaction: an SMTP outage raises,
the transaction rolls back and the event comes again (at least once). A second
delivery after a sent-but-not-recorded first one sends the same message again
(same Message-ID, built from the event id), which mail clients recognise.

What can never be sent is not an outage: an event whose values cannot make a
message (a bad id, a line break in a header), a recipient that is not one plain
address (one stored before registration checked addresses properly) or a 5xx
refusal raise PoisonEvent, so the event is dead-lettered at once instead of
being retried for minutes. The message goes to exactly that one recipient: the
envelope is given explicitly, never derived from the headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import InvalidOperation
from email.errors import MessageError
from email.message import EmailMessage
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event, PoisonEvent
from subgraphs.common.ids import parse_uuid
from subgraphs.common.mail import MailRejected, MailSettings, send

from .addresses import plain_address
from .emails import message_id, order_confirmation, stock_low_alert
from .models import UserRow

logger = logging.getLogger("shopgraph.accounts.mailer")

# What building a message from an event's values raises when they cannot make one.
_UNRENDERABLE = (KeyError, ValueError, TypeError, InvalidOperation, MessageError)


async def confirm_order(session: AsyncSession, event: Event, services: Any) -> None:
    """OrderPaid: email the order's confirmation to its customer (an unknown user: skipped)."""
    user_id = parse_uuid(str(event.data.get("userId")))
    if user_id is None:
        raise PoisonEvent("OrderPaid.userId is not a UUID")
    user = await session.get(UserRow, user_id)
    if user is None:
        logger.info("order confirmation %s skipped: no such user", message_id(event))
        return
    settings: MailSettings = services.mail
    recipient = _recipient(user.email, "the user's stored email")
    await _send(
        lambda: order_confirmation(event, settings.sender, recipient, user.name),
        settings,
        recipient,
    )
    logger.info("order confirmation %s sent", message_id(event))


async def alert_stock_low(session: AsyncSession, event: Event, services: Any) -> None:
    """StockLow: email the staff address that a product is running out."""
    settings: MailSettings = services.mail
    recipient = _recipient(settings.staff, "SHOPGRAPH_STAFF_EMAIL")
    await _send(lambda: stock_low_alert(event, settings.sender, recipient), settings, recipient)
    logger.info("stock-low alert %s sent", message_id(event))


def _recipient(address: str, what: str) -> str:
    """`address` if it is one plain address; PoisonEvent (naming `what`, not the address,
    which is personal data) if not."""
    if plain_address(address) is None:
        raise PoisonEvent(f"{what} is not one plain email address; nothing was sent")
    return address


async def _send(build: Callable[[], EmailMessage], settings: MailSettings, to: str) -> None:
    """Build the message and send it to `to`; PoisonEvent if either can never succeed."""
    try:
        message = build()
    except _UNRENDERABLE as error:
        reason = f"the event cannot make an email: {error!r}"[:300]
        raise PoisonEvent(reason) from error
    try:
        await send(message, settings, to)
    except MailRejected as error:
        raise PoisonEvent(str(error)) from error


# An SMTP server away for a few minutes is routine: with the redelivery backoff (0.2 s
# doubling, at most 5 s) 60 deliveries span about four and a half minutes.
MAIL_DELIVERIES = 60

CONSUMERS = (
    Consumer("order-confirmation", ("OrderPaid",), confirm_order, MAIL_DELIVERIES),
    Consumer("stock-low-alert", ("StockLow",), alert_stock_low, MAIL_DELIVERIES),
)
