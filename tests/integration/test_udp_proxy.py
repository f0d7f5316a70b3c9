"""The layer-4 UDP proxy (issue 12, `proxy udp`) as its users see it: real
clients (dig, kdig, socat, logger, python sockets) through the real daemon
to UDP servers the test starts (udp_servers.py: DNS responders, echo
servers with fault modes, collectors). Sessions, every knob of a service
(responses, requests, ops, idle_timeout, max_conn, send_proxy, persistence),
the scheduler's shares over many flows, drain, health, passive failures,
addresses (127.0.0.2, ::1), bad input and the numbers weirctl and Prometheus
give. Traffic goes only to 127.0.0.0/8 and ::1; every wait is bounded."""
import collections
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import WEIR, json_server, rs_log, wait_for, wait_log, weir_json
from udp_servers import (DnsServer, EchoServer, ask, client, closed_port, hostport,
                         parse_proxy_v2, udp_port, who)

@pytest.fixture
def made():
    """The UDP servers a test started, closed at its end, pass or fail."""
    servers = []
    yield servers
    for s in servers:
        s.close()


@pytest.fixture
def udp(made):
    """A factory of EchoServers: udp("a", mode="silent", host="::1")."""
    def make(name, host="127.0.0.1", **kw):
        made.append(EchoServer(name, host, **kw))
        return made[-1]
    return make


@pytest.fixture
def dns(made):
    """A factory of DnsServers: dns("d1", "10.0.0.1")."""
    def make(name, address, host="127.0.0.1"):
        made.append(DnsServer(name, address, host))
        return made[-1]
    return make


def service(vip, servers, sched="rr", extra=()):
    """One `service udp VIP { proxy udp; ... }` block. <servers> are
    EchoServers/DnsServers or server lines ("127.0.0.1:9 weight 3");
    <extra> are directives without their ';'."""
    lines = ["    proxy udp;", f"    scheduler {sched};"]
    lines += [f"    {d};" for d in extra]
    lines += [f"    server {s if isinstance(s, str) else s.addr};" for s in servers]
    return f"service udp {vip} {{\n" + "\n".join(lines) + "\n}\n"


def conf(*services, workers=2, top=()):
    head = "".join(f"{d};\n" for d in top)
    return f"workers {workers};\nlog_level info;\ngrace 2s;\n{head}" + "".join(services)


def udp_bound(port):
    """Some socket has UDP port <port> bound (/proc/net/udp, udp6)."""
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        with open(path) as f:
            next(f)
            for line in f:
                local = line.split()[1]
                if int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def start(weir, servers, sched="rr", extra=(), host="127.0.0.1", workers=2):
    """weir with one UDP proxy service on <host> in front of <servers>, once
    its port is bound; returns (weir, vip text, (host, port) to send to)."""
    port = udp_port(host)
    vip = hostport(host, port)
    w = weir(conf(service(vip, servers, sched, extra), workers=workers))
    wait_for(lambda: udp_bound(port), 10, "weir's UDP listener")
    return w, vip, (host, port)


def svc_json(w, vip):
    doc = weir_json(w, "-L", "-n")
    for s in doc["services"]:
        if s["address"] == vip:
            return s
    raise AssertionError(f"{vip} not in -L --json: {doc}")


def sessions(w, vip):
    """Open sessions of the service (IPVS counts UDP entries as InActConn)."""
    s = svc_json(w, vip)
    return s["active_conns"] + s["inactive_conns"]


def counter(obj, key):
    """A new UDP counter ("evictions", "dropped") of a service or server
    in -L --json."""
    assert key in obj["stats"], f"no {key!r} in the JSON stats: {obj['stats']}"
    return obj["stats"][key]


