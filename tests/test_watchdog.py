"""The database watchdog cuts a connection off at its deadline, also when a later-armed
deadline falls before the ones it already sleeps towards."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

from storage.watchdog import Watchdog


class Peer:
    """A connected socket pair standing in for a psycopg connection (``pgconn.socket``)."""

    def __init__(self) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.connection = SimpleNamespace(pgconn=SimpleNamespace(socket=self.ours.fileno()))

    def cut_off_within(self, seconds: float) -> bool:
        """Whether a blocked read on our side ends (end-of-file) within ``seconds``."""
        self.ours.settimeout(seconds)
        try:
            return self.ours.recv(1) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


def test_a_short_deadline_armed_after_a_long_one_fires_on_time() -> None:
    watchdog, slow, quick = Watchdog(), Peer(), Peer()
    long_done = threading.Event()

    def hold_long() -> None:
        with watchdog.deadline(slow.connection, 30):
            long_done.wait(5)

    holder = threading.Thread(target=hold_long)
    holder.start()
    try:
        time.sleep(0.1)  # the watchdog now sleeps towards the 30 s deadline
        started = time.monotonic()
        with watchdog.deadline(quick.connection, 0.2):
            assert quick.cut_off_within(3)
        assert time.monotonic() - started < 2
        assert not slow.cut_off_within(0.05)  # its own deadline is far away
    finally:
        long_done.set()
        holder.join()
        slow.close()
        quick.close()


def test_a_block_that_ends_in_time_leaves_the_connection_alone() -> None:
    watchdog, peer = Watchdog(), Peer()
    try:
        for _ in range(100):
            with watchdog.deadline(peer.connection, 0.3):
                pass
        time.sleep(0.5)  # every deadline has passed, none was armed any more
        peer.theirs.sendall(b"x")
        assert peer.ours.recv(1) == b"x"
    finally:
        peer.close()
