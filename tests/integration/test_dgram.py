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


def test_runs_of_equal_datagrams_come_back_whole_and_in_order(echo):
    """Replies of one size to one client leave as one GSO buffer the kernel
    cuts: the client still gets each datagram on its own, byte for byte,
    in order, the shorter last one of a run too, for both address
    families; and the counters count datagrams, not buffers."""
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        port = udp_port(fam)
        e = echo(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.connect((host, port))
            s.settimeout(2)
            s.send(b"warm")
            assert s.recv(100) == b"warm"
            e.proc.send_signal(signal.SIGSTOP)
            sent = []
            for i in range(60):
                # runs of 1200-byte datagrams, a short one ends each run
                n = 300 if i % 20 == 19 else 1200
                d = bytes([i]) * n
                sent.append(d)
                s.send(d)
            e.proc.send_signal(signal.SIGCONT)
            got = [s.recv(2000) for _ in range(60)]
        assert got == sent
        c = e.stop()
        assert c["rx"] == 61 and c["tx"] == 61 and c["dropped"] == 0, c


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


# --- two interfaces: the reply leaves by the one the request came in on ----------

# The client, run in its namespace: sends one datagram from <src> to each
# <dst>:<port> and says, for each answer, the address it came from and the
# interface it arrived on (IP_PKTINFO / IPV6_PKTINFO).
CLIENT = r"""
import json, socket, struct, sys
src, port, dsts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
six = ":" in src
s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
if six:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
else:
    s.setsockopt(socket.IPPROTO_IP, 8, 1)  # IP_PKTINFO
s.bind((src, 0))
s.settimeout(3)
out = []
for d in dsts:
    s.sendto(d.encode(), (d, port))
    data, anc, _, frm = s.recvmsg(100, 256)
    ifindex = [struct.unpack("=I", a[2][16:20] if six else a[2][:4])[0] for a in anc][0]
    out.append([data.decode(), frm[0], socket.if_indextoname(ifindex)])
print(json.dumps(out))
"""


def test_two_interfaces_answer_by_the_request_interface():
    """The server has 10.77.1.1 on eth0 and 10.77.2.1 on eth1 (fd77:1::1,
    fd77:2::1); the client's own address 10.77.9.9 (fd77:9::9) is routed by
    the server via eth0 first (lower metric), via eth1 second. A request to
    10.77.2.1 sent over eth1 must be answered from 10.77.2.1 by eth1, not
    by the kernel's own choice (eth0); over IPv6, from fd77:2::1."""
    from netns import Lab
    with Lab("dg") as lab:
        srv, cli = lab.host("srv"), lab.host("cli")
        lab.bridge("bra")
        lab.bridge("brb")
        lab.plug(srv, "bra", "eth0", ("10.77.1.1/24", "fd77:1::1/64"))
        lab.plug(srv, "brb", "eth1", ("10.77.2.1/24", "fd77:2::1/64"))
        lab.plug(cli, "bra", "eth0", ("10.77.1.2/24", "fd77:1::2/64"))
        lab.plug(cli, "brb", "eth1", ("10.77.2.2/24", "fd77:2::2/64"))
        cli.ip("addr", "add", "10.77.9.9/32", "dev", "lo")
        cli.ip("addr", "add", "fd77:9::9/128", "dev", "lo")
        for c in ("all", "default", "eth0", "eth1"):
            cli.sysctl(f"net.ipv4.conf.{c}.rp_filter=0")
            srv.sysctl(f"net.ipv4.conf.{c}.rp_filter=0")
        srv.ip("-4", "route", "add", "10.77.9.9", "via", "10.77.1.2", "dev", "eth0", "metric", "100")
        srv.ip("-4", "route", "add", "10.77.9.9", "via", "10.77.2.2", "dev", "eth1", "metric", "200")
        srv.ip("-6", "route", "add", "fd77:9::9", "via", "fd77:1::2", "dev", "eth0", "metric", "100")
        srv.ip("-6", "route", "add", "fd77:9::9", "via", "fd77:2::2", "dev", "eth1", "metric", "200")
        port = 5300
        e4 = lab.popen(srv, [DgramEcho.binary(), f"0.0.0.0:{port}"], stdout=subprocess.PIPE,
                       text=True)
        e6 = lab.popen(srv, [DgramEcho.binary(), f"[::]:{port}"], stdout=subprocess.PIPE,
                       text=True)
        assert e4.stdout.readline().strip() == "ready"
        assert e6.stdout.readline().strip() == "ready"
        import json
        got4 = json.loads(cli.run("python3", "-c", CLIENT, "10.77.9.9", str(port),
                                  "10.77.1.1", "10.77.2.1").stdout)
        got6 = json.loads(cli.run("python3", "-c", CLIENT, "fd77:9::9", str(port),
                                  "fd77:1::1", "fd77:2::1").stdout)
        assert got4 == [["10.77.1.1", "10.77.1.1", "eth0"], ["10.77.2.1", "10.77.2.1", "eth1"]]
        # IPv6 takes the interface as a hint only for a global peer with a
        # source address given (see dgram.h): the route decides, the source
        # address is still the one asked
        assert [g[:2] for g in got6] == [["fd77:1::1", "fd77:1::1"], ["fd77:2::1", "fd77:2::1"]]
        for p in (e4, e6):
            p.send_signal(signal.SIGTERM)
            assert p.wait(20) == 0