class Flows:
    """<n> client sockets (one source port each, from <src>) sending to
    <dest>: round() sends one datagram from each in turn and waits for its
    answer. <seen>[i] lists, for flow i, who answered each datagram (None:
    no answer within <timeout>). A test stops after <max_misses> unanswered
    datagrams so that a broken proxy does not cost a timeout per datagram."""

    def __init__(self, dest, n, src="127.0.0.1", timeout=1.0, max_misses=5):
        self.dest, self.max_misses = dest, max_misses
        self.socks = [client(dest[0], src, timeout) for _ in range(n)]
        self.seen = [[] for _ in range(n)]
        self.misses = 0

    def one(self, i, data=None):
        data = data or b"flow %d msg %d" % (i, len(self.seen[i]))
        reply = ask(self.socks[i], self.dest, data)
        if reply is None:
            self.misses += 1
            assert self.misses <= self.max_misses, \
                f"{self.misses} datagrams unanswered; answers so far: {self.seen}"
            name = None
        else:
            assert reply.split(b"|", 1)[1] == data, (reply, data)
            name = who(reply)
        self.seen[i].append(name)
        return name

    def round(self):
        return [self.one(i) for i in range(len(self.socks))]

    def port(self, i):
        return self.socks[i].getsockname()[1]

    def close(self):
        for s in self.socks:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- DNS with real clients ------------------------------------------------------

def test_dig_and_kdig_through_the_proxy(weir, dns):
    """`responses 1`: every dig and kdig query (each from its own source
    port) is answered through the proxy, both DNS servers answer under rr,
    each query reached exactly one server once, and no session is left once
    the answers came."""
    d1, d2 = dns("d1", "10.0.0.1"), dns("d2", "10.0.0.2")
    w, vip, (host, port) = start(weir, [d1, d2], extra=["responses 1"])
    answers, asked = [], []
    for i in range(10):
        for tool in ("dig", "kdig"):
            name = f"q{i}.{tool}.weir.test"
            asked.append(name + ".")
            once = ["+tries=1", "+time=2"] if tool == "dig" else ["+retry=0", "+timeout=2"]
            r = subprocess.run([tool, f"@{host}", "-p", str(port), "+short", *once, name, "A"],
                               capture_output=True, text=True, timeout=10)
            answers.append(r.stdout.strip())
            assert r.returncode == 0 and r.stdout.strip() in ("10.0.0.1", "10.0.0.2"), \
                (tool, r.returncode, r.stdout, r.stderr)
    c = collections.Counter(answers)
    assert set(c) == {"10.0.0.1", "10.0.0.2"} and abs(c["10.0.0.1"] - c["10.0.0.2"]) <= 2, c
    assert sorted(d1.names + d2.names) == sorted(asked)
    # the answer ended each session (responses 1): none is left open
    wait_for(lambda: sessions(w, vip) == 0, 3, "sessions ended by their answer")


def test_dig_ipv6(weir, dns):
    d = dns("d6", "10.0.0.6", host="::1")
    w, vip, (host, port) = start(weir, [d], host="::1", extra=["responses 1"])
    r = subprocess.run(["dig", "@::1", "-p", str(port), "+short", "+tries=1", "+time=2",
                        "six.weir.test"], capture_output=True, text=True, timeout=10)
    assert r.stdout.strip() == "10.0.0.6", (r.stdout, r.stderr)


# --- the echo server's fault modes ---------------------------------------------------

def test_slow_server_answer_still_reaches_the_client(weir, udp):
    """A server answering after 1.5 s: the session waits for it (the idle
    timeout is longer), the client gets the answer from the address it sent
    to."""
    s = udp("slow", mode="slow", delay=1.5)
    w, vip, dest = start(weir, [s], extra=["idle_timeout 10s"])
    with client(timeout=4) as c:
        t0 = time.monotonic()
        c.sendto(b"take your time", dest)
        data, src = c.recvfrom(100)
        took = time.monotonic() - t0
    assert data == b"slow|take your time" and src == dest
    assert 1.4 <= took < 3.5, took


def test_silent_server_counted_and_sessions_end(weir, udp):
    """A DNS-like service (`responses 1`) whose server never answers: every
    datagram still reaches it and is counted (InPkts, no OutPkts), its
    sessions end at the idle timeout, counted as timeouts, and weir goes on
    (it stops cleanly at the end: no crash, no leak)."""
    s = udp("mute", mode="silent")
    w, vip, dest = start(weir, [s], extra=["idle_timeout 2s", "responses 1"])
    with Flows(dest, 20, timeout=0.02, max_misses=60) as f:
        for _ in range(3):
            assert f.round() == [None] * 20
    wait_for(lambda: s.count() == 60, 5, "the silent server got all 60 datagrams")
    st = svc_json(w, vip)
    assert (st["stats"]["conns"], st["stats"]["inpkts"], st["stats"]["outpkts"]) == (20, 60, 0)
    assert sessions(w, vip) == 20
    wait_for(lambda: sessions(w, vip) == 0, 6, "idle sessions ended")
    assert counter(svc_json(w, vip), "timeouts") == 20


