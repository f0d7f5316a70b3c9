"""The XDP data path end to end (issue 6): weir in a director namespace
steering a client's real TCP and UDP connections to real servers in their
own namespaces, by direct routing (DR), IP tunnel (TUN), NAT and FULLNAT;
spread as the scheduler says; connections kept across table changes;
counters; the program leaving the interfaces when weir exits.

Every test builds its own namespaces (netns.Lab, a unique prefix), with
addresses in 10.77.0.0/16 and fd77::/16 only, and tears them down, with the
processes and the XDP/tc programs in them, pass or fail.

The topologies (lan, tunneled, routed) and the client side's checks are
in topo.py, shared with test_ipvsadm_script.py.
"""
import collections
import json
import os
import select
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import WEIR, wait_for, wait_log
from netns import NsWeir
from topo import (NREALS, PORT, UPORT, VIP4, VIP6, answered, get,  # noqa: F401 (fixtures)
                  global_counters, hostport, labs, lan, pass_obj, per_real, routed,
                  reals_in_use, rs_add, tunneled, wait_conns)

# --- fixtures ------------------------------------------------------------------------

@pytest.fixture
def directors(labs, tmpdir_path):
    """A factory of weir daemons running in a namespace; each is stopped
    (exit 0, sanitizers clean) at the end, before the labs close."""
    made = []

    def make(ns, config, ifaces=("eth0",)):
        w = NsWeir(ns, tempfile.mkdtemp(dir=tmpdir_path), config)
        made.append(w)
        w.start()
        for i in ifaces:
            wait_log(w, rf"xdp: attached to {i} ")
        return w
    yield make
    errors = []
    for w in made:
        if w.proc is None:
            continue
        try:
            rc = w.stop()
        except AssertionError as e:   # a sanitizer report, or it hung
            errors.append(str(e)[-3000:])
            continue
        if rc != 0:
            errors.append(f"weir exited {rc}:\n{w.read_log()[-3000:]}")
    assert not errors, "\n".join(errors)


# --- configs and listings ------------------------------------------------------------

def service(proto, vip, port, servers, sched="rr", extra=()):
    """A packet-mode service block; <servers> are "ADDR:PORT OPTIONS"."""
    lines = [f"    scheduler {sched};", *[f"    {d};" for d in extra],
             *[f"    server {s};" for s in servers]]
    return f"service {proto} {hostport(vip, port)} {{\n" + "\n".join(lines) + "\n}\n"


def config(services, ifaces=("eth0",), mode="native", local=()):
    xdp = f"interface {' '.join(ifaces)}; mode {mode};"
    for a in [local] if isinstance(local, str) else local:
        xdp += f" local {a};"
    return ("workers 1;\nlog_level info;\ngrace 1s;\n"
            f"xdp {{ {xdp} }}\n" + "".join(services))


def servers(rips, port, forward, weights=None):
    weights = weights or [1] * len(rips)
    return [f"{hostport(a, port)} forward {forward} weight {w}" for a, w in zip(rips, weights)]


def balanced(names, k=NREALS):
    c = collections.Counter(names)
    return c, len(c) == k and len(set(c.values())) == 1


# --- DR, TUN, NAT, FULLNAT -----------------------------------------------------------

@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("mode", ["native", "generic"])
def test_dr(labs, directors, mode, family):
    """Direct routing: every connection answered by a real (directly), rr
    over the reals, Conns counted, and no program left after SIGTERM."""
    t = lan(labs(f"dr{family}{mode[0]}", native=mode == "native"))
    vip, rips = (VIP4, t.rips4) if family == 4 else (VIP6, t.rips6)
    rs_add(t, vip)
    t.start_backends()
    w = directors(t.director, config([service("tcp", vip, PORT, servers(rips, PORT, "route"))],
                                     mode=mode))
    assert f"eth0 ({mode} mode)" in w.read_log(), w.read_log()
    names = get(t, vip, 9)
    answered(names, f"DR IPv{family} {mode}", w)
    assert set(names) == {"r1", "r2", "r3"}, names
    rows = wait_conns(w, "tcp", vip, PORT, 9)
    assert rows["service"][1] >= 9 * 3, rows      # SYN, ACK, request, FIN...
    assert rows["service"][2] == 0, rows          # answers bypass the director
    per_real(rows, names, rips)
    assert t.director.xdp_attached("eth0")
    assert w.stop() == 0
    assert not t.director.xdp_attached("eth0"), \
        t.director.ip("-d", "link", "show", "eth0").stdout


