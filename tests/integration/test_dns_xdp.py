"""The DNS mode's fast path end to end: weir in a director namespace with
an `xdp { }` block answers a DNS service's A and AAAA queries in XDP
(bpf/wx_dns.bpf.h), over IPv4 and IPv6, and passes the rest to its socket
where user space answers them as before. What a user sees: dig and kdig
from a client namespace get the right answers (case of the question kept,
rotation, EDNS), `weirctl -L --json` says the data path answered them
(dns.xdp_answers) and counts them like user-space answers (requests,
queries by name and type, the servers' Conns), a server whose check fails
leaves the answers within its fall time (with the shorter TTL of
ttl_down), NODATA and NXDOMAIN come from XDP too, and a query with an EDNS
Client Subnet, for the SOA or outside the zone is still answered (by user
space); with sh a resolver gets the first record user space would give it.

Namespaces from netns.Lab (test_xdp.py's fixtures), addresses in
10.77.0.0/24 and fd77::/64 only, torn down pass or fail.
"""
import json
import re
import time

from conftest import BACKEND, wait_for
from test_xdp import directors, labs, pass_obj  # noqa: F401 (fixtures)

DIR4, DIR6 = "10.77.0.2", "fd77::2"
RS4 = ["10.77.0.11", "10.77.0.12"]
RS6 = ["fd77::11"]
TIMING = "interval 200ms fast_interval 100ms timeout 150ms rise 1 fall 2"


def service(host):
    vip = f"[{host}]:53" if ":" in host else f"{host}:53"
    srv = [f"{a}:80" for a in RS4] + [f"[{a}]:80" for a in RS6]
    lines = ["proxy dns", "name www.example.test", "name api.example.test",
             "name a.b.c.d.e.f.g.h.i.j.example.test",
             "zone example.test", "scheduler rr", "ttl 20s", "ttl_down 2s",
             f"check tcp {TIMING}",
             *[f"server {s}" for s in srv]]
    return f"service udp {vip} {{\n" + "".join(f"    {l};\n" for l in lines) + "}\n"


def config():
    return ("workers 1;\nlog_level info;\ngrace 1s;\n"
            "xdp { interface eth0; mode native; }\n" + service(DIR4) + service(DIR6))


def lab_up(labs):
    lab = labs("dnsx")
    client, director = lab.host("cl"), lab.host("dir")
    reals = [lab.host("r1"), lab.host("r2"), lab.host("r3")]
    lab.bridge("br0")
    lab.plug(client, "br0", addrs=["10.77.0.10/24", "fd77::10/64"])
    lab.plug(director, "br0", addrs=[f"{DIR4}/24", f"{DIR6}/64"])
    addrs = [(RS4[0], None), (RS4[1], None), (None, RS6[0])]
    procs = []
    for i, (r, (a4, a6)) in enumerate(zip(reals, addrs), 1):
        lab.plug(r, "br0", addrs=[f"{a4}/24"] if a4 else [f"{a6}/64"])
        procs.append(r.popen(BACKEND, "--listen", "[::]:80", "--name", f"r{i}"))
    for r in reals:
        wait_for(lambda: r.listening(80), 10, f"backend in {r.name}")
    return client, director, reals, procs


def dig(client, server, *args):
    return client.run("dig", "-p", "53", f"@{server}", "+norec", "+time=2", "+tries=1",
                      *args, check=False, timeout=20).stdout


def answers(out, rtype="A"):
    return [l.split()[-1] for l in out.splitlines()
            if not l.startswith(";") and re.search(rf"\sIN\s+{rtype}\s", l)]


def status(out):
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def dns_json(w, host):
    """The JSON of service <host>:53 (its counters and dns section)."""
    out = json.loads(w.ctl("-L", "-n", "--json").stdout)
    want = f"[{host}]:53" if ":" in host else f"{host}:53"
    for s in out["services"]:
        if s["address"] == want and s["proto"].lower() == "udp":
            return s
    raise AssertionError(f"no service {host}:53 in {out}")


def xdp_answers(w, host):
    return dns_json(w, host)["dns"]["xdp_answers"]


def wait_xdp_answers(w, host, n, timeout=6.0):
    """weir folds the data path's counters every 2 s."""
    last = {}

    def done():
        last["n"] = xdp_answers(w, host)
        return last["n"] >= n
    try:
        wait_for(done, timeout, "xdp_answers")
    except AssertionError:
        raise AssertionError(f"xdp_answers of {host} is {last.get('n')}, not {n}:\n"
                             f"{w.ctl('-L', '-n', '--json').stdout}\n"
                             f"{w.read_log()[-2000:]}") from None


