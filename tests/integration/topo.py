"""What the packet-mode (XDP) tests share: the lab topologies, the
fixtures that build them, and the client side's checks. test_xdp.py runs
weir from a config file's xdp { } block; test_ipvsadm_script.py without any
config, from a plain ipvsadm-style script.

Three topologies (netns.Lab, a unique prefix; addresses in 10.77.0.0/16 and
fd77::/16 only):
  lan     DR: client, director and reals on one bridge (10.77.0.0/24,
          fd77::/64); the client routes the VIP via the director; the reals
          own the VIP on lo (`weir rs add`) and answer the client directly.
  tunneled  TUN: as lan, but the reals are behind a router (10.77.3.0/24,
          fd77:3::/64): only a tunnel reaches them.
  routed  NAT and FULLNAT: the client on 10.77.1.0/24 (fd77:1::/64), the
          reals on 10.77.2.0/24 (fd77:2::/64), the director on both with XDP
          on both. NAT: the reals' default route is the director. FULLNAT:
          the reals have no route off their subnet; the director's `local`
          address is on theirs.

Native mode on veth needs an XDP program on the peer of the interface that
transmits with XDP_TX/redirect: the lab attaches tests/xdp_pass.bpf.c to
the switch side of every veth. Generic mode runs without it.
"""
import json
import re
import tempfile

import pytest

from conftest import BACKEND, WEIR, wait_for
from netns import Lab, build_pass_prog, run

VIP4, VIP6 = "10.77.100.1", "fd77:100::1"
PORT, UPORT = 80, 5353
NREALS = 3


# --- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pass_obj():
    with tempfile.TemporaryDirectory(prefix="weir-xdp-pass-") as d:
        yield build_pass_prog(d)


@pytest.fixture
def labs(pass_obj):
    """A factory of Labs (native: with the pass program on the switch side),
    each closed at the end."""
    made = []

    def make(tag, native=True):
        lab = Lab(tag, pass_obj if native else None)
        made.append(lab)
        return lab.setup()
    try:
        yield make
    finally:
        for lab in made:
            lab.close()


# --- topologies ----------------------------------------------------------------------

class Topo:
    """A lab's hosts: client, director, reals r1..rN with their backends."""

    def __init__(self, lab):
        self.lab = lab
        self.client = lab.host("cl")
        self.director = lab.host("dir")
        self.reals = [lab.host(f"r{i}") for i in range(1, NREALS + 1)]

    def start_backends(self):
        for i, r in enumerate(self.reals, 1):
            r.popen(BACKEND, "--listen", f"[::]:{PORT}", "--name", f"r{i}")
        for r in self.reals:
            wait_for(lambda: r.listening(PORT), 10, f"backend in {r.name}")

    def start_udp_echo(self, bind):
        for i, r in enumerate(self.reals, 1):
            r.py_popen("udp-echo", bind, UPORT, f"r{i}")
        for r in self.reals:
            wait_for(lambda: r.listening(UPORT, "u"), 10, f"udp echo in {r.name}")

    def forwarding_on(self):
        self.director.sysctl("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")


def lan(lab):
    """DR/TUN: everyone on br0. Real i is 10.77.0.1i and fd77::1i."""
    t = Topo(lab)
    lab.bridge("br0")
    lab.plug(t.client, "br0", addrs=["10.77.0.10/24", "fd77::10/64"])
    lab.plug(t.director, "br0", addrs=["10.77.0.2/24", "fd77::2/64"])
    t.rips4 = [f"10.77.0.1{i}" for i in range(1, NREALS + 1)]
    t.rips6 = [f"fd77::1{i}" for i in range(1, NREALS + 1)]
    for r, a4, a6 in zip(t.reals, t.rips4, t.rips6):
        lab.plug(r, "br0", addrs=[f"{a4}/24", f"{a6}/64"])
    t.client.ip("route", "add", f"{VIP4}/32", "via", "10.77.0.2")
    t.client.ip("-6", "route", "add", f"{VIP6}/128", "via", "fd77::2")
    t.forwarding_on()
    t.director.py("prime", *t.rips4, *t.rips6, "10.77.0.10", "fd77::10")
    return t


