"""weirctl -L -c lists the live connections, and they expire per --set
(issue 15): real clients holding connections through the TCP proxy and
the UDP proxy on 127.0.0.0/8, and through an XDP packet-mode service in
network namespaces the test creates; -L --timeout shows the timeouts set,
-S --config saves them. Started without a config file: --set needs none."""
import socket
import subprocess
import time

import pytest

from conftest import free_port, listen_local, wait_for

HEADER = ["IPVS connection entries",
          "pro expire state       source             virtual            destination"]


def conns(w, *extra):
    """-L -c -n's lines, split in columns: pro expire state source virtual
    destination."""
    lines = w.ctl("-L", "-c", "-n", *extra).stdout.splitlines()
    assert lines[:2] == HEADER, lines
    return [line.split() for line in lines[2:]]


def expire_s(mmss):
    m, s = mmss.split(":")
    return int(m) * 60 + int(s)


def row_from(w, src, state=None):
    """The line whose source is <src> (and state <state>), or None."""
    for r in conns(w):
        if r[3] == src and (state is None or r[2] == state):
            return r
    return None


def wait_row(w, src, state=None, what="the connection listed"):
    found = {}

    def seen():
        found["r"] = row_from(w, src, state)
        return found["r"] is not None
    wait_for(seen, 5, what)
    return found["r"]


def wait_gone(w, src, within, what):
    """<src>'s line disappears from -L -c within <within> seconds."""
    t0 = time.monotonic()
    wait_for(lambda: row_from(w, src) is None, within, what)
    return time.monotonic() - t0


def addr(sock):
    return "%s:%d" % sock.getsockname()[:2]