def test_icmp_unreachable_fails_the_server_and_the_flow_moves_on(weir, udp):
    """A server port where nothing listens: the kernel answers ICMP port
    unreachable; weir counts it as a failure like a refused TCP connect
    (`outlier errors 1`: ejected), the flow's next datagram goes to a
    server that answers, and no later flow is sent to the closed port."""
    good = udp("good")
    dead = closed_port()
    w, vip, dest = start(weir, [dead, good], extra=["outlier errors 1 eject 30s"])
    mark = len(w.read_log())
    with Flows(dest, 4, timeout=0.5, max_misses=4) as f:
        # like DNS clients: each asks again when no answer comes, thrice
        for i in range(4):
            while f.one(i) is None:
                assert len(f.seen[i]) < 3, f.seen
    # some flow was sent to the closed port first, then moved on to good
    assert any(s == [None, "good"] for s in f.seen), f.seen
    assert all(s[-1] == "good" for s in f.seen), f.seen
    wait_log(w, rs_log(dead) + r"real server ejected", mark, timeout=5)
    assert json_server(w, vip, dead)["state"] == "ejected"
    with Flows(dest, 10, max_misses=0) as f:
        assert f.round() == ["good"] * 10


def test_all_servers_unreachable_no_crash(weir):
    """Both servers are closed ports: nothing answers, weir drops and counts,
    keeps serving its admin socket, and stops cleanly."""
    w, vip, dest = start(weir, [closed_port(), closed_port()])
    with Flows(dest, 5, timeout=0.1, max_misses=15) as f:
        for _ in range(3):
            f.round()
    st = svc_json(w, vip)["stats"]
    assert st["outpkts"] == 0 and st["inpkts"] <= 15, st


# --- syslog over UDP ----------------------------------------------------------------

def test_syslog_lines_each_reach_one_collector_once(weir, udp):
    """`responses 0` (no answer expected: the session ends once the datagram
    is sent): 20 lines from logger(1), each its own process and source
    port, and 200 from 10 source ports of a python client: the two
    collectors together got every line exactly once, and both got some."""
    c1, c2 = udp("c1", mode="silent"), udp("c2", mode="silent")
    w, vip, (host, port) = start(weir, [c1, c2], extra=["responses 0"])
    lines = []
    if shutil.which("logger"):
        for i in range(20):
            msg = f"weir-test logger line {i}"
            lines.append(msg)
            subprocess.run(["logger", "--udp", "--server", host, "--port", str(port),
                            "--rfc3164", "-t", "weirtest", msg], check=True, timeout=10)
    socks = [client() for _ in range(10)]
    try:
        for i in range(200):
            msg = f"<14>weirtest: python line {i}"
            lines.append(msg)
            socks[i % 10].sendto(msg.encode(), (host, port))
            if i % 20 == 19:
                time.sleep(0.01)
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: c1.count() + c2.count() >= len(lines), 5, "every line collected")
    time.sleep(0.2)   # and no more than once
    got = [d.decode(errors="replace") for d in c1.datagrams() + c2.datagrams()]
    for msg in lines:
        hits = [g for g in got if g.endswith(msg)]
        assert len(hits) == 1, (msg, hits)
    assert len(got) == len(lines)
    assert c1.count() > 20 and c2.count() > 20, (c1.count(), c2.count())
    wait_for(lambda: sessions(w, vip) == 0, 3, "no session left open")


# --- the scheduler's shares, sessions ------------------------------------------------

@pytest.mark.parametrize("sched,weights,share", [("rr", (1, 1), (50, 50)),
                                                 ("wrr", (3, 1), (75, 25))])
