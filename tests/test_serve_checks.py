"""The checks and bounds of `infer.py --serve` on their own (recognize_digits/serve/checks.py and
limits.py), where a server process would make the case slow or impossible: an upload that trickles
for a minute, a server on every interface, a table full of connections being answered.
tests/test_serve_limits.py runs the same cases, where it can, against a server process."""

import socket
import threading
import time

import pytest

from recognize_digits.serve import limits
from recognize_digits.serve.checks import BadRequest, HostRule, read_body
from serving import trickle


def test_an_upload_slower_than_allowed_gets_408():
    """A client trickling its upload a byte at a time is cut off: 60 s plus its size at 20 kB/s
    (here 1 s, to keep the test short)."""
    ours, theirs = socket.socketpair()
    stop = threading.Event()
    sender = threading.Thread(target=trickle, args=(theirs, b"x", 0.05, stop))
    sender.start()
    try:
        with pytest.raises(BadRequest) as refused:
            read_body(ours.makefile("rb"), ours, 10_000, stall=0.5, seconds=1)
    finally:
        stop.set()
        sender.join()
        ours.close()
        theirs.close()
    assert refused.value.status == 408
    assert str(refused.value).startswith("the upload was too slow (")


def test_the_names_a_server_on_every_interface_answers():
    """--host 0.0.0.0: what a user on the LAN types (the machine's address or name), never a
    name of someone else's."""
    for everywhere in ("0.0.0.0", "::"):
        rule = HostRule(everywhere, machine_name="Ada-Laptop.fritz.box")
        for host in ("192.168.1.20:8000", "10.0.0.5", "[fe80::1]:8000", "127.0.0.1:8000",
                     "localhost:8000", "ada-laptop:8000", "ADA-LAPTOP.local:8000",
                     "ada-laptop.fritz.box:8000"):
            assert rule.allows(host), (everywhere, host)
        for host in ("evil.example", "ada-laptop.evil.example", "192.168.1.20.nip.io:8000",
                     "localhost.evil.example", "", ":8000", "ada-laptop:http"):
            assert not rule.allows(host), (everywhere, host)
    # A name the local DNS gives it, which the machine does not call itself, is not known here.
    assert not HostRule("0.0.0.0", machine_name="ada-laptop").allows("ada-laptop.fritz.box")
    rule = HostRule("192.168.1.20", machine_name="ada-laptop")
    assert rule.allows("192.168.1.20:8000") and rule.allows("ada-laptop:8000")
    assert not rule.allows("192.168.1.21:8000") and not rule.allows("evil.example:8000")


def test_the_connection_table_makes_room_and_says_when_it_cannot():
    """limits.Connections on its own: a full table closes the connection waiting longest; an
    upload over the byte budget waits for room, and closes an upload that has been arriving for
    too long to make it; uploads being answered keep theirs (then the server answers 503)."""
    pairs = [socket.socketpair() for _ in range(5)]
    ours = [pair[0] for pair in pairs]

    def closed(i):
        return pairs[i][1].recv(1) == b""  # what the client sees: the end of the connection

    try:
        table = limits.Connections(most=3, upload_bytes=100)
        assert table.add(ours[0]) and table.add(ours[1]) and table.add(ours[2])
        assert table.add(ours[3]) and len(table) == 3 and closed(0)  # the oldest made room
        assert table.reserve(ours[1], 60)
        assert not table.reserve(ours[2], 60, wait=0.2)  # 120 > 100, and ours[1] is not slow
        table.table[ours[1]].since -= limits.SLOW_UPLOAD_SECONDS + 1  # now it is
        assert table.reserve(ours[2], 60, wait=0.2) and closed(1)
        table.set(ours[2], limits.ANSWERING)
        assert not table.reserve(ours[3], 60, wait=0.2)  # ours[2], being answered, keeps its 60
        answered = threading.Timer(0.2, table.set, (ours[2], limits.IDLE))
        answered.start()
        assert table.reserve(ours[3], 60, wait=5)  # room once ours[2] is answered
        answered.join()
        assert table.add(ours[4]) and len(table) == 3
        for i in (2, 3, 4):
            table.set(ours[i], limits.ANSWERING)
        with socket.socket() as another:
            assert not table.add(another)  # every connection is being answered
    finally:
        for pair in pairs:
            pair[0].close()
            pair[1].close()


def test_decoding_waits_for_room_and_gives_up_after_a_while():
    budget = limits.PixelBudget(most=10)
    assert budget.take(10)
    start = time.monotonic()
    assert not budget.take(1, timeout=0.2)  # the server answers 503: busy
    assert 0.15 < time.monotonic() - start < 2
    budget.give_back(10)
    assert budget.take(1, timeout=0)