def tunneled(lab):
    """TUN: the reals are two hops away, on brt (10.77.3.0/24, fd77:3::/64)
    behind a router on br0, so only a tunnel reaches them with the VIP as
    the inner destination (a DR packet would stop at the router, which has
    no route to the VIP). They answer the client through the router, not
    through the director."""
    t = Topo(lab)
    router = lab.host("rt")
    lab.bridge("br0")
    lab.bridge("brt")
    lab.plug(t.client, "br0", addrs=["10.77.0.10/24", "fd77::10/64"])
    lab.plug(t.director, "br0", addrs=["10.77.0.2/24", "fd77::2/64"])
    lab.plug(router, "br0", "eth0", addrs=["10.77.0.3/24", "fd77::3/64"])
    lab.plug(router, "brt", "eth1", addrs=["10.77.3.1/24", "fd77:3::1/64"])
    router.sysctl("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                  "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
    t.rips4 = [f"10.77.3.1{i}" for i in range(1, NREALS + 1)]
    t.rips6 = [f"fd77:3::1{i}" for i in range(1, NREALS + 1)]
    for r, a4, a6 in zip(t.reals, t.rips4, t.rips6):
        lab.plug(r, "brt", addrs=[f"{a4}/24", f"{a6}/64"])
        r.ip("route", "add", "default", "via", "10.77.3.1")
        r.ip("-6", "route", "add", "default", "via", "fd77:3::1")
    t.director.ip("route", "add", "10.77.3.0/24", "via", "10.77.0.3")
    t.director.ip("-6", "route", "add", "fd77:3::/64", "via", "fd77::3")
    t.client.ip("route", "add", f"{VIP4}/32", "via", "10.77.0.2")
    t.client.ip("-6", "route", "add", f"{VIP6}/128", "via", "fd77::2")
    t.forwarding_on()
    t.director.py("prime", "10.77.0.3", "fd77::3", "10.77.0.10", "fd77::10")
    return t


def routed(lab, gateway=True):
    """NAT/FULLNAT: client on brc, reals on brs, the director on both.
    <gateway>: the reals' default route is the director (NAT)."""
    t = Topo(lab)
    lab.bridge("brc")
    lab.bridge("brs")
    lab.plug(t.client, "brc", addrs=["10.77.1.10/24", "fd77:1::10/64"])
    lab.plug(t.director, "brc", "eth0", addrs=["10.77.1.1/24", "fd77:1::1/64"])
    lab.plug(t.director, "brs", "eth1", addrs=["10.77.2.1/24", "fd77:2::1/64"])
    t.rips4 = [f"10.77.2.1{i}" for i in range(1, NREALS + 1)]
    t.rips6 = [f"fd77:2::1{i}" for i in range(1, NREALS + 1)]
    for r, a4, a6 in zip(t.reals, t.rips4, t.rips6):
        lab.plug(r, "brs", addrs=[f"{a4}/24", f"{a6}/64"])
        if gateway:
            r.ip("route", "add", "default", "via", "10.77.2.1")
            r.ip("-6", "route", "add", "default", "via", "fd77:2::1")
    t.client.ip("route", "add", "default", "via", "10.77.1.1")
    t.client.ip("-6", "route", "add", "default", "via", "fd77:1::1")
    t.local4 = "10.77.2.1"
    t.forwarding_on()
    t.director.py("prime", *t.rips4, *t.rips6, "10.77.1.10", "fd77:1::10")
    return t


def rs_add(t, vip, *args):
    """`weir rs add VIP ARGS` in every real's namespace: what is tested too."""
    for r in t.reals:
        out = r.run(WEIR, "rs", "add", vip, *args).stdout
        assert f"{vip}/" in out and "on lo" in out, out


# --- the client side and listings ----------------------------------------------------

def hostport(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def stats(w, proto, vip, port):
    """The service's and its servers' `-L -n --stats --exact` columns:
    {address: [conns, inpkts, outpkts, inbytes, outbytes]}, the service's
    under "service"."""
    out = w.ctl("-L", "-n", "--stats", "--exact").stdout
    found, rows, want = False, {}, f"{proto.upper()}  {hostport(vip, port)}"
    for line in out.splitlines():
        if line.startswith(("TCP", "UDP")):
            found = line.startswith(want + " ")
            if found:
                rows["service"] = [int(x) for x in line.split()[2:7]]
        elif found and line.strip().startswith("->") and len(line.split()) >= 7:
            f = line.split()
            rows[f[1]] = [int(x) for x in f[2:7]]
    assert "service" in rows, out
    return rows, out


def wait_conns(w, proto, vip, port, n, timeout=6.0):
    """Waits until the service's Conns is <n> (weir folds the data path's
    counters every 2 s); returns the rows."""
    last = {}

    def done():
        last["rows"], last["out"] = stats(w, proto, vip, port)
        return last["rows"]["service"][0] == n
    try:
        wait_for(done, timeout, "Conns")
    except AssertionError:
        raise AssertionError(f"-L -n --stats: Conns is not {n} after {timeout}s "
                             f"(counted: {last.get('rows')}):\n{last.get('out')}\n"
                             f"{global_counters(w.ns)}") from None
    return last["rows"]


def prog_map(ns, name):
    """The id of map <name> of the XDP program on <ns>'s eth0, or None."""
    m = re.search(r"prog/xdp id (\d+)", ns.ip("-d", "link", "show", "eth0", check=False).stdout)
    if not m:
        return None
    prog = json.loads(run(["bpftool", "-j", "prog", "show", "id", m.group(1)]).stdout)
    for mid in prog.get("map_ids", []):
        info = json.loads(run(["bpftool", "-j", "map", "show", "id", str(mid)]).stdout)
        if info.get("name") == name:
            return mid
    return None


def reals_in_use(ns):
    """The wx_reals slots in use (not all zero) of the program on <ns>'s eth0."""
    mid = prog_map(ns, "wx_reals")
    assert mid is not None, "no XDP program with wx_reals on eth0"
    dump = json.loads(run(["bpftool", "-j", "map", "dump", "id", str(mid)]).stdout)
    return sum(1 for e in dump if any(int(b, 16) for b in e["value"]))


def global_counters(ns=None):
    """wx_global, what the data path did, for a failure's message: that of
    the program on <ns>'s eth0, else of the newest weir program (maps are
    global, not per namespace)."""
    mid = prog_map(ns, "wx_global") if ns is not None else None
    ids = [mid] if mid is not None else []
    if not ids:
        maps = json.loads(run(["bpftool", "-j", "map", "show"], check=False).stdout or "[]")
        ids = [m["id"] for m in maps if m.get("name") == "wx_global"]
    if not ids:
        return "wx_global: no such map (weir stopped?)"
    dump = json.loads(run(["bpftool", "-j", "map", "dump", "id", str(max(ids))]).stdout)
    names = ["rx", "pass", "fwd", "drop", "new", "no_real", "fib_fail", "too_big",
             "ports_full", "dns", "dns_pass"]
    sums = {}
    for e in dump:
        k = e["key"] if isinstance(e["key"], int) else int.from_bytes(
            bytes(int(b, 16) for b in e["key"]), "little")
        sums[names[k] if k < len(names) else k] = sum(
            int(v["value"]) if not isinstance(v["value"], list)
            else int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little")
            for v in e["values"])
    return f"wx_global (map id {max(ids)}): {sums}"


def get(t, vip, n, **kw):
    """<n> new connections from the client; the names that answered."""
    args = [vip, PORT, n, kw.get("src", ""), kw.get("cpus", ""), kw.get("timeout", 3.0)]
    return t.client.py("get", *args, timeout=60)


def answered(names, what, w=None):
    errors = [n for n in names if not re.fullmatch(r"r\d", str(n))]
    assert not errors, (f"{what}: {len(errors)} of {len(names)} connections not answered "
                        f"by a real: {errors[:3]}\n{global_counters(w.ns if w else None)}"
                        + (f"\nweir log:\n{w.read_log()[-2000:]}" if w else ""))


def per_real(rows, names, rips):
    """Each real's Conns in <rows> equals the connections it answered."""
    got = {f"r{i}": rows[hostport(a, PORT)][0] for i, a in enumerate(rips, 1)}
    want = {f"r{i}": names.count(f"r{i}") for i in range(1, len(rips) + 1)}
    assert got == want, f"per-real Conns {got}, answered {want}: {rows}"