def test_shares_over_1000_datagrams_from_100_ports(weir, udp, sched, weights, share):
    """100 source ports, 10 datagrams each: every datagram answered, each
    flow's answers all from one server (its session), and the flows spread
    as the scheduler says: 50/50 under rr, 75/25 under wrr 3:1 (within two
    flows: two workers each take a part of the flows)."""
    a, b = udp("a"), udp("b")
    servers = [f"{a.addr} weight {weights[0]}", f"{b.addr} weight {weights[1]}"]
    w, vip, dest = start(weir, servers, sched=sched, extra=["idle_timeout 30s"])
    with Flows(dest, 100, max_misses=0) as f:
        for _ in range(10):
            f.round()
        ports = [f.port(i) for i in range(100)]
    assert len(set(ports)) == 100
    assert all(len(set(s)) == 1 for s in f.seen), [s for s in f.seen if len(set(s)) > 1][:3]
    c = collections.Counter(s[0] for s in f.seen)
    assert abs(c["a"] - share[0]) <= 2 and abs(c["b"] - share[1]) <= 2, c
    assert a.count() + b.count() == 1000
    st = svc_json(w, vip)["stats"]
    assert (st["conns"], st["inpkts"], st["outpkts"]) == (100, 1000, 1000), st
    assert sessions(w, vip) == 100


def test_persistence_keeps_a_client_address_on_one_server(weir, udp):
    """`persistent 60`: every source port of one client address goes to one
    server; the four client addresses 127.0.0.2-5 are spread by rr."""
    a, b = udp("a"), udp("b")
    w, vip, dest = start(weir, [a, b], extra=["persistent 60", "idle_timeout 30s"])
    chosen = {}
    for src in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"):
        with Flows(dest, 8, src=src, max_misses=0) as f:
            f.round()
            f.round()
        names = {n for s in f.seen for n in s}
        assert len(names) == 1, (src, f.seen)
        chosen[src] = names.pop()
    assert set(chosen.values()) == {"a", "b"}, chosen


def test_idle_timeout_ends_the_session_then_rescheduled(weir, udp):
    """`idle_timeout 1s`: datagrams 0.3 s apart keep the session (same
    server); once it is idle past 1 s the session is gone from the listing
    and the same source port is scheduled anew: rr gives the other server."""
    a, b = udp("a"), udp("b")
    w, vip, dest = start(weir, [a, b], extra=["idle_timeout 1s"])
    with Flows(dest, 1, max_misses=0) as f:
        first = f.one(0)
        for _ in range(5):
            time.sleep(0.3)
            assert f.one(0) == first          # 1.5 s in all: kept alive
        t0 = time.monotonic()
        time.sleep(0.5)
        assert sessions(w, vip) == 1
        wait_for(lambda: sessions(w, vip) == 0, 5, "the idle session ended")
        assert time.monotonic() - t0 >= 0.5
        again = f.one(0)
    assert again != first and {first, again} == {"a", "b"}
    assert svc_json(w, vip)["stats"]["conns"] == 2


def test_ops_schedules_every_datagram(weir, udp):
    """`ops on` (ipvsadm -o): one source port, every datagram scheduled on
    its own: rr alternates between the servers datagram by datagram."""
    a, b = udp("a"), udp("b")
    w, vip, dest = start(weir, [a, b], extra=["ops on"])
    with Flows(dest, 1, max_misses=0) as f:
        for _ in range(8):
            f.one(0)
    seq = f.seen[0]
    assert seq[0::2] == [seq[0]] * 4 and seq[1::2] == [seq[1]] * 4 and seq[0] != seq[1], seq
    assert svc_json(w, vip)["stats"]["conns"] == 8


def test_requests_2_starts_a_new_session_every_two(weir, udp):
    """`requests 2`: two datagrams of a flow per session, the third starts
    a new one: rr gives a a b b a a."""
    a, b = udp("a"), udp("b")
    w, vip, dest = start(weir, [a, b], extra=["requests 2"])
    with Flows(dest, 1, max_misses=0) as f:
        for _ in range(6):
            f.one(0)
    x, y = f.seen[0][0], ({"a", "b"} - {f.seen[0][0]}).pop()
    assert f.seen[0] == [x, x, y, y, x, x], f.seen[0]


