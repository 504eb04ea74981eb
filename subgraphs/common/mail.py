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
    """The SMTP server could not be reached or did not take the message now; try again later."""


class MailRejected(Exception):
    """The message can never be sent as it is: it cannot be serialised, or the server
    refused it (or its recipient) permanently with a 5xx reply. Retrying cannot help."""


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


async def send(message: EmailMessage, settings: MailSettings, recipient: str) -> None:
    """Hand `message` to the SMTP server for exactly `recipient` (the envelope's only
    RCPT TO, whatever the headers say); MailUnavailable if that did not happen in time,
    MailRejected if it never can.

    The thread's socket operations time out on their own; the outer timeout
    bounds the whole exchange (connect, greeting, transfer) for the caller.
    """
    try:
        async with asyncio.timeout(settings.timeout * 2):
            await asyncio.to_thread(_send_blocking, message, settings, recipient)
    except (ValueError, UnicodeError, smtplib.SMTPNotSupportedError) as exc:
        raise MailRejected(f"the message cannot be sent ({type(exc).__name__})") from None
    except smtplib.SMTPException as exc:
        if _permanent(exc):
            raise MailRejected(_refusal(settings, exc, "refused the message")) from None
        raise MailUnavailable(_refusal(settings, exc, "did not take the message")) from None
    except (OSError, TimeoutError) as exc:
        raise MailUnavailable(_refusal(settings, exc, "did not take the message")) from None


def _refusal(settings: MailSettings, exc: BaseException, what: str) -> str:
    # The exception's type only: server replies can quote addresses back.
    return f"SMTP {settings.host}:{settings.port} {what} ({type(exc).__name__})"


def _permanent(exc: smtplib.SMTPException) -> bool:
    """Whether the server's reply says the message (or its recipient) is refused for good."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
        return 500 <= exc.smtp_code < 600
    return False


def _send_blocking(message: EmailMessage, settings: MailSettings, recipient: str) -> None:
    # Serialised before connecting: a message that cannot be written is no outage.
    message.as_bytes()
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message, to_addrs=[recipient])
