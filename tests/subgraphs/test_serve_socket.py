"""The subgraphs' listening socket: connections accepted on it send small answers at once."""

from __future__ import annotations

import asyncio
import socket

from subgraphs.common.serve import _listen


async def test_accepted_connections_have_tcp_nodelay() -> None:
    # Without TCP_NODELAY each answer on a kept-alive connection waited ~40 ms for the
    # peer's delayed ACK (Nagle): asyncio sets it only when the socket's proto says TCP.
    options: list[int] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        options.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = _listen("127.0.0.1", 0)
    server = await asyncio.start_server(accepted, sock=listener)
    port = listener.getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(200):
        if options:
            break
        await asyncio.sleep(0.01)
    writer.close()
    server.close()
    await server.wait_closed()
    assert options == [1]
