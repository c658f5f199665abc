"""A local SMTP server that keeps what it receives: enough of RFC 5321 for smtplib."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message


class _Session(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 sink ready")
        envelope: dict[str, object] = {"to": []}
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 sink")
            elif verb == "MAIL":
                envelope = {"from": command[10:].strip("<> "), "to": []}
                self._reply("250 ok")
            elif verb == "RCPT":
                envelope["to"].append(command[8:].strip("<> "))  # type: ignore[union-attr]
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 end with .")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.received.append(  # type: ignore[attr-defined]
                    (envelope, email.message_from_bytes(bytes(data), policy=email.policy.default))
                )
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[tuple[dict, Message]]]]:
    """(port, received messages) of a sink on 127.0.0.1 for the block's duration."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
