"""An LVS user's ipvsadm script, as it is, against weir started without any
config file (issue 15): `weirctl -A -t VIP:80 -s rr`, then `weirctl -a -t
VIP:80 -r RIP:80 -g` (-m, -i, --fullnat) lines, run by bash. weir attaches its XDP
program itself to the interface holding the VIP and to those routing to the
real servers; traffic from the client reaches every real server; removing
the last service detaches the program; and what weir cannot forward is
refused by weirctl (exit 255, the reason), the table left as it was.

The director holds the VIP on its client-side interface, as an LVS director
does. Topologies and client checks: topo.py. Each test builds its own
namespaces and removes them, pass or fail.
"""
import os
import subprocess
import tempfile

import pytest

from conftest import WEIR, WEIRCTL, wait_for, wait_log
from netns import NsWeir
from topo import (PORT, UPORT, VIP4, VIP6, answered, hostport, get, labs, lan, pass_obj,  # noqa: F401 (fixtures)
                  per_real, routed, rs_add, tunneled, wait_conns)


@pytest.fixture
def bare(labs, tmpdir_path):
    """A factory of weir daemons started in a namespace with no config
    file; each is stopped (exit 0, sanitizers clean) at the end."""
    made = []

    def make(ns):
        w = NsWeir(ns, tempfile.mkdtemp(dir=tmpdir_path), None)
        made.append(w)
        return w.start()
    yield make
    errors = []
    for w in made:
        try:
            rc = w.stop()
        except AssertionError as e:
            errors.append(str(e)[-3000:])
            continue
        if rc != 0:
            errors.append(f"weir exited {rc}:\n{w.read_log()[-3000:]}")
    assert not errors, "\n".join(errors)


def script(w, text):
    """Runs <text> with `bash -e`, `weirctl` on the PATH talking to <w>
    (WEIR_SOCKET): an ipvsadm script with ipvsadm renamed."""
    env = dict(os.environ, WEIR_SOCKET=w.sock,
               PATH=os.path.dirname(WEIRCTL) + os.pathsep + os.environ["PATH"])
    return subprocess.run(["bash", "-e"], input=text, env=env, capture_output=True,
                          text=True, timeout=60)


def ok(w, text):
    r = script(w, text)
    assert r.returncode == 0, f"{text}-> {r.returncode}: {r.stderr}\n{w.read_log()[-2000:]}"
    return r


def attached(ns):
    """The director's interfaces with an XDP program, as `bpftool net` sees
    them in its namespace."""
    out = ns.run("bpftool", "net", "show").stdout
    xdp = out.split("tc:")[0]
    return {line.split("(")[0].strip() for line in xdp.splitlines()[1:] if "(" in line}


def forwards_to_all(t, w, rips, what, vip=VIP4):
    names = get(t, vip, 9)
    answered(names, what, w)
    assert set(names) == {"r1", "r2", "r3"}, names
    per_real(wait_conns(w, "tcp", vip, PORT, 9), names, rips)


@pytest.mark.parametrize("family", [4, 6])
def test_dr(labs, bare, family):
    """-g: the program goes on eth0 (it holds the VIP and reaches the reals)
    at the first -A; -D of the last service takes it off."""
    t = lan(labs(f"sdr{family}"))
    vip, rips, plen = (VIP4, t.rips4, 32) if family == 4 else (VIP6, t.rips6, 128)
    t.director.ip("addr", "add", f"{vip}/{plen}", "dev", "eth0", *(["nodad"] if family == 6 else []))
    rs_add(t, vip)
    t.start_backends()
    w = bare(t.director)
    svc, r = hostport(vip, 80), [hostport(a, 80) for a in rips]
    ok(w, f"""weirctl -A -t {svc} -s rr
weirctl -a -t {svc} -r {r[0]} -g
weirctl -a -t {svc} -r {r[1]} -g
weirctl -a -t {svc} -r {r[2]} -g -w 1
""")
    wait_log(w, r"xdp: attached to eth0 ")
    assert attached(t.director) == {"eth0"}, t.director.run("bpftool", "net").stdout
    forwards_to_all(t, w, rips, f"DR IPv{family} from an ipvsadm script", vip)
    ok(w, f"weirctl -D -t {svc}\n")
    wait_log(w, r"xdp: detached from eth0")
    assert not t.director.xdp_attached("eth0"), t.director.ip("-d", "link").stdout
    assert attached(t.director) == set()
    # the next packet-mode service attaches again
    ok(w, f"weirctl -A -t {svc} -s wlc\nweirctl -a -t {svc} -r {r[0]} -g\n")
    wait_for(lambda: t.director.xdp_attached("eth0"), 5, "attached again")


