"""Service URLs as they may be shown: in logs, banners and errors."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redacted(url: str) -> str:
    """`url` without its user part: a broker URL may carry a password or a token. A
    comma-separated list of URLs (a NATS cluster) has each entry redacted."""
    if "," in url:
        return ",".join(redacted(entry.strip()) for entry in url.split(","))
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def server_list(urls: str) -> list[str]:
    """The entries of a comma-separated URL list, blanks removed (may be empty)."""
    return [entry.strip() for entry in urls.split(",") if entry.strip()]
