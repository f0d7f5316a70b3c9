"""Every scheduler through the TCP proxy: clients from different 127.x.y.z
source addresses, and each choice is what the scheduler library predicts for
the same config (tests/tools/sched_predict.c builds the same table offline)."""
import collections
import socket
import subprocess
import time

import pytest

from conftest import SCHED_PREDICT, free_port


def http_ask(port, src, keep):
    """Requests / from <src>; returns (backend name, socket or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    ver = b"HTTP/1.1" if keep else b"HTTP/1.0"
    s.sendall(b"GET / " + ver + b"\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, f"closed without an answer from {src}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                 .split(b":")[1])
    while len(body) < length:
        body += s.recv(4096)
    if not keep:
        s.close()
        s = None
    return body.decode().strip(), s


def predict(conf_path, picks):
    text = "".join(f"pick {src} {'hold' if keep else 'close'}\n" for src, keep in picks)
    r = subprocess.run([SCHED_PREDICT, conf_path], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def sources(n):
    return [f"127.{1 + i % 3}.{i % 5}.{10 + (i * 7) % 200}" for i in range(n)]


# scheduler, extra config, whether connections are held (counts matter)
CASES = [
    ("rr", "", False),
    ("wrr", "", False),
    ("swrr", "", False),
    ("sh", "", False),
    ("dh", "", False),
    ("mh", "", False),
    ("lc", "", True),
    ("wlc", "", True),
    ("sed", "", True),
    ("nq", "", True),
    ("lblc", "", True),
    ("lblcr", "", True),
    ("fo", "", False),
    ("rr", "    persistent 60;\n", False),
    ("wrr", "    persistent 60;\n    netmask 255.255.0.0;\n", False),
]


@pytest.mark.parametrize("sched,extra,hold", CASES,
                         ids=[f"{c[0]}{'-persist' if c[1] else ''}" for c in CASES])
def test_choice_matches_library(weir, backends, sched, extra, hold):
    weights = [4, 3, 2, 1]
    bs = [backends(f"b{i}") for i in range(4)]
    name_of = {b.addr: b.name for b in bs}
    port = free_port()
    servers = "".join(f"    server {b.addr} weight {w};\n" for b, w in zip(bs, weights))
    conf = (f"workers 2;\nlog_level warn;\nservice tcp 127.0.0.1:{port} {{\n"
            f"    proxy tcp;\n    scheduler {sched};\n{extra}{servers}}}\n")
    w = weir(conf)
    n = 24 if hold else 40
    picks = [(src, hold) for src in sources(n)]
    expected = [name_of[a] for a in predict(w.conf, picks)]
    held, got = [], []
    try:
        for src, keep in picks:
            name, s = http_ask(port, src, keep)
            got.append(name)
            if s:
                held.append(s)
    finally:
        for s in held:
            s.close()
    assert got == expected, f"{sched}: proxy {got} != library {expected}"
    # the spread is real: more than one server used (none are overloaded)
    if sched not in ("dh", "lblc", "lblcr", "fo") and "persistent" not in extra:
        assert len(set(got)) > 1


def test_sh_same_source_same_server(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    conf = (f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n scheduler sh;\n"
            + "".join(f" server {b.addr};\n" for b in bs) + "}\n")
    weir(conf)
    for src in sources(10):
        first, _ = http_ask(port, src, False)
        for _ in range(3):
            assert http_ask(port, src, False)[0] == first


@pytest.mark.parametrize("sched", ["p2c", "lrt"])
def test_random_choice_schedulers_spread(weir, backends, sched):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    conf = (f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n scheduler {sched};\n"
            + "".join(f" server {b.addr};\n" for b in bs) + "}\n")
    weir(conf)
    c = collections.Counter(http_ask(port, "127.0.0.1", False)[0] for _ in range(60))
    assert set(c) == {"b0", "b1", "b2"}, c


def test_persistence_survives_scheduler_change(weir, backends):
    """A persistent client keeps its server when the scheduler is edited."""
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    conf = (f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n scheduler rr;\n"
            f" persistent 60;\n" + "".join(f" server {b.addr};\n" for b in bs) + "}\n")
    w = weir(conf)
    first = {src: http_ask(port, src, False)[0] for src in sources(6)}
    w.ctl("-E", "-t", f"127.0.0.1:{port}", "-s", "wrr", "-p", "60")
    for src, name in first.items():
        assert http_ask(port, src, False)[0] == name


def test_persistent_conn_listing(weir, backends):
    """-L --persistent-conn shows the persistence templates per server."""
    import re
    bs = [backends(f"b{i}") for i in range(2)]
    port = free_port()
    conf = (f"workers 2;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n scheduler rr;\n"
            f" persistent 60;\n" + "".join(f" server {b.addr};\n" for b in bs) + "}\n")
    w = weir(conf)
    for src in sources(5):
        http_ask(port, src, False)
    out = w.ctl("-L", "-n", "--persistent-conn").stdout
    assert "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn" in out
    counts = [int(m) for m in re.findall(r"-> \S+\s+1\s+(\d+)\s+0\s+0", out)]
    assert sorted(counts) == [2, 3], out


# --- the IPVS schedulers fo, ovf and twos, as a user sees them --------------------

def try_ask(port, src="127.0.0.1"):
    """One HTTP/1.0 request: the backend's name, or None when the proxy
    closes the connection without an answer (no server could take it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5,
                                  source_address=(src, 0)) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: t\r\n\r\n")
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
    return data.partition(b"\r\n\r\n")[2].decode().strip() or None


