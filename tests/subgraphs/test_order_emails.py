"""accounts' mailer against real PostgreSQL, a real nats-server and a real SMTP sink.

The test publishes OrderPaid / StockLow to JetStream as the orders and inventory
relays would, and reads what arrived in the sink's Maildir.
"""

from __future__ import annotations

import mailbox
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy import text

from subgraphs.accounts.app import create_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database, database_url
from subgraphs.common.events import Event, new_event
from subgraphs.common.events.broker import EVENTS_STREAM, EventBroker
from subgraphs.common.events.envelope import encode, subject_of
from subgraphs.common.events.server import NatsServer
from subgraphs.common.mail import MailRejected, MailSettings, MailUnavailable, send
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.mailsink import start_sink
from tests.broker import eventually, free_port, start_nats

_SECRET = secrets.token_urlsafe(32)
CODEC = TokenCodec("HS256", _SECRET, _SECRET)
CONFIRMATION = "order-confirmation"


@dataclass
class Mailer:
    server: RunningServer
    db: Database
    broker: EventBroker
    maildir: Path
    port: int
    sink: Controller

    async def publish(self, event: Event, msg_id: str | None = None) -> int:
        """Publish as a relay would (another `msg_id`: the same event again); its sequence."""
        ack = await self.broker.publish(
            encode(event), subject_of(event.type), msg_id or str(event.id)
        )
        return int(ack.seq)

    async def acknowledged(self, consumer: str, sequence: int) -> bool:
        """Whether accounts' `consumer` has acknowledged every message up to `sequence`."""
        info = await self.broker.jetstream.consumer_info(EVENTS_STREAM, f"accounts-{consumer}")
        return info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= sequence

    def messages(self, event: Event) -> list[EmailMessage]:
        """The messages in the Maildir caused by `event` (by their Message-ID)."""
        wanted = f"<{event.id}@shopgraph>"
        found = []
        for message in mailbox.Maildir(self.maildir, create=False):
            if message["Message-ID"] == wanted:
                parsed = message_from_bytes(message.as_bytes(), policy=default)
                assert isinstance(parsed, EmailMessage)
                found.append(parsed)
        return found

    async def add_user(self, email: str, name: str) -> uuid.UUID:
        user_id = uuid.uuid4()
        async with self.db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, password_hash) "
                    "VALUES (:id, :email, :name, 'CUSTOMER', 'not-a-hash')"
                ),
                {"id": user_id, "email": email, "name": name},
            )
        return user_id


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("mail-events"))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def mailer(
    pg_server_url: str, nats: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mailer]:
    maildir = tmp_path_factory.mktemp("mail") / "Maildir"
    port = free_port()
    sink = start_sink(maildir, "127.0.0.1", port)
    url = database_url(pg_server_url, "accounts", prefix="sgevmail")
    mail = MailSettings(port=port, timeout=2.0)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHOPGRAPH_NATS_URL", nats.url)
        server = await start_server(create_app(url, codec=CODEC, mail=mail))
    broker = EventBroker(nats.url, name="test-relay")
    await broker.run()
    db = Database(url)
    state = Mailer(server, db, broker, maildir, port, sink)
    yield state
    await broker.close()
    await server.stop()
    await db.dispose()
    state.sink.stop()


def order_paid(order: uuid.UUID, user: uuid.UUID) -> Event:
    lines = [
        {
            "productId": str(uuid.uuid4()),
            "sku": "TEA-1",
            "name": "Green <Tea>",
            "quantity": 2,
            "unitPrice": "3.50",
        },
        {
            "productId": str(uuid.uuid4()),
            "sku": "MUG-1",
            "name": "Mug",
            "quantity": 1,
            "unitPrice": "12.00",
        },
    ]
    data: dict[str, Any] = {
        "orderId": str(order),
        "userId": str(user),
        "paymentId": str(uuid.uuid4()),
        "currency": "EUR",
        "total": "19.00",
        "lines": lines,
    }
    return new_event("OrderPaid", "orders", data)


async def test_one_confirmation_per_order_paid_even_delivered_twice(mailer: Mailer) -> None:
    user = await mailer.add_user("ann@example.com", "Ann")
    order = uuid.UUID("3f2a9c1b-0000-4000-8000-000000000001")
    paid = order_paid(order, user)
    await mailer.publish(paid)
    again = await mailer.publish(paid, msg_id=f"{paid.id}-again")
    await eventually(lambda: mailer.acknowledged(CONFIRMATION, again))
    [message] = mailer.messages(paid)
    assert message["To"] == "ann@example.com"
    assert message["From"] == "shop@shopgraph.dev"
    assert message["Subject"] == "Your order 3F2A9C1B is confirmed"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().splitlines() == [
        "Hello Ann,",
        "",
        "we have your payment: order 3F2A9C1B is confirmed.",
        "",
        "  2 x Green <Tea> at 3.50 = 7.00",
        "  1 x Mug at 12.00 = 12.00",
        "",
        "Total: 19.00 EUR",
        "",
        "Thank you for shopping with us.",
    ]
    assert "<td>Green &lt;Tea&gt;</td><td>2</td><td>3.50</td><td>7.00</td>" in html.get_content()