def test_responses_1_ends_the_session_at_the_answer(weir, udp):
    """`responses 1` with a server that answers each datagram twice: the
    client gets the first answer only, and the session ended with it: the
    next datagram of the same port is scheduled anew (rr: the other one)."""
    a, b = udp("a", replies=2), udp("b", replies=2)
    w, vip, dest = start(weir, [a, b], extra=["responses 1"])
    with client(timeout=0.5) as c:
        names = []
        for i in range(4):
            c.sendto(b"q%d" % i, dest)
            reply = c.recv(100)
            assert reply.split(b"|", 1)[1] == b"q%d" % i, reply
            names.append(who(reply))
            with pytest.raises(socket.timeout):
                c.recv(100)            # the second answer is not passed on
    assert names[0] != names[1] and names[0::2] == [names[0]] * 2, names
    assert svc_json(w, vip)["stats"]["outpkts"] == 4


# --- drain, health ----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["drain", "weight0"])
def test_drained_server_keeps_its_sessions_gets_no_new_ones(weir, udp, how):
    """Drained (`weirctl server -u VIP RIP drain`, or `-e ... -w 0`): the
    server's open sessions go on until idle, no new flow goes to it; once a
    kept session is idle past the timeout its next datagram goes elsewhere."""
    a, b = udp("a"), udp("b")
    w, vip, dest = start(weir, [a, b], extra=["idle_timeout 2s"])
    with Flows(dest, 4, max_misses=0) as old:
        old.round()
        on_a = [i for i in range(4) if old.seen[i][0] == "a"]
        assert 0 < len(on_a) < 4, old.seen
        if how == "drain":
            w.ctl("server", "-u", vip, a.addr, "drain")
            assert json_server(w, vip, a.addr)["state"] == "drain"
        else:
            w.ctl("-e", "-u", vip, "-r", a.addr, "-w", "0")
        for _ in range(3):
            assert old.round() == [s[0] for s in old.seen]   # kept, a included
            time.sleep(0.2)
        with Flows(dest, 10, max_misses=0) as new:
            assert new.round() == ["b"] * 10
        # old flows idle past 2 s: their sessions end, the next goes to b
        wait_for(lambda: json_server(w, vip, a.addr)["inactive_conns"]
                 + json_server(w, vip, a.addr)["active_conns"] == 0, 6,
                 "the drained server's sessions ended")
        assert [old.one(i) for i in on_a] == ["b", "b"]


def weir_accepts(text, tmpdir):
    path = os.path.join(tmpdir, "probe.conf")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    return r.returncode == 0, r.stderr.strip()


def test_health_marks_a_silent_server_down_and_back_up(weir, udp, tmpdir_path):
    """`check udp send ping expect ping`: a server that falls silent is
    down within fall x interval (+ slack), new flows all go to the other
    one; once it answers again it is up and gets flows again."""
    a, b = udp("a"), udp("b")
    check = "check udp send ping expect ping interval 200ms timeout 150ms rise 1 fall 2"
    ok, why = weir_accepts(conf(service(f"127.0.0.1:{udp_port()}", [a, b], extra=[check])),
                           tmpdir_path)
    assert ok, why
    w, vip, dest = start(weir, [a, b], extra=[check, "responses 1"])
    wait_for(lambda: json_server(w, vip, b.addr)["health"]["last"] != "", 5, "a first check")
    mark = len(w.read_log())
    t0 = time.monotonic()
    b.mode = "silent"
    wait_log(w, rs_log(b.addr) + "real server is down", mark, timeout=5)
    assert time.monotonic() - t0 <= 0.2 * 1.1 + 0.2 + 2 * 0.15 + 1.5
    assert json_server(w, vip, b.addr)["state"] == "down"
    with Flows(dest, 10, max_misses=0) as f:
        assert f.round() == ["a"] * 10
    b.mode = "echo"
    wait_for(lambda: json_server(w, vip, b.addr)["state"] == "up", 5, "b up again")
    with Flows(dest, 10, max_misses=0) as f:
        assert set(f.round()) == {"a", "b"}


# --- addresses ---------------------------------------------------------------------------