@pytest.mark.parametrize("family", [4, 6])
def test_tun(labs, directors, family):
    """IP tunnel to reals behind a router: they decapsulate with weir's tc
    program (`weir rs add VIP --mode tun`) and answer the client without the
    director; TCP and UDP."""
    t = tunneled(labs(f"tun{family}"))
    vip, rips, client = ((VIP4, t.rips4, "10.77.0.10") if family == 4
                         else (VIP6, t.rips6, "fd77::10"))
    for r in t.reals:
        out = r.run(WEIR, "rs", "add", vip, "--mode", "tun", "--dev", "eth0").stdout
        assert "decapsulat" in out, out
    t.start_backends()
    t.start_udp_echo(vip)   # DR/TUN answers come from the VIP: bind it
    w = directors(t.director, config(
        [service("tcp", vip, PORT, servers(rips, PORT, "tunnel")),
         service("udp", vip, UPORT, servers(rips, UPORT, "tunnel"))],
        local=["10.77.0.2", "fd77::2"]))
    names = get(t, vip, 9)
    answered(names, f"TUN IPv{family} TCP", w)
    assert set(names) == {"r1", "r2", "r3"}, names
    got = t.client.py("udp", vip, UPORT, 6)
    answered([g[0] if isinstance(g, list) else g for g in got], f"TUN IPv{family} UDP", w)
    assert all(g[1] == client for g in got), got
    rows = wait_conns(w, "tcp", vip, PORT, 9)
    assert rows["service"][2] == 0, rows
    per_real(rows, names, rips)


def test_tun_two_vips(labs, directors):
    """A dual-stack real server: `weir rs add` of an IPv4 and an IPv6 VIP,
    one command each (each `ip netns exec` is a new mount namespace, as a
    new shell in a container may be); both VIPs keep being decapsulated."""
    t = tunneled(labs("tun46"))
    for r in t.reals:
        for vip in (VIP4, VIP6):
            r.run(WEIR, "rs", "add", vip, "--mode", "tun", "--dev", "eth0")
    t.start_backends()
    w = directors(t.director, config(
        [service("tcp", VIP4, PORT, servers(t.rips4, PORT, "tunnel")),
         service("tcp", VIP6, PORT, servers(t.rips6, PORT, "tunnel"))],
        local=["10.77.0.2", "fd77::2"]))
    shown = t.reals[0].run(WEIR, "rs", "show").stdout
    for vip in (VIP4, VIP6):
        names = get(t, vip, 3, timeout=1.5)
        answered(names, f"TUN to {vip} after `weir rs add {VIP4}` and `{VIP6}` "
                 f"(weir rs show in r1: {shown.strip()!r})", w)


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("mode", ["native", "generic"])
def test_nat(labs, directors, mode, family):
    """NAT: the director rewrites both ways (two interfaces, XDP on both);
    the reals see the client's address; TCP and UDP."""
    t = routed(labs(f"nat{family}{mode[0]}", native=mode == "native"), gateway=True)
    vip, rips = (VIP4, t.rips4) if family == 4 else (VIP6, t.rips6)
    client = "10.77.1.10" if family == 4 else "fd77:1::10"
    t.start_backends()
    t.start_udp_echo("::")
    w = directors(t.director, config(
        [service("tcp", vip, PORT, servers(rips, PORT, "masq")),
         service("udp", vip, UPORT, servers(rips, UPORT, "masq"))],
        ifaces=("eth0", "eth1"), mode=mode), ifaces=("eth0", "eth1"))
    for dev in ("eth0", "eth1"):
        assert f"{dev} ({mode} mode)" in w.read_log(), w.read_log()
    names = get(t, vip, 9)
    answered(names, f"NAT IPv{family} {mode} TCP", w)
    assert set(names) == {"r1", "r2", "r3"}, names
    got = t.client.py("udp", vip, UPORT, 6)
    answered([g[0] if isinstance(g, list) else g for g in got],
             f"NAT IPv{family} {mode} UDP", w)
    assert all(g[1] == client for g in got), got
    rows = wait_conns(w, "tcp", vip, PORT, 9)
    assert rows["service"][2] >= 9 * 2, rows     # answers come back through it
    per_real(rows, names, rips)


def test_fullnat(labs, directors):
    """FULLNAT: the reals have no route to the client; they see the
    director's local address; TCP and UDP."""
    t = routed(labs("fnat"), gateway=False)
    t.start_backends()
    t.start_udp_echo("0.0.0.0")
    w = directors(t.director, config(
        [service("tcp", VIP4, PORT, servers(t.rips4, PORT, "fullnat")),
         service("udp", VIP4, UPORT, servers(t.rips4, UPORT, "fullnat"))],
        ifaces=("eth0", "eth1"), local=t.local4), ifaces=("eth0", "eth1"))
    names = get(t, VIP4, 9)
    answered(names, "FULLNAT TCP", w)
    assert set(names) == {"r1", "r2", "r3"}, names
    got = t.client.py("udp", VIP4, UPORT, 6)
    answered([g[0] if isinstance(g, list) else g for g in got], "FULLNAT UDP", w)
    assert all(g[1] == t.local4 for g in got), got
    rows = wait_conns(w, "tcp", VIP4, PORT, 9)
    assert rows["service"][2] >= 9 * 2, rows
    per_real(rows, names, t.rips4)