def written(w):
    """Waits for the first health tick that writes the zones to the data path."""
    time.sleep(0.5)


def test_answers_in_xdp(labs, directors):
    client, director, reals, procs = lab_up(labs)
    w = directors(director, config())
    wait_for(lambda: sorted(answers(dig(client, DIR4, "www.example.test", "A"))) == RS4,
             10, "both servers answered")
    written(w)
    base4, base6 = xdp_answers(w, DIR4), xdp_answers(w, DIR6)
    sent4 = 0
    # A and AAAA over IPv4, rotation: the first record alternates
    firsts = []
    for _ in range(4):
        out = dig(client, DIR4, "www.example.test", "A")
        assert status(out) == "NOERROR" and " aa" in out.split("flags:")[1].split(";")[0], out
        assert sorted(answers(out)) == RS4 and re.search(r"www\.example\.test\.\s+20\s+IN", out)
        firsts.append(answers(out)[0])
        sent4 += 1
    assert firsts[0] != firsts[1] and firsts[0] == firsts[2], firsts
    # the question's case kept (0x20), AAAA, no EDNS
    out = dig(client, DIR4, "ApI.ExAmPlE.tEsT", "AAAA", "+noedns")
    assert status(out) == "NOERROR" and answers(out, "AAAA") == RS6, out
    assert "ApI.ExAmPlE.tEsT." in out and "OPT PSEUDOSECTION" not in out
    sent4 += 1
    # kdig, EDNS with DNSSEC OK
    r = client.run("kdig", "-p", "53", f"@{DIR4}", "+dnssec", "www.example.test", "A",
                   check=False, timeout=20)
    assert "status: NOERROR" in r.stdout and "flags: do; UDP size: 1232 B" in r.stdout, r.stdout
    sent4 += 1
    # over IPv6
    out = dig(client, DIR6, "www.example.test", "AAAA")
    assert status(out) == "NOERROR" and answers(out, "AAAA") == RS6, out
    out = dig(client, DIR6, "api.example.test", "A")
    assert sorted(answers(out)) == RS4, out
    wait_xdp_answers(w, DIR4, base4 + sent4)
    wait_xdp_answers(w, DIR6, base6 + 2)

    # counted as user space counts: requests, 2xx, queries by name/type/rcode
    s = dns_json(w, DIR4)
    q = {(e["name"], e["type"], e["rcode"]): e["queries"] for e in s["dns"]["queries"]}
    assert q.get(("api.example.test", "AAAA", "NOERROR"), 0) >= 1, q
    assert q.get(("www.example.test", "A", "NOERROR"), 0) >= 5, q
    prom = w.ctl("-L", "-n", "--stats", "--exact").stdout
    assert "UDP  10.77.0.2:53" in prom, prom

    # negative answers in XDP too: NODATA (MX, the apex), NXDOMAIN
    n = xdp_answers(w, DIR4)
    out = dig(client, DIR4, "www.example.test", "MX")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out and "IN\tSOA" in out, out
    out = dig(client, DIR4, "example.test", "A")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out and "IN\tSOA" in out, out
    out = dig(client, DIR4, "nope.example.test", "A")
    assert status(out) == "NXDOMAIN" and "IN\tSOA" in out, out
    # empty non-terminals, ten labels down: NODATA, not NXDOMAIN (RFC 8020)
    for name in ("b.c.d.e.f.g.h.i.j.example.test", "j.example.test"):
        out = dig(client, DIR4, name, "A")
        assert status(out) == "NOERROR" and "ANSWER: 0" in out and "IN\tSOA" in out, out
    out = dig(client, DIR4, "x.j.example.test", "A")
    assert status(out) == "NXDOMAIN", out
    wait_xdp_answers(w, DIR4, n + 6)
    q = {(e["name"], e["type"], e["rcode"]): e["queries"]
         for e in dns_json(w, DIR4)["dns"]["queries"]}
    assert q.get(("other", "A", "NXDOMAIN")) == 2 and q.get(("www.example.test", "other",
                                                               "NOERROR")) == 1, q
    assert dns_json(w, DIR4)["stats"]["responses"]["4xx"] == 2

    # passed to user space: an EDNS Client Subnet, SOA, a name outside the zone
    n = xdp_answers(w, DIR4)
    out = dig(client, DIR4, "www.example.test", "A", "+subnet=192.0.2.0/24")
    assert status(out) == "NOERROR" and sorted(answers(out)) == RS4, out
    assert "CLIENT-SUBNET: 192.0.2.0/24/0" in out, out
    out = dig(client, DIR4, "example.test", "SOA")
    assert status(out) == "NOERROR" and "ANSWER: 1" in out, out
    out = dig(client, DIR4, "other.test", "A")
    assert status(out) == "REFUSED", out
    time.sleep(2.5)
    assert xdp_answers(w, DIR4) == n, "a passed query was counted as answered in XDP"

    # a server whose check fails leaves the answers within its fall time
    procs[0].kill()
    procs[0].wait(5)
    t0 = time.monotonic()
    wait_for(lambda: answers(dig(client, DIR4, "www.example.test", "A")) == [RS4[1]], 5,
             "the failed server left the answers")
    assert time.monotonic() - t0 < 3
    n = xdp_answers(w, DIR4)
    for _ in range(3):
        out = dig(client, DIR4, "www.example.test", "A")
        assert answers(out) == [RS4[1]], out
        # state-aware TTL: the zone with a server down is another zone
        assert re.search(r"www\.example\.test\.\s+2\s+IN\s+A", out), out
    wait_xdp_answers(w, DIR4, n + 3)


