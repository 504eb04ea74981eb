"""`python -m subgraphs.mailsink`: a real SMTP server writing Maildir files, until SIGTERM."""

from __future__ import annotations

import asyncio
import mailbox
import re
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from tests.broker import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]


def _send(port: int, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "shop@shopgraph.dev"
    message["To"] = "ann@example.com, bob@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject}@shopgraph>"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


async def _accepting(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def _subjects(maildir: Path) -> list[str]:
    return sorted(str(message["Subject"]) for message in mailbox.Maildir(maildir, create=False))


async def test_mailsink_stores_messages_as_maildir_files_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    maildir = tmp_path / "mail"
    sink = subprocess.Popen(
        [sys.executable, "-m", "subgraphs.mailsink", "--port", str(port), "--maildir", maildir],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await eventually(lambda: _accepting(port))
        await asyncio.to_thread(_send, port, "first", "the secret body text")
        await asyncio.to_thread(_send, port, "second", "another body")

        async def stored() -> list[str] | None:
            subjects = _subjects(maildir)
            return subjects if len(subjects) == 2 else None

        assert await eventually(stored) == ["first", "second"]
        assert len(list((maildir / "new").iterdir())) == 2
    finally:
        sink.send_signal(signal.SIGTERM)
        _, log = await asyncio.to_thread(sink.communicate, timeout=10)
    assert sink.returncode == 0
    stored_lines = [line.split(" stored ", 1)[1] for line in log.splitlines() if " stored " in line]
    assert [re.sub(r"\d+ bytes$", "N bytes", line) for line in stored_lines] == [
        "<first@shopgraph> from shop@shopgraph.dev for 2 recipient(s), N bytes",
        "<second@shopgraph> from shop@shopgraph.dev for 2 recipient(s), N bytes",
    ]
    assert "body" not in log
    assert "SMTP sink stopped" in log
