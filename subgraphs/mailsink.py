"""A local SMTP sink for development: every message it receives becomes a Maildir file.

    python -m subgraphs.mailsink --host 127.0.0.1 --port 4025 --maildir .data/mail

Runs until SIGTERM or SIGINT. Logs one line per message (its Message-ID,
sender, number of recipients and size), never the body. Read the messages with
any Maildir reader, or `python -m mailbox`-style code: `mailbox.Maildir(DIR)`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

logger = logging.getLogger("shopgraph.mailsink")


class LoggingMailbox(Mailbox):
    """aiosmtpd's Maildir handler, with one log line per stored message."""

    def handle_message(self, message: Message) -> None:
        """Store `message` in the Maildir, then log who sent it and how big it was."""
        super().handle_message(message)
        recipients = message.get("X-RcptTo", "")
        logger.info(
            "stored %s from %s for %d recipient(s), %d bytes",
            message.get("Message-ID", "(no Message-ID)"),
            message.get("X-MailFrom", "?"),
            len([r for r in recipients.split(",") if r.strip()]),
            len(message.as_bytes()),
        )


def start_sink(maildir: Path, host: str, port: int) -> Controller:
    """Start the sink in its own thread (aiosmtpd's Controller) and return it; `.stop()` ends it."""
    # mailbox.Maildir makes cur/new/tmp only when the folder itself is missing.
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True, exist_ok=True)
    controller = Controller(LoggingMailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m subgraphs.mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4025)
    parser.add_argument("--maildir", type=Path, required=True, help="Maildir folder to write")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop the SMTP server cleanly."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # aiosmtpd logs each envelope's addresses at INFO: people's emails are not for the log
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    controller = start_sink(args.maildir, args.host, args.port)
    logger.info("SMTP sink on %s:%d writing to %s", args.host, args.port, args.maildir)
    try:
        stop.wait()
    finally:
        controller.stop()
        logger.info("SMTP sink stopped")


if __name__ == "__main__":
    main()
