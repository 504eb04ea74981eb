"""accounts' mailer: the consumers that turn events into email.

accounts owns the users, so it knows where an order confirmation goes. Both
consumers send inside the event's handling transaction: an SMTP failure raises,
the transaction rolls back and the event comes again (at least once). A second
delivery after a sent-but-not-recorded first one sends the same message again
(same Message-ID, built from the event id), which mail clients recognise.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event
from subgraphs.common.ids import parse_uuid
from subgraphs.common.mail import MailSettings, send

from .emails import message_id, order_confirmation, stock_low_alert
from .models import UserRow

logger = logging.getLogger("shopgraph.accounts.mailer")


async def confirm_order(session: AsyncSession, event: Event, services: Any) -> None:
    """OrderPaid: email the order's confirmation to its customer (an unknown user: skipped)."""
    user_id = parse_uuid(str(event.data["userId"]))
    if user_id is None:
        raise ValueError("OrderPaid.userId is not a UUID")
    user = await session.get(UserRow, user_id)
    if user is None:
        logger.info("order confirmation %s skipped: no such user", message_id(event))
        return
    settings: MailSettings = services.mail
    await send(order_confirmation(event, settings.sender, user.email, user.name), settings)
    logger.info("order confirmation %s sent", message_id(event))


async def alert_stock_low(session: AsyncSession, event: Event, services: Any) -> None:
    """StockLow: email the staff address that a product is running out."""
    settings: MailSettings = services.mail
    await send(stock_low_alert(event, settings.sender, settings.staff), settings)
    logger.info("stock-low alert %s sent", message_id(event))


# An SMTP server away for a few minutes is routine: with the redelivery backoff (0.2 s
# doubling, at most 5 s) 60 deliveries span about four and a half minutes.
MAIL_DELIVERIES = 60

CONSUMERS = (
    Consumer("order-confirmation", ("OrderPaid",), confirm_order, MAIL_DELIVERIES),
    Consumer("stock-low-alert", ("StockLow",), alert_stock_low, MAIL_DELIVERIES),
)
