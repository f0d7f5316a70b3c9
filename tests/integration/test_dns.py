"""weir as an authoritative DNS server for a service's names (--proxy dns),
as a user sees it: dig and kdig (and queries built by hand where a client
would not send them) against a real daemon whose servers are checked for
real. Answers carry the servers that can take traffic now, the scheduler's
pick first; SOA, NS, NXDOMAIN, NODATA, REFUSED and ANY as the RFCs say; TC
then TCP for a large answer; the SOA serial moves with the answers."""
import collections
import re
import socket
import struct
import subprocess
import time

from conftest import free_port, wait_for

TIMING = "interval 200ms fast_interval 100ms timeout 150ms rise 1 fall 2"


def conf(port, servers, extra=(), sched="rr", host="127.0.0.1", workers=2):
    lines = [f"workers {workers};", "log_level info;", "grace 1s;",
             f"service udp {host if ':' not in host else '[' + host + ']'}:{port} {{",
             "    proxy dns;", "    name www.example.test;", "    name api.example.test;",
             "    zone example.test;", f"    scheduler {sched};"]
    lines += [f"    {e};" for e in extra]
    lines += [f"    server {s}" + ("" if s.endswith("}") else ";") for s in servers]
    return "\n".join(lines) + "\n}\n"


def dig(port, *args, host="127.0.0.1"):
    r = subprocess.run(["dig", "-p", str(port), f"@{host}", "+norec", "+time=2", "+tries=1",
                        *args], capture_output=True, text=True, timeout=20)
    return r.stdout


def status(out):
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def answers(out, rtype="A"):
    return [l.split()[-1] for l in out.splitlines()
            if not l.startswith(";") and re.search(rf"\sIN\s+{rtype}\s", l)]


def serial(port):
    out = dig(port, "example.test", "SOA", "+short")
    return int(out.split()[2])