def test_xdp_off_answers_in_user_space(labs, directors):
    client, director, reals, procs = lab_up(labs)
    conf = config().replace("    proxy dns;\n", "    proxy dns;\n    xdp off;\n")
    w = directors(director, conf)
    wait_for(lambda: sorted(answers(dig(client, DIR4, "www.example.test", "A"))) == RS4,
             10, "both servers answered")
    for _ in range(3):
        assert sorted(answers(dig(client, DIR4, "www.example.test", "A"))) == RS4
    time.sleep(2.5)
    s = dns_json(w, DIR4)
    assert s["dns"]["xdp_answers"] == 0 and s["stats"]["requests"] >= 4, s


def test_sh_answers_as_user_space(labs, directors):
    """sh: a resolver gets the same first record from the data path as from
    user space (the same service's twin with `xdp off`), whatever its address;
    and the twins count the same queries alike."""
    lab = labs("dnsh")
    client, director = lab.host("cl"), lab.host("dir")
    lab.bridge("br0")
    srcs = [f"10.77.0.{i}" for i in range(20, 36)]
    lab.plug(client, "br0", addrs=["10.77.0.10/24"] + [f"{a}/24" for a in srcs])
    lab.plug(director, "br0", addrs=[f"{DIR4}/24"])
    twin = []
    for port, xdp in ((53, "on"), (5353, "off")):
        lines = ["proxy dns", "name www.example.test", "scheduler sh", f"xdp {xdp}",
                 *[f"server 10.77.9.{i}:80" for i in range(1, 5)]]
        twin.append(f"service udp {DIR4}:{port} {{\n" + "".join(f"    {l};\n" for l in lines)
                    + "}\n")
    w = directors(director, "workers 1;\nlog_level info;\ngrace 1s;\n"
                  "xdp { interface eth0; mode native; }\n" + "".join(twin))

    def first(src, port):
        out = client.run("dig", "-p", str(port), f"@{DIR4}", "-b", src, "+norec",
                         "+time=2", "+tries=1", "www.example.test", "A", check=False).stdout
        got = answers(out)
        assert len(got) == 4, out
        return got[0]
    wait_for(lambda: first(srcs[0], 53) and first(srcs[0], 5353), 10, "an answer from each")
    time.sleep(0.5)
    base = xdp_answers(w, DIR4)
    got = {src: (first(src, 53), first(src, 5353)) for src in srcs}
    assert all(a == b for a, b in got.values()), got
    assert len({a for a, _ in got.values()}) > 1, f"every client on one server: {got}"
    wait_xdp_answers(w, DIR4, base + len(srcs))

    # the twins got the same queries: the same numbers, whichever path answered
    def numbers(port):
        out = json.loads(w.ctl("-L", "-n", "--json").stdout)
        svc = next(x for x in out["services"] if x["address"] == f"{DIR4}:{port}")
        st = {k: svc["stats"][k] for k in ("requests", "inpkts", "outpkts", "inbytes",
                                           "outbytes", "responses")}
        return st, svc["dns"]["queries"], [r["stats"]["conns"] for r in svc["servers"]]
    time.sleep(2.5)
    assert numbers(53) == numbers(5353)
