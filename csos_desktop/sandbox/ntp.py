"""An SNTP responder on 127.0.0.1: the time reference of tests and benchmarks on one machine,
which reach no NTP server over the network."""

from __future__ import annotations

import socket
import struct
import threading
import time

NTP_EPOCH = 2208988800


class NtpServer:
    """Answers SNTP requests with its own time: this machine's plus ``offset`` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            now = time.time() + self.offset + NTP_EPOCH
            stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
            reply = bytes([0x24, 1, 0, 0xEC]) + bytes(20) + data[40:48] + stamp + stamp
            try:
                self.sock.sendto(reply, peer)
            except OSError:  # closed by the test meanwhile
                return

    def close(self) -> None:
        self.sock.close()
