"""The datagram listener (src/proxy/dgram.c) with real UDP clients: socat
from Debian and python sockets against dgram-echo (tests/tools/dgram_echo.c,
the library's workers answering every datagram with its own bytes)."""
import signal
import socket
import subprocess

import pytest

from conftest import DgramEcho


@pytest.fixture
def echo():
    """A factory of dgram-echo servers that must start; stop() gives the
    counters."""
    made = []

    class Echo(DgramEcho):
        def __init__(self, addr, *args):
            super().__init__(addr, *args)
            made.append(self)
            assert self.ready, self.proc.stderr.read()

        def stop(self):
            rc, counters, err = super().stop()
            assert rc == 0, err
            return counters
    yield Echo
    for e in made:
        e.kill()


def udp_port(family=socket.AF_INET):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        return s.getsockname()[1]


def socat(target, data, bind=None):
    """One datagram with socat (UDP4/UDP6 connect(): a reply from any other
    address than <target> is dropped); what came back."""
    opts = f",bind={bind}" if bind else ""
    r = subprocess.run(["socat", "-t", "2", "-T", "2", "-", f"{target}{opts}"],
                       input=data, capture_output=True, timeout=10)
    return r.stdout


def test_socat_clients_answered_from_each_destination(echo):
    port = udp_port()
    e = echo(f"0.0.0.0:{port}")
    for dst in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        # sent from 127.0.0.1: the kernel's own choice of source would be that
        assert socat(f"UDP4:{dst}:{port}", f"to {dst}\n".encode(), bind="127.0.0.1") == \
            f"to {dst}\n".encode()
    # and the source seen by a client that does not connect()
    for dst in ("127.0.0.2", "127.0.0.3"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(2)
            s.sendto(b"where", (dst, port))
            data, src = s.recvfrom(100)
            assert data == b"where" and src == (dst, port)
    c = e.stop()
    assert c["rx"] == 5 and c["tx"] == 5 and c["dropped"] == 0


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_socat_ipv6(echo):
    port = udp_port(socket.AF_INET6)
    e = echo(f"[::]:{port}")
    assert socat(f"UDP6:[::1]:{port}", b"six\n") == b"six\n"
    assert e.stop()["rx"] == 1


def test_burst_answered_in_batches(echo):
    """100 datagrams wait while the server is stopped (SIGSTOP); once it
    runs again they are taken in batches and every one is answered."""
    port = udp_port()
    e = echo(f"127.0.0.1:{port}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        s.settimeout(2)
        s.send(b"warm")
        assert s.recv(100) == b"warm"
        e.proc.send_signal(signal.SIGSTOP)
        for i in range(100):
            s.send(b"%03d" % i)
        e.proc.send_signal(signal.SIGCONT)
        got = {s.recv(100) for _ in range(100)}
    assert got == {b"%03d" % i for i in range(100)}
    c = e.stop()
    assert c["rx"] == 101 and c["tx"] == 101
    assert c["multi"] >= 1 and c["batches"] < 101, c


def test_oversize_dropped_and_counted(echo):
    port = udp_port()
    e = echo(f"127.0.0.1:{port}", "--max-len", "512")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        s.settimeout(0.5)
        s.send(b"x" * 513)
        with pytest.raises(socket.timeout):
            s.recv(2048)
        s.send(b"y" * 512)
        assert s.recv(2048) == b"y" * 512
    c = e.stop()
    assert c["truncated"] == 1 and c["rx"] == 1, c
