"""Sending email over SMTP from asyncio code: settings from the environment, one send.

`smtplib` runs in a worker thread (no extra dependency) under a timeout, so a
slow or absent SMTP server never blocks the event loop. Delivery is at least
once: callers give every message a Message-ID derived from what caused it, so a
repeated send is recognisable as the same message.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4025
DEFAULT_SENDER = "shop@shopgraph.dev"
DEFAULT_STAFF = "admin@shopgraph.dev"
DEFAULT_TIMEOUT = 10.0


class MailUnavailable(Exception):
    """The SMTP server could not be reached or refused the message; try again later."""


@dataclass(frozen=True)
class MailSettings:
    """Where and as whom to send. The password never appears in repr or logs."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    sender: str = DEFAULT_SENDER
    staff: str = DEFAULT_STAFF
    timeout: float = DEFAULT_TIMEOUT
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> MailSettings:
        """SHOPGRAPH_SMTP_HOST/_PORT/_TIMEOUT_SECONDS/_STARTTLS/_USERNAME/_PASSWORD,
        SHOPGRAPH_MAIL_FROM and SHOPGRAPH_STAFF_EMAIL, each defaulting to the dev sink's."""
        return cls(
            host=environ.get("SHOPGRAPH_SMTP_HOST") or DEFAULT_HOST,
            port=int(environ.get("SHOPGRAPH_SMTP_PORT") or DEFAULT_PORT),
            sender=environ.get("SHOPGRAPH_MAIL_FROM") or DEFAULT_SENDER,
            staff=environ.get("SHOPGRAPH_STAFF_EMAIL") or DEFAULT_STAFF,
            timeout=float(environ.get("SHOPGRAPH_SMTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT),
            starttls=(environ.get("SHOPGRAPH_SMTP_STARTTLS") or "").lower() in ("1", "true"),
            username=environ.get("SHOPGRAPH_SMTP_USERNAME") or None,
            password=environ.get("SHOPGRAPH_SMTP_PASSWORD") or None,
        )


async def send(message: EmailMessage, settings: MailSettings) -> None:
    """Hand `message` to the SMTP server; MailUnavailable if that did not happen in time.

    The thread's socket operations time out on their own; the outer timeout
    bounds the whole exchange (connect, greeting, transfer) for the caller.
    """
    try:
        async with asyncio.timeout(settings.timeout * 2):
            await asyncio.to_thread(_send_blocking, message, settings)
    except (OSError, smtplib.SMTPException, TimeoutError) as exc:
        # The exception's type only: server replies can quote addresses back.
        raise MailUnavailable(
            f"SMTP {settings.host}:{settings.port} did not take the message ({type(exc).__name__})"
        ) from None


def _send_blocking(message: EmailMessage, settings: MailSettings) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