def free_order_paid(order: uuid.UUID, user: uuid.UUID) -> Event:
    """OrderPaid of a 100%-off order: 21.00 + 59.00 of goods, a 0.00 total, no payment."""
    lines = [
        {
            "productId": str(uuid.uuid4()),
            "sku": "BRW-1",
            "name": "Brewer",
            "quantity": 1,
            "unitPrice": "21.00",
        },
        {
            "productId": str(uuid.uuid4()),
            "sku": "GRN-1",
            "name": "Grinder",
            "quantity": 1,
            "unitPrice": "59.00",
        },
    ]
    data: dict[str, Any] = {
        "orderId": str(order),
        "userId": str(user),
        "paymentId": None,
        "currency": "USD",
        "total": "0.00",
        "lines": lines,
    }
    return new_event("OrderPaid", "orders", data)


async def test_a_discounted_order_shows_its_subtotal_and_discount(mailer: Mailer) -> None:
    user = await mailer.add_user("cleo@example.com", "Cleo")
    order = uuid.UUID("9b1e0c2d-0000-4000-8000-000000000002")
    paid = free_order_paid(order, user)
    await mailer.publish(paid)
    [message] = await eventually(lambda: _messages(mailer, paid))
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().splitlines() == [
        "Hello Cleo,",
        "",
        "we have your payment: order 9B1E0C2D is confirmed.",
        "",
        "  1 x Brewer at 21.00 = 21.00",
        "  1 x Grinder at 59.00 = 59.00",
        "",
        "Subtotal: 80.00 USD",
        "Discount: -80.00 USD",
        "Total: 0.00 USD",
        "",
        "Thank you for shopping with us.",
    ]
    assert (
        "</table><p>Subtotal: 80.00 USD</p><p>Discount: -80.00 USD</p>"
        "<p><strong>Total: 0.00 USD</strong></p>"
    ) in html.get_content()


async def test_an_unknown_user_gets_no_email(mailer: Mailer) -> None:
    paid = order_paid(uuid.uuid4(), uuid.uuid4())
    sequence = await mailer.publish(paid)
    await eventually(lambda: mailer.acknowledged(CONFIRMATION, sequence))
    assert mailer.messages(paid) == []


async def test_smtp_down_then_up_delivers_after_redelivery(mailer: Mailer) -> None:
    user = await mailer.add_user("bob@example.com", "Bob")
    mailer.sink.stop()
    paid = order_paid(uuid.uuid4(), user)
    try:
        await mailer.publish(paid)

        async def redelivered() -> bool:
            info = await mailer.broker.jetstream.consumer_info(
                EVENTS_STREAM, f"accounts-{CONFIRMATION}"
            )
            return (info.num_redelivered or 0) > 0

        await eventually(redelivered)
        assert mailer.messages(paid) == []
    finally:
        mailer.sink = start_sink(mailer.maildir, "127.0.0.1", mailer.port)
    [message] = await eventually(lambda: _messages(mailer, paid))
    assert message["To"] == "bob@example.com"


async def _messages(mailer: Mailer, event: Event) -> list[EmailMessage]:
    return mailer.messages(event)


async def test_stock_low_emails_the_staff(mailer: Mailer) -> None:
    product = uuid.uuid4()
    low = new_event(
        "StockLow", "inventory", {"productId": str(product), "available": 3, "threshold": 5}
    )
    await mailer.publish(low)
    [message] = await eventually(lambda: _messages(mailer, low))
    assert message["To"] == "admin@shopgraph.dev"
    assert message["Subject"] == f"Stock low: 3 left of product {product}"
    plain = message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content() == (
        f"Product {product} has 3 unit(s) available, at or below the threshold of 5.\n"
        "Restock it with adjustStock.\n"
    )


async def _dead_letter(mailer: Mailer, event: Event, consumer: str) -> tuple[int, str] | None:
    async with mailer.db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT deliveries, error FROM event_dead_letters "
                    "WHERE event_id = :id AND consumer = :consumer"
                ),
                {"id": event.id, "consumer": consumer},
            )
        ).one_or_none()
    return None if row is None else (row.deliveries, row.error)


