"""The HTTP plumbing the local fakes share: one keep-alive handler, quiet, without Nagle's delay.

Only the transport: what each fake answers (and how a simulation limits its rate) stays in
its own module, so two simulations written apart still judge the client apart."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client pool reuses its connections

    def log_message(self, *args: object) -> None:  # quiet: tests read what the fake recorded
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a request on loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