def sched_service(weir, backends, sched, weights):
    bs = [backends(f"b{i}") for i in range(len(weights))]
    port = free_port()
    conf = (f"workers 2;\nlog_level warn;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n"
            f" scheduler {sched};\n"
            + "".join(f" server {b.addr} weight {w};\n" for b, w in zip(bs, weights)) + "}\n")
    return weir(conf), port, f"127.0.0.1:{port}", bs


def test_fo_highest_weight_then_the_next(weir, backends):
    """fo: everything to the highest weight; when it is drained, to the
    next; weight 0 quiesces; the leader back takes it all again."""
    w, port, vip, bs = sched_service(weir, backends, "fo", [1, 4, 2])

    def answers(n=8):
        return {http_ask(port, src, False)[0] for src in sources(n)}

    assert answers() == {"b1"}
    w.ctl("server", "-t", vip, bs[1].addr, "drain")
    assert answers() == {"b2"}
    w.ctl("-e", "-t", vip, "-r", bs[2].addr, "-w", "0")
    assert answers() == {"b0"}
    w.ctl("server", "-t", vip, bs[1].addr, "ready")
    assert answers() == {"b1"}


def test_ovf_overflows_once_held_connections_reach_the_weight(weir, backends):
    """ovf: the highest weight takes connections while its active ones do
    not exceed its weight (weight 3 holds 4), then the next; with every
    server full a connection gets nothing; one ending frees a place."""
    w, port, vip, bs = sched_service(weir, backends, "ovf", [1, 3, 2])
    held, got = [], []
    try:
        for _ in range(9):
            name, s = http_ask(port, "127.0.0.1", True)
            got.append(name)
            held.append((name, s))
        assert got == ["b1"] * 4 + ["b2"] * 3 + ["b0"] * 2
        assert try_ask(port) is None
        # one of b1's ends: the next connection is b1's again
        done = next(i for i, (n, _) in enumerate(held) if n == "b1")
        held.pop(done)[1].close()
        for _ in range(50):  # the proxy sees the close asynchronously
            name = try_ask(port)
            if name:
                break
            time.sleep(0.05)
        assert name == "b1"
    finally:
        for _, s in held:
            s.close()


def test_twos_draws_follow_the_weights(weir, backends):
    """twos: with no connection held, the pick is the first of the two
    weighted draws: weight 1 against 4 gets about 2/6 (IPVS's draw gives
    the first server one more chance in W + 1), weight 4 about 4/6."""
    w, port, vip, bs = sched_service(weir, backends, "twos", [1, 4])
    c = collections.Counter(http_ask(port, "127.0.0.1", False)[0] for _ in range(240))
    assert set(c) == {"b0", "b1"}, c
    assert 40 <= c["b0"] <= 120 and c["b1"] > c["b0"], c
