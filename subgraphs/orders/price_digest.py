"""The price digest: one opaque string standing for the money a cart shows.

`Cart.priceDigest` digests what the customer is shown and checkout charges:
each line's product id, quantity, unit price and currency, and each applied
promotion's code and amount. A storefront sends it back as
`CheckoutInput.expectedPriceDigest`; checkout digests the cart priced again
and answers PRICE_CHANGED if they differ. Comparing totals alone misses a
price that went down by as much as a discount did: the total is the same, the
order's subtotal and discount are not what the customer saw.

The digest is base64url (no padding) of a SHA-256 over a canonical JSON text:
lines sorted by product id, promotions by code, amounts to the cent. It says
nothing about the cart that its figures do not, and clients must not parse it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal

from subgraphs.common.types import CENTS

from .pricing import PricedCart

# Part of the digested text, so that a change of what is digested changes every digest.
DIGEST_VERSION = 1
# base64url of 32 bytes is 43 characters; anything much longer cannot be a digest.
DIGEST_MAX_LENGTH = 100


def _amount(value: Decimal) -> str:
    return format(value.quantize(CENTS), "f")


def price_digest(priced: PricedCart) -> str:
    """The digest of the lines and promotions `priced` shows (see the module's docstring)."""
    lines = sorted(
        [line.product.id, line.quantity, _amount(line.unit_price), priced.currency]
        for line in priced.lines
    )
    promotions = sorted([d.code, _amount(d.amount)] for d in priced.discounts)
    text = json.dumps(
        {"version": DIGEST_VERSION, "lines": lines, "promotions": promotions},
        separators=(",", ":"),
    )
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
