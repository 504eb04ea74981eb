"""The emails accounts sends: an order confirmation and the staff's stock-low alert.

Each message is built only from its event (and the recipient), with a
Message-ID and Date taken from the event, so building it again for a
redelivered event gives the same message.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from subgraphs.common.events import Event

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """One order line as the email shows it."""

    name: str
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        """unit price x quantity, to the cent."""
        return (self.unit_price * self.quantity).quantize(CENT)


def message_id(event: Event) -> str:
    """The Message-ID of the email an event causes: the same for every delivery of it."""
    return f"<{event.id}@shopgraph>"


def short_order_id(order_id: str) -> str:
    """The first 8 characters of the order id, upper-cased: what a customer quotes."""
    return order_id.replace("-", "")[:8].upper()


def _envelope(event: Event, sender: str, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = message_id(event)
    message["Date"] = format_datetime(event.occurred_at)
    message["From"] = sender
    # An Address, not text: the header says exactly this one mailbox, properly formatted.
    message["To"] = Address(addr_spec=to)
    message["Subject"] = subject
    return message


def _lines(raw: Sequence[Mapping[str, Any]]) -> list[Line]:
    return [
        Line(str(line["name"]), int(line["quantity"]), Decimal(str(line["unitPrice"])))
        for line in raw
    ]


def _sums(lines: Sequence[Line], total: Decimal) -> list[tuple[str, Decimal]]:
    """The email's sums, labelled: a discounted order (its total below the sum of its
    lines, e.g. a promotion) shows that sum, the discount (negative) and the total, so
    the lines add up to what was paid; any other order shows only its total."""
    subtotal = sum((ln.total for ln in lines), Decimal("0.00"))
    if total >= subtotal:
        return [("Total", total)]
    return [("Subtotal", subtotal), ("Discount", total - subtotal), ("Total", total)]


def order_confirmation(event: Event, sender: str, to: str, name: str) -> EmailMessage:
    """The "Your order <short id> is confirmed" email: its lines with their totals, the
    discount if any, and the order's total."""
    data = event.data
    short = short_order_id(str(data["orderId"]))
    currency = str(data["currency"])
    lines = _lines(data["lines"])
    sums = _sums(lines, Decimal(str(data["total"])).quantize(CENT))
    message = _envelope(event, sender, to, f"Your order {short} is confirmed")
    text_rows = [f"  {ln.quantity} x {ln.name} at {ln.unit_price:.2f} = {ln.total}" for ln in lines]
    message.set_content(
        "\n".join(
            [
                f"Hello {name},",
                "",
                f"we have your payment: order {short} is confirmed.",
                "",
                *text_rows,
                "",
                *(f"{label}: {amount} {currency}" for label, amount in sums),
                "",
                "Thank you for shopping with us.",
            ]
        )
        + "\n"
    )
    message.add_alternative(_order_html(name, short, currency, lines, sums), subtype="html")
    return message


def _order_html(
    name: str, short: str, currency: str, lines: Sequence[Line], sums: Sequence[tuple[str, Decimal]]
) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(ln.name)}</td><td>{ln.quantity}</td>"
        f"<td>{ln.unit_price:.2f}</td><td>{ln.total}</td></tr>"
        for ln in lines
    )
    sum_rows = "".join(
        f"<p>{label}: {amount} {html.escape(currency)}</p>" for label, amount in sums[:-1]
    )
    total = sums[-1][1]
    return (
        f"<html><body><p>Hello {html.escape(name)},</p>"
        f"<p>we have your payment: order <strong>{short}</strong> is confirmed.</p>"
        "<table><tr><th>Product</th><th>Quantity</th><th>Unit price</th><th>Total</th></tr>"
        f"{rows}</table>{sum_rows}"
        f"<p><strong>Total: {total} {html.escape(currency)}</strong></p>"
        "<p>Thank you for shopping with us.</p></body></html>\n"
    )


def stock_low_alert(event: Event, sender: str, to: str) -> EmailMessage:
    """The staff's note that a product's available units fell to the threshold or below."""
    data = event.data
    product_id = str(data["productId"])
    available, threshold = int(data["available"]), int(data["threshold"])
    message = _envelope(event, sender, to, f"Stock low: {available} left of product {product_id}")
    text = (
        f"Product {product_id} has {available} unit(s) available, at or below the "
        f"threshold of {threshold}.\nRestock it with adjustStock.\n"
    )
    message.set_content(text)
    message.add_alternative(
        f"<html><body><p>Product <code>{html.escape(product_id)}</code> has "
        f"<strong>{available}</strong> unit(s) available, at or below the threshold of "
        f"{threshold}.</p><p>Restock it with <code>adjustStock</code>.</p></body></html>\n",
        subtype="html",
    )
    return message