# --- spread as the scheduler says ---------------------------------------------------

def dr_lab(labs, directors, tag, sched, weights=None, extra=()):
    t = lan(labs(tag))
    rs_add(t, VIP4)
    t.start_backends()
    w = directors(t.director, config([service(
        "tcp", VIP4, PORT, servers(t.rips4, PORT, "route", weights), sched, extra)]))
    return t, w


def test_rr_walks_the_sequence(labs, directors):
    """rr, one client on one CPU: 30 new connections, 10 per real, in turn."""
    t, w = dr_lab(labs, directors, "rr1", "rr")
    names = get(t, VIP4, 30, cpus="0")
    answered(names, "rr", w)
    c, ok = balanced(names)
    assert ok, f"rr over 3 reals, 30 connections: {dict(c)}: {names}"
    assert all(names[i] == names[i % 3] for i in range(30)), names


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_rr_equal_across_cpus(labs, directors):
    """rr as IPVS: equal counts over 3k connections however the director's
    CPUs receive them (a multi-queue NIC spreads flows over CPUs; here the
    client alternates CPUs, so the director's program runs on both)."""
    t, w = dr_lab(labs, directors, "rr2", "rr")
    names = get(t, VIP4, 9, cpus="0,1")
    answered(names, "rr", w)
    c, ok = balanced(names)
    assert ok, (f"rr over 3 reals, 9 new connections arriving on CPUs 0,1,0,1...: "
                f"{dict(c)} (IPVS: 3 each): {names}")


def test_wrr_weights(labs, directors):
    """wrr 3:2:1: 60 connections split 30/20/10, within 3."""
    t, w = dr_lab(labs, directors, "wrr", "wrr", weights=[3, 2, 1])
    names = get(t, VIP4, 60, cpus="0,1")
    answered(names, "wrr", w)
    c = collections.Counter(names)
    for name, want in (("r1", 30), ("r2", 20), ("r3", 10)):
        assert abs(c[name] - want) <= 3, f"wrr 3:2:1 over 60: {dict(c)}"


def test_sh_keeps_a_client(labs, directors):
    """sh: each client address stays on one real; several addresses spread."""
    t, w = dr_lab(labs, directors, "sh", "sh")
    srcs = [f"10.77.0.{20 + i}" for i in range(8)]
    for a in srcs:
        t.client.ip("addr", "add", f"{a}/24", "dev", "eth0")
    t.director.py("prime", *srcs)
    seen = {}
    for a in srcs:
        names = get(t, VIP4, 5, src=a, cpus="0,1")
        answered(names, f"sh from {a}", w)
        assert len(set(names)) == 1, f"sh: client {a} went to {names}"
        seen[a] = names[0]
    assert len(set(seen.values())) >= 2, f"sh: 8 clients all on one real: {seen}"


def test_fo_sends_all_to_the_highest_weight(labs, directors):
    """fo (IPVS weighted failover) in the data path: every new connection to
    the real with the highest weight; once it is drained, to the next."""
    t, w = dr_lab(labs, directors, "fo", "fo", weights=[1, 3, 2])
    names = get(t, VIP4, 12, cpus="0,1")
    answered(names, "fo", w)
    assert set(names) == {"r2"}, f"fo 1:3:2: {names}"
    w.ctl("server", "-t", f"{VIP4}:{PORT}", f"{t.rips4[1]}:{PORT}", "drain")
    names = get(t, VIP4, 12, cpus="0,1")
    answered(names, "fo after drain", w)
    assert set(names) == {"r3"}, f"fo 1:3:2 with r2 drained: {names}"


# --- connections kept across changes ------------------------------------------------

class Held:
    """Keep-alive connections from the client (netns.py hold)."""

    def __init__(self, t):
        self.director = t.director
        self.p = t.client.py_popen("hold", VIP4, PORT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)

    def cmd(self, line, timeout=10.0):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        assert ready, f"hold: no answer to {line!r} in {timeout}s"
        ans = json.loads(self.p.stdout.readline())
        assert "error" not in ans, \
            f"hold: {line!r}: {ans}\n{global_counters(self.director)}"
        return ans

    def open(self):
        return self.cmd("open")["conn"]

    def name(self, i):
        return self.cmd(f"get {i}")["name"]