def test_tcp_proxy_sessions_and_set(weir):
    w = weir()
    srv, sport = listen_local()   # never accepts: the kernel completes the handshakes
    port, pport = free_port(), free_port()
    vip, pvip, rip = f"127.0.0.1:{port}", f"127.0.0.1:{pport}", f"127.0.0.1:{sport}"
    w.ctl("-A", "-t", vip, "--proxy", "tcp")
    w.ctl("-a", "-t", vip, "-r", rip)
    conns_open = []
    try:
        c1 = socket.create_connection(("127.0.0.1", port))
        conns_open.append(c1)
        r = wait_row(w, addr(c1), "ESTABLISHED")
        assert r[0] == "TCP" and r[4] == vip and r[5] == rip, r
        assert 890 <= expire_s(r[1]) <= 900, r        # the default tcp timeout, 15 min
        assert w.ctl("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 900 120 300\n"

        w.ctl("--set", "3", "1", "0")
        assert w.ctl("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 3 1 300\n"
        assert "tcp_timeout 3s;" in w.ctl("-S", "--config").stdout
        # a session opened now takes 3 s idle, and ends after them
        c2 = socket.create_connection(("127.0.0.1", port))
        conns_open.append(c2)
        r = wait_row(w, addr(c2), "ESTABLISHED")
        assert expire_s(r[1]) <= 3, r
        took = wait_gone(w, addr(c2), 8, "the idle session gone after --set 3")
        assert took <= 5.5, took
        c2.settimeout(3)
        assert c2.recv(10) == b"", "the client was not closed"
        # half-closed by the client: FIN_WAIT, then gone after tcpfin (1 s)
        c3 = socket.create_connection(("127.0.0.1", port))
        conns_open.append(c3)
        wait_row(w, addr(c3), "ESTABLISHED")
        c3.shutdown(socket.SHUT_WR)
        r = wait_row(w, addr(c3), "FIN_WAIT", "the half-closed session in FIN_WAIT")
        assert expire_s(r[1]) <= 1, r
        wait_gone(w, addr(c3), 4, "the half-closed session gone after tcpfin")
        # the one opened before keeps its timeout
        r = row_from(w, addr(c1))
        assert r is not None and r[2] == "ESTABLISHED", conns(w)

        # a persistent service: its template, state NONE, source port 0
        w.ctl("-A", "-t", pvip, "--proxy", "tcp", "-p", "60")
        w.ctl("-a", "-t", pvip, "-r", rip)
        c4 = socket.create_connection(("127.0.0.1", pport))
        conns_open.append(c4)
        wait_row(w, addr(c4), "ESTABLISHED")
        t = [r for r in conns(w) if r[2] == "NONE"]
        assert len(t) == 1 and t[0][3] == "127.0.0.1:0" and t[0][4] == pvip and \
            t[0][5] == rip and 55 <= expire_s(t[0][1]) <= 60, t
        # without -n weirctl writes names in the same columns (no mark left)
        named = w.ctl("-L", "-c").stdout.splitlines()
        assert named[:2] == HEADER and len(named) == len(conns(w)) + 2, named
        assert not any("\x01" in line or "\x02" in line for line in named), named
        out = w.ctl("-L", "-c", "-n", "--persistent-conn").stdout.splitlines()
        assert out[1].endswith("destination        pe name          pe_data"), out
    finally:
        for c in conns_open:
            c.close()
        srv.close()
    # every session ends with its client
    wait_for(lambda: all(r[2] == "NONE" for r in conns(w)), 5, "sessions gone")
    # weirctl refuses what ipvsadm refuses
    r = w.ctl("-L", "-c", "--stats", check=False)
    assert r.returncode == 2 and "options conflicts in the list command" in r.stderr
    r = w.ctl("--set", "1", "2", check=False)
    assert r.returncode == 2 and "--set option requires 3 timeout values" in r.stderr


def test_http_proxy_sessions(weir, backends):
    """HTTP: a connection waiting for its request, and a keep-alive one
    between requests (no server then), each until its own timeout."""
    w = weir()
    b = backends("b1")
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-t", vip, "--proxy", "http")
    w.ctl("-a", "-t", vip, "-r", b.addr)
    waiting = socket.create_connection(("127.0.0.1", port))
    kept = socket.create_connection(("127.0.0.1", port))
    try:
        r = wait_row(w, addr(waiting), "ESTABLISHED")
        assert r[0] == "TCP" and r[4] == vip and r[5] == "0.0.0.0:0", r
        assert expire_s(r[1]) <= 10, r                # the header timeout
        kept.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        kept.settimeout(5)
        assert b"b1" in kept.recv(4096)
        r = wait_row(w, addr(kept), "ESTABLISHED")
        assert r[4] == vip and r[5] == "0.0.0.0:0" and 50 <= expire_s(r[1]) <= 60, r
    finally:
        waiting.close()
        kept.close()
    wait_for(lambda: not conns(w), 5, "HTTP sessions gone with their clients")


def test_udp_proxy_sessions_and_set(weir):
    w = weir()
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    rip = addr(srv)
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-u", vip, "--proxy", "udp")
    w.ctl("-a", "-u", vip, "-r", rip)
    clients = []
    try:
        c1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        clients.append(c1)
        c1.sendto(b"one", ("127.0.0.1", port))
        c1.connect(("127.0.0.1", port))
        r = wait_row(w, addr(c1), "UDP")
        assert r[0] == "UDP" and r[4] == vip and r[5] == rip, r
        assert 290 <= expire_s(r[1]) <= 300, r        # the default udp timeout, 5 min
        w.ctl("--set", "0", "0", "2")
        assert w.ctl("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 900 120 2\n"
        assert "udp_timeout 2s;" in w.ctl("-S", "--config").stdout
        c2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        clients.append(c2)
        c2.sendto(b"two", ("127.0.0.1", port))
        c2.connect(("127.0.0.1", port))
        r = wait_row(w, addr(c2), "UDP")
        assert expire_s(r[1]) <= 2, r
        took = wait_gone(w, addr(c2), 6, "the UDP session gone after --set udp 2")
        assert took <= 4.5, took
    finally:
        for c in clients:
            c.close()
        srv.close()


# --- the XDP data path, in network namespaces ----------------------------------------

from test_xdp import (PORT, UPORT, VIP4, Held, config, directors, labs, lan,  # noqa: E402,F401
                      pass_obj, rs_add, servers, service)


def test_xdp_flows_listed_and_expire(labs, directors):
    """A DR service's TCP and UDP flows from the client, read from the data
    path's flow table, and gone from -L -c once --set's timeouts pass; the
    persistent TCP service's template."""
    t = lan(labs("conns"))
    rs_add(t, VIP4)
    t.start_backends()
    t.start_udp_echo(VIP4)
    w = directors(t.director, config([
        service("tcp", VIP4, PORT, servers(t.rips4, PORT, "route"), extra=["persistent 60"]),
        service("udp", VIP4, UPORT, servers(t.rips4, UPORT, "route"))]))
    held = Held(t)
    ans = held.cmd("open")
    name = held.name(ans["conn"])
    src = f"10.77.0.10:{ans['sport']}"
    r = wait_row(w, src, "ESTABLISHED")
    assert r[0] == "TCP" and r[4] == f"{VIP4}:{PORT}", r
    assert r[5] == f"{t.rips4[int(name[1:]) - 1]}:{PORT}", (r, name)
    assert 890 <= expire_s(r[1]) <= 900, r
    # the persistence template of the client, from wx_persist
    tmpl = [x for x in conns(w) if x[2] == "NONE"]
    assert len(tmpl) == 1 and tmpl[0][3] == "10.77.0.10:0" and \
        tmpl[0][4] == f"{VIP4}:{PORT}" and tmpl[0][5] == r[5] and \
        50 <= expire_s(tmpl[0][1]) <= 60, tmpl

    got = t.client.py("udp", VIP4, UPORT, 1)
    assert got[0][0].startswith("r"), got
    udp = [x for x in conns(w) if x[0] == "UDP"]
    assert len(udp) == 1 and udp[0][2] == "UDP" and udp[0][4] == f"{VIP4}:{UPORT}", udp
    assert udp[0][3].startswith("10.77.0.10:") and udp[0][5].endswith(f":{UPORT}"), udp
    assert 290 <= expire_s(udp[0][1]) <= 300, udp

    w.ctl("--set", "2", "0", "1")
    assert w.ctl("-L", "--timeout").stdout == "Timeout (tcp tcpfin udp): 2 120 1\n"
    took = wait_gone(w, src, 6, "the idle TCP flow gone after --set 2")
    assert took <= 4.5, took
    wait_for(lambda: not [x for x in conns(w) if x[0] == "UDP"], 4, "the UDP flow gone")
    held.p.stdin.close()
    held.p.wait(10)