def test_reply_comes_from_the_address_the_client_sent_to(weir, udp):
    """A service on 0.0.0.0:P1 and one on 127.0.0.2:P2: a client sending
    to 127.0.0.2 or 127.0.0.3 gets its answer from that address and port
    (recvfrom), and a connect()ed socket (socat) gets it at all."""
    a = udp("a")
    p1, p2 = udp_port("0.0.0.0"), udp_port("127.0.0.2")
    weir(conf(service(f"0.0.0.0:{p1}", [a]), service(f"127.0.0.2:{p2}", [a])))
    wait_for(lambda: udp_bound(p1) and udp_bound(p2), 10, "weir's UDP listeners")
    for dst, port in (("127.0.0.1", p1), ("127.0.0.2", p1), ("127.0.0.3", p1),
                      ("127.0.0.2", p2)):
        with client(timeout=2) as c:
            c.sendto(b"to " + dst.encode(), (dst, port))
            data, src = c.recvfrom(100)
            assert (data, src) == (b"a|to " + dst.encode(), (dst, port))
        with client(timeout=2, connect=(dst, port)) as c:
            c.send(b"connected")
            assert c.recv(100) == b"a|connected"
        r = subprocess.run(["socat", "-t", "2", "-T", "2", "-",
                            f"UDP4:{dst}:{port},bind=127.0.0.1"], input=b"socat\n",
                           capture_output=True, timeout=10)
        assert r.stdout == b"a|socat\n", (dst, port, r.stdout, r.stderr)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv6_service(weir, udp):
    a, b = udp("a", host="::1"), udp("b", host="::1")
    w, vip, dest = start(weir, [a, b], host="::1")
    with Flows(dest, 4, src="::1", max_misses=0) as f:
        f.round()
        f.round()
    assert collections.Counter(s[0] for s in f.seen) == {"a": 2, "b": 2}
    assert all(len(set(s)) == 1 for s in f.seen)
    assert f"UDP  {vip} rr" in w.ctl("-L", "-n").stdout
    with client("::1", "::1", timeout=2) as c:
        c.sendto(b"six", dest)
        data, src = c.recvfrom(100)
        assert src[:2] == dest and data.endswith(b"|six")


# --- PROXY protocol v2 ---------------------------------------------------------------------

@pytest.mark.parametrize("host,fam", [("127.0.0.1", 0x12), ("::1", 0x22)])
def test_send_proxy_v2_header_in_front_of_each_datagram(weir, udp, host, fam):
    """`send_proxy v2`: the server sees, in front of each datagram, a PROXY
    v2 header (read here by the spec) with the client's address and port
    and the address it sent to, and the client's bytes after it; the client
    gets the server's answer without any header."""
    s = udp("pp", host=host, mode="silent")
    w, vip, dest = start(weir, [s], host=host, extra=["send_proxy v2"])
    sent = []
    for k in range(2):
        with client(host, host, timeout=1) as c:
            for i in range(3):
                data = b"flow %d datagram %d" % (k, i)
                c.sendto(data, dest)
                sent.append((c.getsockname()[1], data))
    wait_for(lambda: s.count() == 6, 5, "six datagrams at the server")
    # two flows may be on two workers: the server's order is not the clients'
    headers = {}
    for dgram in s.datagrams():
        f, src, dst, payload = parse_proxy_v2(dgram)
        headers[payload] = (f, src, dst)
    assert headers == {data: (fam, (host, sport), dest) for sport, data in sent}
    # the answer comes back bare
    s.mode = "echo"
    with client(host, host, timeout=2) as c:
        assert ask(c, dest, b"hello") == b"pp|" + s.datagrams()[-1]


# --- bad input, bounds --------------------------------------------------------------------