async def test_the_envelope_names_exactly_the_users_address(mailer: Mailer) -> None:
    user = await mailer.add_user("dora@example.com", "Dora, Esq. <boss@example.com>")
    paid = order_paid(uuid.uuid4(), user)
    await mailer.publish(paid)
    [message] = await eventually(lambda: _messages(mailer, paid))
    assert message["X-RcptTo"] == "dora@example.com"
    assert message["To"] == "dora@example.com"
    assert message["To"].addresses[0].addr_spec == "dora@example.com"


@pytest.mark.parametrize(
    "stored", ["carol@example.com,postmaster", "x<bob@example.com", "<script>@x.com"]
)
async def test_a_stored_address_that_is_not_one_mailbox_gets_no_email(
    mailer: Mailer, stored: str
) -> None:
    # Stored before registration checked addresses: dead-lettered at once, sent nowhere.
    user = await mailer.add_user(stored, "Legacy")
    paid = order_paid(uuid.uuid4(), user)
    sequence = await mailer.publish(paid)
    deliveries, error = await eventually(lambda: _dead_letter(mailer, paid, CONFIRMATION))
    assert deliveries == 1
    # The dead letter's error is the PoisonEvent's message (with or without its class name).
    assert error.endswith(
        "the user's stored email is not one plain email address; nothing was sent"
    )
    await eventually(lambda: mailer.acknowledged(CONFIRMATION, sequence))
    assert mailer.messages(paid) == []


async def test_a_line_break_in_a_product_id_is_dead_lettered_at_once(mailer: Mailer) -> None:
    product = "p1\r\nBcc: victim@example.com"
    low = new_event("StockLow", "inventory", {"productId": product, "available": 1, "threshold": 5})
    await mailer.publish(low)
    deliveries, error = await eventually(lambda: _dead_letter(mailer, low, "stock-low-alert"))
    assert deliveries == 1
    assert "the event cannot make an email: ValueError(" in error
    assert mailer.messages(low) == []


async def test_a_line_break_in_an_order_id_is_dead_lettered_at_once(mailer: Mailer) -> None:
    user = await mailer.add_user("erin@example.com", "Erin")
    paid = new_event(
        "OrderPaid", "orders", {**order_paid(uuid.uuid4(), user).data, "orderId": "ab\r\ncd"}
    )
    await mailer.publish(paid)
    deliveries, error = await eventually(lambda: _dead_letter(mailer, paid, CONFIRMATION))
    assert deliveries == 1
    assert "the event cannot make an email: ValueError(" in error
    assert mailer.messages(paid) == []


async def test_an_order_paid_without_a_user_id_is_dead_lettered_at_once(mailer: Mailer) -> None:
    data = order_paid(uuid.uuid4(), uuid.uuid4()).data
    paid = new_event("OrderPaid", "orders", {k: v for k, v in data.items() if k != "userId"})
    await mailer.publish(paid)
    deliveries, error = await eventually(lambda: _dead_letter(mailer, paid, CONFIRMATION))
    assert deliveries == 1
    assert error.endswith("OrderPaid.userId is not a UUID")


class _Refusing:
    """An SMTP server's handler that answers every RCPT TO with `reply`."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return self.reply


def _note(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "shop@shopgraph.dev"
    message["To"] = to
    message["Subject"] = "note"
    message.set_content("hello\n")
    return message


@pytest.mark.parametrize(
    ("reply", "raised"),
    [("550 5.1.1 no such mailbox", MailRejected), ("451 4.3.0 try again later", MailUnavailable)],
)
async def test_a_permanent_refusal_is_rejected_a_temporary_one_unavailable(
    reply: str, raised: type[Exception]
) -> None:
    port = free_port()
    server = Controller(_Refusing(reply), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with pytest.raises(raised) as caught:
            await send(
                _note("ann@example.com"), MailSettings(port=port, timeout=2.0), "ann@example.com"
            )
    finally:
        server.stop()
    assert "ann@example.com" not in str(caught.value)


async def test_the_envelope_is_the_recipient_given_not_the_headers(mailer: Mailer) -> None:
    message = _note("carol@example.com, postmaster@example.com")
    message["Message-ID"] = wanted = f"<{uuid.uuid4()}@test>"
    await send(message, MailSettings(port=mailer.port, timeout=2.0), "carol@example.com")
    [stored] = [
        m for m in mailbox.Maildir(mailer.maildir, create=False) if m["Message-ID"] == wanted
    ]
    assert stored["X-RcptTo"] == "carol@example.com"