def test_nat(labs, bare):
    """-m: the program on eth0 (the VIP's) and eth1 (the reals' route, where
    the replies come back)."""
    t = routed(labs("snat"), gateway=True)
    t.director.ip("addr", "add", f"{VIP4}/32", "dev", "eth0")
    t.start_backends()
    w = bare(t.director)
    ok(w, f"weirctl -A -t {VIP4}:80 -s rr\n" + "".join(
        f"weirctl -a -t {VIP4}:80 -r {a}:80 -m\n" for a in t.rips4))
    assert attached(t.director) == {"eth0", "eth1"}, w.read_log()
    forwards_to_all(t, w, t.rips4, "NAT from an ipvsadm script")


def test_tun(labs, bare):
    """-i: the reals two hops away; the outer source is the one the kernel
    chooses for the route to them (10.77.0.2), with no `local` anywhere."""
    t = tunneled(labs("stun"))
    t.director.ip("addr", "add", f"{VIP4}/32", "dev", "eth0")
    for r in t.reals:
        out = r.run(WEIR, "rs", "add", VIP4, "--mode", "tun", "--dev", "eth0").stdout
        assert "decapsulat" in out, out
    t.start_backends()
    w = bare(t.director)
    ok(w, f"weirctl -A -t {VIP4}:80 -s rr\n" + "".join(
        f"weirctl -a -t {VIP4}:80 -r {a}:80 -i\n" for a in t.rips4))
    assert attached(t.director) == {"eth0"}, w.read_log()
    forwards_to_all(t, w, t.rips4, "TUN from an ipvsadm script")


def test_fullnat(labs, bare):
    """--fullnat: the reals have no route back; the source they see is the
    one the kernel chooses for the route to them (10.77.2.1), with no
    `local` anywhere."""
    t = routed(labs("sfnat"), gateway=False)
    t.director.ip("addr", "add", f"{VIP4}/32", "dev", "eth0")
    t.start_backends()
    t.start_udp_echo("0.0.0.0")
    w = bare(t.director)
    ok(w, f"weirctl -A -t {VIP4}:80 -s rr\nweirctl -A -u {VIP4}:{UPORT} -s rr\n" + "".join(
        f"weirctl -a -t {VIP4}:80 -r {a}:80 --fullnat\n"
        f"weirctl -a -u {VIP4}:{UPORT} -r {a}:{UPORT} --fullnat\n" for a in t.rips4))
    assert attached(t.director) == {"eth0", "eth1"}, w.read_log()
    forwards_to_all(t, w, t.rips4, "FULLNAT from an ipvsadm script")
    got = t.client.py("udp", VIP4, UPORT, 3)
    assert all(isinstance(g, list) and g[1] == t.local4 for g in got), got


def listing(w):
    return w.ctl("-S", "-n").stdout


def test_refused(labs, bare):
    """What weir cannot forward: weirctl exits 255 with the reason, the
    table is as it was, the daemon's log says it too."""
    t = lan(labs("sno"))
    t.director.ip("addr", "add", f"{VIP4}/32", "dev", "eth0")
    w = bare(t.director)

    # a VIP on no interface with no route, and no real server yet
    r = script(w, "weirctl -A -t 10.99.0.1:80 -s rr\n")
    assert r.returncode == 255, r
    assert "10.99.0.1:80" in r.stderr and "cannot forward: no interface found" in r.stderr, \
        r.stderr
    assert listing(w) == ""
    wait_log(w, r"10\.99\.0\.1:80: cannot forward")

    # an interface that does not exist
    r = script(w, f"weirctl -A -t {VIP4}:80 -s rr --interface nosuch\n")
    assert r.returncode == 255 and "no interface nosuch" in r.stderr, r
    assert listing(w) == ""
    assert attached(t.director) == set()

    # a real server with no route: the service stays as it was
    ok(w, f"weirctl -A -t {VIP4}:80 -s rr\nweirctl -a -t {VIP4}:80 -r {t.rips4[0]}:80 -g\n")
    before = listing(w)
    r = script(w, f"weirctl -a -t {VIP4}:80 -r 10.99.0.7:80 -g\n")
    assert r.returncode == 255, r
    assert "no route to real server 10.99.0.7" in r.stderr, r.stderr
    assert listing(w) == before
    assert attached(t.director) == {"eth0"}

    # --interface is saved by -S and read back by -R
    ok(w, f"weirctl -E -t {VIP4}:80 -s rr --interface eth0\n")
    saved = listing(w)
    assert "--interface eth0" in saved, saved
    ok(w, "weirctl -C\n")
    wait_for(lambda: not t.director.xdp_attached("eth0"), 5, "detached after -C")
    w.ctl("-R", stdin=saved)
    assert listing(w) == saved
    assert t.director.xdp_attached("eth0")