def query(qid, name, qtype=1, flags=0, qdcount=1, edns=False):
    """A query built by hand: header, question, an OPT record if <edns>."""
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", qid, flags, qdcount, 0, 0, 1 if edns else 0)
    msg += q + struct.pack(">HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return msg


def ask(port, msg, timeout=1.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def first_records(port, n, name="www.example.test"):
    """The first A record of <n> answers, counted (queries built by hand:
    faster than n digs)."""
    c = collections.Counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for i in range(n):
            s.sendto(query(i & 0xffff, name), ("127.0.0.1", port))
            r = s.recv(4096)
            qlen = len(query(0, name)) - 12
            # the first answer's rdata: header, question, then 12 bytes of RR header
            c[socket.inet_ntoa(r[12 + qlen + 12:12 + qlen + 16])] += 1
    return c


def test_answers_and_rotation(weir):
    port = free_port()
    weir(conf(port, ["10.0.0.1:80", "10.0.0.2:80", "[2001:db8::1]:80"], ["ttl 20s"]))
    out = dig(port, "www.example.test", "A")
    assert status(out) == "NOERROR" and " aa" in out.split("flags:")[1].split(";")[0]
    assert sorted(answers(out)) == ["10.0.0.1", "10.0.0.2"]
    assert re.search(r"www\.example\.test\.\s+20\s+IN\s+A", out)
    firsts = [answers(dig(port, "www.example.test", "A"))[0] for _ in range(4)]
    assert firsts[0] != firsts[1] and firsts[1] != firsts[2] and firsts[0] == firsts[2]
    # AAAA, case kept in the question, the other name
    out = dig(port, "API.Example.TEST", "AAAA")
    assert status(out) == "NOERROR" and answers(out, "AAAA") == ["2001:db8::1"]
    assert "API.Example.TEST." in out
    # kdig over TCP, two queries on one connection
    r = subprocess.run(["kdig", "-p", str(port), "@127.0.0.1", "+tcp", "+keepopen",
                        "www.example.test", "A", "api.example.test", "A"],
                       capture_output=True, text=True, timeout=20)
    assert r.stdout.count("status: NOERROR") == 2, r.stdout


def test_negative_answers_soa_ns_any(weir):
    port = free_port()
    weir(conf(port, ["10.0.0.1:80"], ["ns ns1.example.test ns2.example.test"]))
    out = dig(port, "nope.example.test", "A")
    assert status(out) == "NXDOMAIN" and "IN\tSOA\tns1.example.test." in out
    out = dig(port, "www.example.test", "MX")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out and "IN\tSOA" in out   # NODATA
    out = dig(port, "www.example.test", "AAAA")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out          # no v6 server: NODATA
    out = dig(port, "other.test", "A")
    assert status(out) == "REFUSED" and " aa" not in out.split("flags:")[1].split(";")[0]
    assert sorted(dig(port, "example.test", "NS", "+short").split()) == \
        ["ns1.example.test.", "ns2.example.test."]
    assert dig(port, "example.test", "SOA", "+short").split()[:2] == \
        ["ns1.example.test.", "hostmaster.example.test."]
    out = dig(port, "www.example.test", "ANY")
    assert status(out) == "NOERROR" and 'HINFO\t"RFC8482" ""' in out


def test_bad_queries_get_their_rcode_or_nothing(weir):
    port = free_port()
    weir(conf(port, ["10.0.0.1:80"]))
    assert ask(port, query(1, "www.example.test", flags=0x8000)) is None      # QR: a response
    r = ask(port, query(2, "www.example.test", flags=2 << 11))                 # opcode STATUS
    assert r and r[:2] == b"\0\2" and r[3] & 0xf == 4                            # NOTIMP
    r = ask(port, query(3, "www.example.test", qdcount=2))
    assert r and r[3] & 0xf == 1                                                  # FORMERR
    r = ask(port, query(4, "www.example.test")[:20])                             # cut short
    assert r and r[3] & 0xf == 1
    assert ask(port, b"\0\1") is None                                             # no header
    # still answering
    assert status(dig(port, "www.example.test", "A")) == "NOERROR"


def test_weights_shares_over_many_queries(weir):
    port = free_port()
    weir(conf(port, ["10.0.0.1:80 weight 3", "10.0.0.2:80 weight 1"], sched="wrr",
              workers=1))
    c = first_records(port, 4000)
    assert abs(c["10.0.0.1"] / 4000 - 0.75) <= 0.02 and abs(c["10.0.0.2"] / 4000 - 0.25) <= 0.02, c


def test_fo_answers_the_highest_weight_first(weir):
    """IPVS's weighted failover: the highest weight is the first record."""
    port = free_port()
    weir(conf(port, ["10.0.0.1:80 weight 1", "10.0.0.2:80 weight 3", "10.0.0.3:80 weight 2"],
              sched="fo", workers=1))
    assert first_records(port, 200) == {"10.0.0.2": 200}


def test_twos_first_records_follow_its_draws(weir):
    """IPVS's twos with no load: the first record is the first weighted
    draw's, (w+1)/(W+1) for the first server in the list and w/(W+1) for
    the others: 2/5 and 3/5 for weights 1 and 3."""
    port = free_port()
    weir(conf(port, ["10.0.0.1:80 weight 1", "10.0.0.2:80 weight 3"], sched="twos",
              workers=1))
    c = first_records(port, 4000)
    assert abs(c["10.0.0.1"] / 4000 - 0.4) <= 0.03 and abs(c["10.0.0.2"] / 4000 - 0.6) <= 0.03, c


def test_failed_server_leaves_the_answers_and_comes_back(weir):
    up = socket.socket()
    up.bind(("127.0.0.2", 0))
    up.listen(64)
    down_port = free_port()
    port = free_port()
    w = weir(conf(port, [f"127.0.0.2:{up.getsockname()[1]}", f"127.0.0.3:{down_port}"],
                  [f"check tcp {TIMING}", "ttl 30s", "ttl_down 2s"]))
    try:
        wait_for(lambda: answers(dig(port, "www.example.test", "A")) == ["127.0.0.2"], 8,
                 "the server that refuses its check leaves the answers")
        # state-aware TTL: short while a server is down
        assert re.search(r"www\.example\.test\.\s+2\s+IN\s+A", dig(port, "www.example.test", "A"))
        s0 = serial(port)
        back = socket.socket()
        back.bind(("127.0.0.3", down_port))
        back.listen(64)
        try:
            wait_for(lambda: sorted(answers(dig(port, "www.example.test", "A"))) ==
                     ["127.0.0.2", "127.0.0.3"], 8, "it comes back after its rise")
            assert serial(port) > s0
            assert re.search(r"www\.example\.test\.\s+30\s+IN\s+A",
                             dig(port, "www.example.test", "A"))
            # weight 0 by hand: out, the serial moves again
            s1 = serial(port)
            w.ctl("-e", "-u", f"127.0.0.1:{port}", "-r", f"127.0.0.3:{down_port}", "-w", "0")
            assert answers(dig(port, "www.example.test", "A")) == ["127.0.0.2"]
            assert serial(port) > s1
        finally:
            back.close()
    finally:
        up.close()


def test_large_answer_truncated_then_tcp(weir):
    port = free_port()
    servers = [f"10.0.1.{i}:80" for i in range(1, 41)]
    weir(conf(port, servers))
    out = dig(port, "www.example.test", "A", "+noedns", "+ignore")
    assert " tc" in out.split("flags:")[1].split(";")[0] and "ANSWER: 0" in out
    out = dig(port, "www.example.test", "A", "+noedns")        # dig retries over TCP
    assert len(answers(out)) == 40
    out = dig(port, "www.example.test", "A")                   # EDNS 1232 bytes hold 40
    assert len(answers(out)) == 40 and " tc" not in out.split("flags:")[1].split(";")[0]


def test_tcp_pipeline_answered_in_order(weir):
    """300 queries in one write over TCP, the last one split across two
    writes, each answer large (40 records): every one answered, in order,
    on one connection; then a frame of length 0 ends the connection."""
    port = free_port()
    weir(conf(port, [f"10.0.1.{i}:80" for i in range(1, 41)]))
    names = ["www.example.test", "api.example.test", "nope.example.test"]
    msgs = [query(i, names[i % 3]) for i in range(300)]
    wire = b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(wire[:-7])
        time.sleep(0.2)
        s.sendall(wire[-7:])
        got = b""
        want = 300
        resp = []
        while len(resp) < want:
            chunk = s.recv(65536)
            assert chunk, f"connection closed after {len(resp)} answers"
            got += chunk
            while len(got) >= 2 and len(got) >= 2 + struct.unpack(">H", got[:2])[0]:
                n = struct.unpack(">H", got[:2])[0]
                resp.append(got[2:2 + n])
                got = got[2 + n:]
        ids = [struct.unpack(">H", r[:2])[0] for r in resp]
        assert ids == list(range(300))
        rcodes = [r[3] & 0xF for r in resp]
        assert rcodes == [0, 0, 3] * 100
        ancount = [struct.unpack(">H", r[6:8])[0] for r in resp]
        assert ancount[0] == 40 and ancount[2] == 0
        s.sendall(b"\0\0")
        assert s.recv(100) == b""


def test_answers_limit_and_ipv6_service(weir):
    port = free_port("::1")
    weir(conf(port, ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], ["answers 2"], host="::1"))
    out = dig(port, "www.example.test", "A", host="::1")
    assert len(answers(out)) == 2


def test_weirctl_builds_a_dns_service(weir):
    w = weir(None)
    port = free_port()
    vip = f"127.0.0.1:{port}"
    r = w.ctl("-A", "-u", vip, "--proxy", "dns", "-s", "rr", check=False)
    assert r.returncode != 0 and "needs a name" in r.stderr
    w.ctl("-A", "-u", vip, "--proxy", "dns", "--name", "www.example.test", "--name",
          "api.example.test", "--ttl", "5s", "-s", "rr")
    w.ctl("-a", "-u", vip, "-r", "10.0.0.9:80")
    out = dig(port, "api.example.test", "A")
    assert answers(out) == ["10.0.0.9"] and re.search(r"\s5\s+IN\s+A", out)
    saved = w.ctl("-S", "-n").stdout
    assert "--name \"www.example.test api.example.test\"" in saved or \
        "--name www.example.test" in saved, saved
    assert "--ttl 5000ms" in saved, saved
    r = w.ctl("-E", "-u", vip, "--proxy", "dns", "--name", "bad..name", check=False)
    assert r.returncode != 0 and "is not a DNS name" in r.stderr


# --- locations ---------------------------------------------------------------------------

def dig_subnet(port, subnet, name="www.example.test"):
    out = dig(port, name, "A", f"+subnet={subnet}")
    m = re.search(r"CLIENT-SUBNET: ([0-9a-f.:]+)/(\d+)/(\d+)", out)
    return answers(out), (int(m.group(2)), int(m.group(3))) if m else None, out


def test_locations_by_client_subnet(weir, tmpdir_path):
    """A client network prefers fra, then ams: its resolver gets the fra
    servers, with the Client Subnet scope of that answer; another network
    ams; when fra's server goes down its clients get ams's."""
    path = f"{tmpdir_path}/geo.map"
    with open(path, "w") as f:
        f.write("# clients -> preferred locations\n"
                "10.0.0.0/8   -> fra, ams\n"
                "10.1.0.0/16  -> ams\n"
                "default      -> ams\n")
    port = free_port()
    w = weir(conf(port, ["10.0.0.1:80 { location fra; }", "10.0.0.2:80 { location ams; }",
                         "10.0.0.3:80 { location ams; }"], [f"geo_map {path}"]))
    got, scope, out = dig_subnet(port, "10.2.3.0/24")
    assert got == ["10.0.0.1"], out
    assert scope == (24, 15), out           # 10.2/15 is the widest without 10.1/16
    got, scope, out = dig_subnet(port, "10.1.7.0/24")
    assert sorted(got) == ["10.0.0.2", "10.0.0.3"] and scope == (24, 16), out
    got, scope, out = dig_subnet(port, "192.0.2.0/24")
    assert sorted(got) == ["10.0.0.2", "10.0.0.3"], out
    # no Client Subnet: the resolver's own address (127.0.0.1: default)
    assert sorted(answers(dig(port, "www.example.test", "A"))) == ["10.0.0.2", "10.0.0.3"]
    # fra out: its clients get ams
    w.ctl("-e", "-u", f"127.0.0.1:{port}", "-r", "10.0.0.1:80", "-w", "0")
    got, _, out = dig_subnet(port, "10.2.3.0/24")
    assert sorted(got) == ["10.0.0.2", "10.0.0.3"], out


def test_locations_from_a_maxmind_db(weir, tmpdir_path):
    """The MaxMind DB gives a client's country; the rules map countries to
    locations; the record's network is the scope."""
    import json
    import sys
    db = f"{tmpdir_path}/geo.mmdb"
    records = [["198.51.100.0/24", {"country": {"iso_code": "DE"}}],
               ["203.0.113.0/24", {"country": {"iso_code": "NL"}}]]
    subprocess.run([sys.executable, "tests/tools/mkmmdb.py", "--ip-version", "6", db],
                   input=json.dumps(records), text=True, check=True, timeout=30)
    path = f"{tmpdir_path}/geo.map"
    with open(path, "w") as f:
        f.write("DE -> fra\nNL -> ams\n")
    port = free_port()
    weir(conf(port, ["10.0.0.1:80 { location fra; }", "10.0.0.2:80 { location ams; }"],
              [f"geo_map {path}", f"geo_db {db}"]))
    got, scope, out = dig_subnet(port, "198.51.100.0/24")
    assert got == ["10.0.0.1"] and scope == (24, 24), out
    got, scope, out = dig_subnet(port, "203.0.113.128/25")
    assert got == ["10.0.0.2"], out


def test_geo_file_errors_name_the_file(weir, tmpdir_path):
    from conftest import WEIR
    path = f"{tmpdir_path}/bad.map"
    with open(path, "w") as f:
        f.write("10.0.0.0/8 -> fra\n10.0.0.0/33 -> ams\n")
    cfg = f"{tmpdir_path}/d.conf"
    with open(cfg, "w") as f:
        f.write(conf(free_port(), ["10.0.0.1:80"], [f"geo_map {path}"]))
    r = subprocess.run([WEIR, "-c", cfg, "--socket", f"{tmpdir_path}/x.sock"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and f"{path}:2:" in r.stderr, r.stderr


def test_malformed_query_corpus_over_the_wire(weir):
    """The 289-case corpus of tests/integration/dns_corpus.py (queries
    broken every way, and odd valid ones), each sent to the running DNS
    service over UDP: a drop gets no response, FORMERR / NOTIMP / BADVERS
    get that rcode with the query's id, an answer any authoritative rcode;
    and the service answers a normal query afterwards."""
    from dns_corpus import CASES
    port = free_port()
    weir(conf(port, ["10.0.0.1:80"], workers=1))
    want = {"formerr": 1, "notimp": 4}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        for name, verdict, data in CASES:
            s.sendto(data, ("127.0.0.1", port))
            try:
                r = s.recv(65535)
            except socket.timeout:
                r = None
            if verdict == "drop":
                assert r is None, name
                continue
            assert r is not None and len(r) >= 12, name
            assert r[:2] == data[:2] and r[2] & 0x80, name          # its id, QR
            rcode = r[3] & 0xf
            if verdict in want:
                assert rcode == want[verdict], (name, rcode)
            elif verdict == "badvers":
                assert rcode == 0 and b"\x00\x00\x29" in r, name     # 16: in the OPT record
            else:
                assert rcode in (0, 3, 5), (name, rcode)             # NOERROR NXDOMAIN REFUSED
    assert status(dig(port, "www.example.test", "A")) == "NOERROR"


def test_numbers_by_name_type_rcode_and_location(weir, tmpdir_path):
    """Queries counted by name, type and rcode, answers by location: in
    weirctl -L --json and in Prometheus; the service's request counters
    show the rcode classes (weirctl -L --http)."""
    import json
    import urllib.request
    path = f"{tmpdir_path}/geo.map"
    with open(path, "w") as f:
        f.write("default -> fra\n")
    port, mport = free_port(), free_port()
    w = weir(f"metrics 127.0.0.1:{mport};\n" +
             conf(port, ["10.0.0.1:80 { location fra; }"], [f"geo_map {path}"]))
    for _ in range(3):
        dig(port, "www.example.test", "A")
    dig(port, "api.example.test", "AAAA")
    dig(port, "nope.example.test", "A")
    dig(port, "other.test", "MX")
    ask(port, query(5, "www.example.test", qdcount=2))
    svc = json.loads(w.ctl("-L", "--json").stdout)["services"][0]
    got = {(q["name"], q["type"], q["rcode"]): q["queries"] for q in svc["dns"]["queries"]}
    assert got[("www.example.test", "A", "NOERROR")] == 3, got
    assert got[("api.example.test", "AAAA", "NOERROR")] == 1, got
    assert got[("other", "A", "NXDOMAIN")] == 1, got
    assert got[("other", "other", "REFUSED")] == 1, got
    assert got[("other", "other", "FORMERR")] == 1, got   # its question unread
    assert svc["dns"]["locations"] == [{"name": "fra", "answers": 3}], svc["dns"]
    text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
    assert (f'weir_dns_queries_total{{service="UDP 127.0.0.1:{port}",name="www.example.test",'
            f'type="A",rcode="NOERROR"}} 3') in text, text[-2000:]
    assert (f'weir_dns_location_answers_total{{service="UDP 127.0.0.1:{port}",'
            f'location="fra"}} 3') in text
    out = w.ctl("-L", "-n", "--http", "--exact").stdout
    row = next(l.split() for l in out.splitlines() if l.startswith("UDP"))
    assert row[2:9] == ["7", "0", "4", "0", "2", "1", "0"], out   # Reqs 1xx 2xx 3xx 4xx 5xx


def test_backups_answered_only_while_no_primary_is_up(weir):
    """Failover order: the backup's address is answered only while the
    primary's check fails; the SOA serial moves each way."""
    up = socket.socket()
    up.bind(("127.0.0.2", 0))
    up.listen(64)
    prim_port = free_port()
    port = free_port()
    prim = socket.socket()
    prim.bind(("127.0.0.3", prim_port))
    prim.listen(64)
    weir(conf(port, [f"127.0.0.3:{prim_port}", f"127.0.0.2:{up.getsockname()[1]} backup"],
              [f"check tcp {TIMING}"]))
    try:
        wait_for(lambda: answers(dig(port, "www.example.test", "A")) == ["127.0.0.3"], 8,
                 "the primary alone")
        s0 = serial(port)
        prim.close()
        wait_for(lambda: answers(dig(port, "www.example.test", "A")) == ["127.0.0.2"], 8,
                 "the backup once the primary is down")
        assert serial(port) > s0
        s1 = serial(port)
        prim = socket.socket()
        prim.bind(("127.0.0.3", prim_port))
        prim.listen(64)
        wait_for(lambda: answers(dig(port, "www.example.test", "A")) == ["127.0.0.3"], 8,
                 "the primary back, the backup gone")
        assert serial(port) > s1
    finally:
        prim.close()
        up.close()


def first_answer(port):
    return answers(dig(port, "www.example.test", "A"))[0]


def test_least_connections_from_the_load_of_other_services(weir, backends):
    """A DNS service whose servers are two VIPs of weir's TCP proxy
    services, scheduled by wlc: connections held open through one VIP put
    the other first in the answers, and the reverse."""
    a, b = backends("a"), backends("b")
    p, port = free_port(), free_port()
    vips = ["127.0.0.2", "127.0.0.3"]
    text = "workers 2;\nlog_level info;\ngrace 1s;\n"
    for vip, be in zip(vips, (a, b)):
        text += (f"service tcp {vip}:{p} {{\n    proxy tcp;\n    idle_timeout 60s;\n"
                 f"    server {be.addr};\n}}\n")
    text += conf(port, [f"{v}:{p}" for v in vips], sched="wlc").split("grace 1s;\n", 1)[1]
    w = weir(text)
    held = []

    def hold(vip, n):
        for _ in range(n):
            s = socket.create_connection((vip, p), timeout=5)
            held.append(s)
        wait_for(lambda: sum(int(l.split()[4]) for l in w.ctl("-L", "-n").stdout.splitlines()
                             if l.startswith("  ->") and l.split()[1] in (a.addr, b.addr))
                 == n, 5, "the held connections counted")

    def release():
        while held:
            held.pop().close()

    try:
        for loaded, other in ((vips[0], vips[1]), (vips[1], vips[0])):
            hold(loaded, 5)
            # the load is read on the table's tick (2 s)
            wait_for(lambda: first_answer(port) == other, 8, f"{other} first")
            assert {first_answer(port) for _ in range(8)} == {other}
            release()
    finally:
        release()


def test_numbers_per_name_in_stats_and_rate(weir):
    """weirctl -L --stats: after the DNS service's servers, its queries per
    name by rcode; --rate: the same per second, while queries flow."""
    port = free_port()
    w = weir(conf(port, ["10.0.0.1:80"]))
    for _ in range(3):
        dig(port, "www.example.test", "A")
    dig(port, "api.example.test", "AAAA")
    dig(port, "nope.example.test", "A")
    dig(port, "other.test", "MX")
    out = w.ctl("-L", "-n", "--stats", "--exact").stdout
    lines = out.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("  DNS names"))
    assert lines[i].split() == ["DNS", "names", "Queries", "NOERROR", "NXDOMAIN", "REFUSED",
                                "Other"], out
    rows = {l.split()[1]: l.split()[2:] for l in lines[i + 1:] if l.startswith("  name ")}
    assert rows == {"www.example.test": ["3", "3", "0", "0", "0"],
                    "api.example.test": ["1", "1", "0", "0", "0"],
                    "other": ["2", "0", "1", "1", "0"]}, out
    assert lines[i - 1].startswith("  -> 10.0.0.1:80")
    # rates: queries for www only, for a few ticks of the estimator (2 s)
    end = time.monotonic() + 7
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        while time.monotonic() < end:
            s.sendto(query(1, "www.example.test"), ("127.0.0.1", port))
            s.recv(4096)
            time.sleep(0.004)
    out = w.ctl("-L", "-n", "--rate").stdout
    lines = out.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("  DNS names"))
    assert lines[i].split()[2:] == ["QPS", "NoErr/s", "NXDom/s", "Refus/s", "Other/s"], out
    rows = {l.split()[1]: [int(v) for v in l.split()[2:]] for l in lines[i + 1:]
            if l.startswith("  name ")}
    assert rows["www.example.test"][0] >= 20 and \
        rows["www.example.test"][0] == rows["www.example.test"][1], out
    assert rows["api.example.test"] == [0, 0, 0, 0, 0], out


def test_dns_view_by_type_and_location(weir, tmpdir_path):
    """weirctl -L --dns: a DNS service's queries by type, per name, and
    its answers per location; other services have no lines there."""
    path = f"{tmpdir_path}/geo.map"
    with open(path, "w") as f:
        f.write("default -> fra\n")
    port = free_port()
    w = weir(conf(port, ["10.0.0.1:80 { location fra; }"], [f"geo_map {path}"]))
    w.ctl("-A", "-t", f"127.0.0.1:{free_port()}", "--proxy", "tcp")
    for _ in range(2):
        dig(port, "www.example.test", "A")
    dig(port, "www.example.test", "AAAA")
    dig(port, "example.test", "SOA")
    out = w.ctl("-L", "-n", "--dns").stdout
    lines = out.splitlines()
    assert lines[1].split() == ["Prot", "LocalAddress:Port", "Queries", "A", "AAAA", "SOA",
                                "NS", "ANY", "Other"], out
    rows = [l.split() for l in lines[3:]]
    assert rows[0] == ["UDP", f"127.0.0.1:{port}", "4", "2", "1", "1", "0", "0", "0"], out
    assert ["->", "name", "www.example.test", "3", "2", "1", "0", "0", "0", "0"] in rows, out
    assert ["->", "name", "other", "1", "0", "0", "1", "0", "0", "0"] in rows, out
    assert ["->", "location", "fra", "2"] in rows, out
    assert "TCP" not in out


def test_least_connections_from_the_agents_report(weir, flagged):
    """Servers weir sees nowhere else: wlc orders the answers by the
    connections their agents report ("conns N", weir's word)."""
    from test_health import agent_servers
    (a, b), aport = agent_servers(flagged, ["up conns 10", "up conns 0"])
    port = free_port()
    weir(conf(port, [a.addr, b.addr], [f"agent port {aport} interval 200ms timeout 200ms"],
              sched="wlc"))
    wait_for(lambda: first_answer(port) == b.host, 8, "the server reporting fewer first")
    from conftest import backend_ctl
    backend_ctl(a, "/agent/set?say=conns%200")
    backend_ctl(b, "/agent/set?say=conns%2050")
    wait_for(lambda: first_answer(port) == a.host, 8, "the other once the reports swap")
    assert {first_answer(port) for _ in range(6)} == {a.host}
