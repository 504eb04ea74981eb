"""HTTP field (header) syntax, checked before a header is configured or written.

RFC 9110: a field name is a token (section 5.6.2); a field value holds no
control characters except horizontal tab (section 5.5). The router also needs
values it can put on the wire as latin-1, the only encoding HTTP/1.1 allows.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# one pass for the common case: tab, visible ASCII, space and latin-1's upper half
_SENDABLE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# names already found valid (they come from configuration: a handful)
_valid_names: set[str] = set()


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a header name (None when it can)."""
    if name in _valid_names:
        return None
    if not _TOKEN.fullmatch(name):
        return "the name is not an HTTP token"
    if len(_valid_names) < 1024:
        _valid_names.add(name)
    return None


def value_problem(value: str) -> str | None:
    """Why `value` cannot be a header value (None when it can). Never echoes the value."""
    if _SENDABLE.fullmatch(value):
        return None
    if _CONTROL.search(value):
        return "the value contains CR, LF, NUL or another control character"
    return "the value has characters outside latin-1"


def header_problem(name: str, value: str) -> str | None:
    """Why the header `name: value` cannot be sent (None when it can)."""
    return name_problem(name) or value_problem(value)
