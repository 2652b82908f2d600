"""A TCP proxy for tests that can forward, drop connections or black-hole them.

`forward`: bytes pass both ways. `drop()`: every open connection is reset and new ones
are accepted then reset at once (a crashed or restarted server, a firewall saying no).
`black_hole()`: open connections stop passing bytes and new ones are accepted but never
answered (a link or proxy that silently swallows packets: nothing says no, ever).
`forward()` again: new connections pass; the frozen ones are closed.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from types import TracebackType

FORWARD, DROP, BLACK_HOLE = "forward", "drop", "black hole"


class TcpProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = FORWARD
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def forward(self) -> None:
        self._set(FORWARD)

    def drop(self) -> None:
        self._set(DROP)

    def black_hole(self) -> None:
        self._set(BLACK_HOLE)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._set(DROP)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _set(self, mode: str) -> None:
        with self._lock:
            previous, self.mode = self.mode, mode
            if mode == DROP or (mode == FORWARD and previous == BLACK_HOLE):
                for sock in list(self._open):
                    _reset(sock)
                self._open.clear()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode == DROP:
                    _reset(client)
                    continue
                self._open.add(client)
            if mode == BLACK_HOLE:
                continue  # held open, never answered
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                self._forget(client)
                continue
            with self._lock:
                self._open.add(server)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                sock.setblocking(True)
                selector.register(sock, selectors.EVENT_READ)
            while True:
                events = selector.select(timeout=0.05)
                with self._lock:
                    mode = self.mode
                    alive = client in self._open and server in self._open
                if not alive:
                    break
                if mode == BLACK_HOLE:
                    time.sleep(0.05)  # bytes stay unread: nothing passes, nothing is refused
                    continue
                done = False
                for key, _ in events:
                    source = peer[peer[key.fileobj]]  # type: ignore[index]
                    try:
                        data = source.recv(65536)
                        if data:
                            peer[source].sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        done = True
                if done:
                    break
        self._forget(client, server)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._open.discard(sock)
                _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a crashed peer or a refusing firewall would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