def test_weight_change_and_removal_keep_connections(labs, directors):
    """An open connection stays on its real, and works, across a weight
    change (weirctl -e) and when its real is removed (weirctl -d, with
    on_server_gone keep); the removed real gets no new connections."""
    t, w = dr_lab(labs, directors, "keep", "wrr", extra=["on_server_gone keep"])
    held = Held(t)
    on = {}
    for _ in range(9):
        i = held.open()
        on.setdefault(held.name(i), i)
        if len(on) == 3:
            break
    assert len(on) == 3, f"9 connections did not reach all three reals: {on}"
    svc = hostport(VIP4, PORT)

    w.ctl("-e", "-t", svc, "-r", hostport(t.rips4[0], PORT), "-g", "-w", "4")
    for _ in range(3):
        for name, i in on.items():
            assert held.name(i) == name, f"after -e, connection {i} left {name}"
    names = get(t, VIP4, 12, cpus="0")
    answered(names, "after -e", w)
    c = collections.Counter(names)
    assert c["r1"] == 8 and c["r2"] == 2 and c["r3"] == 2, \
        f"wrr 4:1:1 over 12 new connections: {dict(c)}"

    w.ctl("-d", "-t", svc, "-r", hostport(t.rips4[1], PORT))
    names = get(t, VIP4, 12, cpus="0,1")
    answered(names, "after -d", w)
    assert "r2" not in names, f"r2 was removed but got new connections: {names}"
    for _ in range(3):
        for name, i in on.items():
            assert held.name(i) == name, f"after -d, connection {i} left {name}"
    held.p.stdin.close()
    held.p.wait(10)


def test_removed_real_keeps_its_slot_while_its_flows_live(labs, directors):
    """A removed real's connection that stays busy longer than the timeouts
    keeps working when a new real is added (it could take the removed
    one's slot in the data path once the timeouts passed): the slot is
    freed only once a sweep finds none of its flows."""
    t, w = dr_lab(labs, directors, "slot", "rr", extra=["on_server_gone keep"])
    w.ctl("--set", "2", "2", "2")
    held = Held(t)
    conn = None
    for _ in range(9):
        i = held.open()
        if held.name(i) == "r2":
            conn = i
            break
    assert conn is not None, "9 connections, none on r2"
    svc = hostport(VIP4, PORT)
    w.ctl("-d", "-t", svc, "-r", hostport(t.rips4[1], PORT))
    for _ in range(7):   # past 2 s + 1 s and two sweeps (2 s apart), kept busy
        assert held.name(conn) == "r2"
        time.sleep(1)
    # a new service whose real takes the lowest free slot
    other = hostport(VIP4, PORT + 1)
    w.ctl("-A", "-t", other, "-s", "rr")
    w.ctl("-a", "-t", other, "-r", hostport(t.rips4[0], PORT + 1), "-g")
    time.sleep(0.5)       # the data path's tables are written at the next tick
    for _ in range(3):
        assert held.name(conn) == "r2", "the removed real's connection moved"
    assert reals_in_use(t.director) == 4   # r1, r3, r2 kept OUT, the new one
    held.p.stdin.close()   # its connections close: r2's flow ends
    held.p.wait(10)
    wait_for(lambda: reals_in_use(t.director) == 3, 15,
             "the removed real's slot freed once its flow ended")


# --- leaving the interfaces --------------------------------------------------------

def test_detach_on_exit(labs, directors):
    """The program leaves the interfaces when weir stops (SIGTERM) and when
    it is killed (SIGKILL: its BPF links close with the process)."""
    t = routed(labs("det"), gateway=True)
    conf = config([service("tcp", VIP4, PORT, servers(t.rips4, PORT, "masq"))],
                  ifaces=("eth0", "eth1"))
    w = directors(t.director, conf, ifaces=("eth0", "eth1"))
    assert t.director.xdp_attached("eth0") and t.director.xdp_attached("eth1")
    assert w.stop() == 0
    for dev in ("eth0", "eth1"):
        assert not t.director.xdp_attached(dev), \
            f"after SIGTERM: {t.director.ip('-d', 'link', 'show', dev).stdout}"

    w = directors(t.director, conf, ifaces=("eth0", "eth1"))
    assert t.director.xdp_attached("eth0") and t.director.xdp_attached("eth1")
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait(10)
    w.proc = None
    w.logf.close()
    for dev in ("eth0", "eth1"):
        wait_for(lambda: not t.director.xdp_attached(dev), 5,
                 f"no XDP program on {dev} after SIGKILL")