def test_empty_and_largest_datagrams_never_truncated(weir, udp):
    """An empty datagram and the largest one IPv4 carries (65,507 bytes):
    each reaches the server whole or not at all (then counted as dropped);
    a datagram that with the PROXY header no longer fits is dropped and
    counted; nothing crashes and the next datagram is answered."""
    s = udp("s")
    pp = udp("pp", mode="silent")
    p1, p2 = udp_port(), udp_port()
    w = weir(conf(service(f"127.0.0.1:{p1}", [s]),
                  service(f"127.0.0.1:{p2}", [pp], extra=["send_proxy v2"])))
    wait_for(lambda: udp_bound(p1) and udp_bound(p2), 10, "weir's UDP listeners")
    big = bytes(range(256)) * 255 + bytes(227)
    assert len(big) == 65507
    with client(timeout=1) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        for data in (b"", big, b"after"):
            c.sendto(data, ("127.0.0.1", p1))
            try:
                reply = c.recv(70000)
            except socket.timeout:
                reply = None
            if data == b"after":
                assert reply == b"s|after"
    got = s.datagrams()
    assert all(g in (b"", big, b"after") for g in got), [len(g) for g in got]
    lost = 3 - len(got)
    vip1 = f"127.0.0.1:{p1}"
    assert counter(svc_json(w, vip1), "dropped") == lost
    # behind send_proxy v2: 65,507 + the header is more than a datagram
    with client(timeout=1) as c:
        c.sendto(big, ("127.0.0.1", p2))
        c.sendto(b"small", ("127.0.0.1", p2))
    wait_for(lambda: pp.count() >= 1, 5, "the small datagram")
    time.sleep(0.2)
    assert [parse_proxy_v2(d)[3] for d in pp.datagrams()] == [b"small"]
    assert counter(svc_json(w, f"127.0.0.1:{p2}"), "dropped") >= 1


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_flood_of_source_ports_bounded_by_max_conn(weir, udp):
    """5,000 new source ports against `max_conn 100`: the sessions never
    pass 100, the oldest are evicted and counted, none of the datagrams is
    dropped, weir's memory does not grow with the flood, and a new client
    is still answered."""
    s = udp("s")
    w, vip, dest = start(weir, [s], extra=["max_conn 100", "idle_timeout 60s"])
    most = []    # the sessions after each burst of 250

    def flood(n):
        for _ in range(n // 250):
            socks = [client() for _ in range(250)]
            for c in socks:
                c.sendto(b"x" * 64, dest)
            for c in socks:
                c.close()
            most.append(sessions(w, vip))
    flood(500)
    wait_for(lambda: s.count() >= 450, 15, "the warm-up at the server")
    before = rss_kb(w.proc.pid)
    flood(5000)
    wait_for(lambda: s.count() >= 4500, 30, "most of the flood at the server")
    after = rss_kb(w.proc.pid)
    st = svc_json(w, vip)
    ev = counter(st, "evictions")
    # no worker is locked out by the sessions the others hold (each keeps
    # to its share of max_conn): weir forwards every datagram of the flood
    assert counter(st, "dropped") == 0, st["stats"]
    # every datagram a new session but for a few ports the kernel gave twice
    assert ev > 0 and ev >= 0.9 * (s.count() - 100), (ev, s.count())
    assert after - before < 16 * 1024, f"RSS grew {after - before} kB over 5,000 flows"
    with client(timeout=2) as c:
        assert ask(c, dest, b"still there") == b"s|still there"
    most.append(sessions(w, vip))
    assert max(most) <= 100, f"sessions after each burst: {most}"
    # the same numbers in weir's UDP view
    out = w.ctl("-L", "-n", "--udp", "--exact").stdout
    assert out.splitlines()[1].split() == ["Prot", "LocalAddress:Port", "Sessions", "Open",
                                           "Evicted", "Dropped", "TimedOut", "InPPS",
                                           "OutPPS"], out
    row = next(l.split() for l in out.splitlines() if l.split()[:2] == ["UDP", vip])
    assert int(row[4]) >= ev and int(row[3]) <= 100, out


# --- the numbers -----------------------------------------------------------------------------

def stats_line(w, proto_vip):
    out = w.ctl("-L", "-n", "--stats", "--exact").stdout
    lines = out.splitlines()
    assert lines[1].split() == ["Prot", "LocalAddress:Port", "Conns", "InPkts", "OutPkts",
                                "InBytes", "OutBytes"], out
    row = next(l for l in lines if l.split()[:2] == proto_vip.split())
    rows = [l.split() for l in lines if re.match(r"\s+-> \d", l)]
    return list(map(int, row.split()[2:7])), rows, out


def test_stats_columns_match_the_traffic(weir, udp):
    """-L -n --stats --exact: Conns = sessions (flows), InPkts/InBytes = the
    client datagrams, OutPkts/OutBytes = the answers the clients got, per
    service and summed over its servers; Prometheus says the same and has
    the eviction and drop counters for the service; -Z zeroes."""
    a, b = udp("a"), udp("b")
    mport = udp_port()
    port = udp_port()
    vip = f"127.0.0.1:{port}"
    w = weir(conf(service(vip, [a, b]), top=[f"metrics 127.0.0.1:{mport}"]))
    wait_for(lambda: udp_bound(port), 10, "weir's UDP listener")
    sent = got = 0
    with Flows(("127.0.0.1", port), 5, max_misses=0) as f:
        for k in range(4):
            for i in range(5):
                data = b"%d" % i * (100 + 37 * k)
                f.one(i, data)
                sent += len(data)
                got += len(b"x|") + len(data)
    (conns, inpkts, outpkts, inbytes, outbytes), rows, out = stats_line(w, f"UDP  {vip}")
    assert (conns, inpkts, outpkts, inbytes, outbytes) == (5, 20, 20, sent, got), out
    assert len(rows) == 2 and sum(int(r[2]) for r in rows) == 5, out
    assert sum(int(r[3]) for r in rows) == 20 and sum(int(r[6]) for r in rows) == got, out
    from test_metrics import parse_prometheus, value
    fams = parse_prometheus(w.ctl("metrics").stdout)
    svcl = {"service": f"UDP {vip}"}
    assert value(fams, "weir_service_connections_total", **svcl) == 5
    assert value(fams, "weir_service_packets_in_total", **svcl) == 20
    assert value(fams, "weir_service_bytes_out_total", **svcl) == got
    for kind in ("service", "server"):
        for fam in ("evictions_total", "dropped_total", "timeouts_total"):
            assert f"weir_{kind}_{fam}" in fams, (kind, fam, sorted(fams))
    assert value(fams, "weir_service_evictions_total", **svcl) == 0
    assert value(fams, "weir_service_dropped_total", **svcl) == 0
    rate = w.ctl("-L", "-n", "--rate").stdout
    assert f"UDP  {vip}" in rate, rate
    w.ctl("-Z")
    assert stats_line(w, f"UDP  {vip}")[0] == [0] * 5


def test_weirctl_builds_a_udp_service_and_saves_it(weir, udp):
    """`weirctl -A -u VIP -s wrr --proxy udp` with the UDP options, `-a -u
    ... -r ... -w`: traffic flows 3:1, `-L -n` says `UDP  VIP wrr`, and
    `-S` gives the options back; -C then -R of that text builds the same."""
    a, b = udp("a"), udp("b")
    w = weir()
    port = udp_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-u", vip, "-s", "wrr", "--proxy", "udp", "--responses", "1",
          "--requests", "4", "--idle-timeout", "20s", "--max-conn", "500")
    w.ctl("-a", "-u", vip, "-r", a.addr, "-w", "3")
    w.ctl("-a", "-u", vip, "-r", b.addr, "-w", "1")
    wait_for(lambda: udp_bound(port), 10, "weir's UDP listener")
    out = w.ctl("-L", "-n").stdout
    assert f"UDP  {vip} wrr" in out, out
    assert re.search(rf"-> {re.escape(a.addr)}\s+Proxy\s+3\s", out), out
    with Flows(("127.0.0.1", port), 8, max_misses=0) as f:
        c = collections.Counter(f.round())
    assert c == {"a": 6, "b": 2}, c
    text = w.ctl("-S", "-n").stdout
    line = next(l for l in text.splitlines() if l.startswith("-A -u"))
    for part in ("-s wrr", "--proxy udp", "--responses 1", "--requests 4",
                 "--idle-timeout (20s|20000ms)", "--max-conn 500"):
        assert re.search(rf"{part}( |$)", line), (part, line)
    w.ctl("-C")
    wait_for(lambda: not udp_bound(port), 5, "listener closed")
    w.ctl("-R", stdin=text)
    assert w.ctl("-S", "-n").stdout == text
    wait_for(lambda: udp_bound(port), 10, "listening again")
    # the other options: ops, send_proxy
    w.ctl("-E", "-u", vip, "-s", "rr", "--proxy", "udp", "-o", "--send-proxy", "v2")
    line = next(l for l in w.ctl("-S", "-n").stdout.splitlines() if l.startswith("-A -u"))
    assert (" -o" in line or "--ops" in line) and "--send-proxy v2" in line, line
    # a bad value is refused with the config's reason, nothing changed
    before = w.ctl("-S", "-n").stdout
    r = w.ctl("-E", "-u", vip, "--responses", "lots", check=False)
    assert r.returncode != 0 and "--responses" in r.stderr, r.stderr
    assert w.ctl("-S", "-n").stdout == before
