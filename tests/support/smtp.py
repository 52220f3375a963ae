"""A raw SMTP conversation over a socket, for what smtplib would tidy up (bare LF, odd syntax)."""

from __future__ import annotations

import contextlib
import socket


class RawSmtp:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buffer = b""
        self.greeting = self.reply()

    def reply(self) -> tuple[int, str]:
        """Read one (possibly multi-line) reply."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(lines)

    def command(self, line: str | bytes) -> tuple[int, str]:
        data = line.encode() if isinstance(line, str) else line
        self.sock.sendall(data + b"\r\n")
        return self.reply()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.command("QUIT")
        self.sock.close()
