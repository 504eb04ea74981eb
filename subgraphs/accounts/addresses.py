"""What accounts accepts as a user's email address: one plain addr-spec, nothing more.

The address is later the envelope recipient and the To header of the shop's
email. A laxer check let through text that mail software reads as several
recipients or as a display name ("carol@example.com,postmaster",
"x<bob@example.com", "<script>@x.com"), so confirmations went elsewhere. An
address is accepted only if it is printable ASCII with exactly one "@", no
characters that mean something in a header (commas, angle brackets, quotes,
parentheses, brackets, colons, semicolons, backslashes, whitespace), a
dot-separated host name, within the SMTP length limits, and both of the
standard library's parsers give back exactly the same address.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr

MAX_ADDRESS_LENGTH = 254  # RFC 5321's forward-path limit, less the angle brackets
MAX_LOCAL_LENGTH = 64
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


def plain_address(text: str) -> str | None:
    """`text` if it is one plain addr-spec (local@host.example), else None."""
    if not 3 <= len(text) <= MAX_ADDRESS_LENGTH or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if len(local) > MAX_LOCAL_LENGTH or not _LOCAL.fullmatch(local):
        return None
    if not _DOMAIN.fullmatch(domain):
        return None
    if parseaddr(text) != ("", text):
        return None
    try:
        parsed = Address(addr_spec=text)
    except (ValueError, HeaderParseError):  # e.g. "a..b@x.com" is no dot-atom
        return None
    return text if parsed.addr_spec == text and not parsed.display_name else None
