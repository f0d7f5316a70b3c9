"""Every scheduler through the TCP proxy: clients from different 127.x.y.z
source addresses, and each choice is what the scheduler library predicts for
the same config (tests/tools/sched_predict.c builds the same table offline)."""
import collections
import socket
import subprocess

import pytest

from conftest import SCHED_PREDICT, free_port


def http_ask(port, src, keep):
    """Requests / from <src>; returns (backend name, socket or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    ver = b"HTTP/1.1" if keep else b"HTTP/1.0"
    s.sendall(b"GET / " + ver + b"\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
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
    if sched not in ("dh", "lblc", "lblcr") and "persistent" not in extra:
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
