"""The layer-4 TCP proxy: spreading, failover, half-close, timeouts, limits,
counters. Real daemon, real backends, real sockets on 127.0.0.1."""
import collections
import re
import socket
import time

from conftest import free_port, service_conf, tcp_get, wait_for


def spread(port, n):
    return collections.Counter(tcp_get(port) for _ in range(n))


def test_rr_spreads_evenly(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    weir(service_conf(port, [b.addr for b in bs], "rr"))
    c = spread(port, 30)
    assert c == {"b0": 10, "b1": 10, "b2": 10}, c
    # rr order: each backend in turn
    seq = [tcp_get(port) for _ in range(6)]
    assert seq[:3] == seq[3:] and len(set(seq[:3])) == 3, seq


def test_wrr_follows_weights(weir, backends):
    a, b, c = backends("a"), backends("b"), backends("c")
    port = free_port()
    weir(service_conf(port, [f"{a.addr} weight 4", f"{b.addr} weight 3", f"{c.addr} weight 2"],
                      "wrr"))
    seq = [tcp_get(port) for _ in range(18)]
    # IPVS interleaved WRR: a a b a b c a b c, twice
    assert seq == ["a", "a", "b", "a", "b", "c", "a", "b", "c"] * 2, seq


def test_killed_server_is_skipped(weir, backends):
    bs = [backends(f"b{i}") for i in range(3)]
    port = free_port()
    w = weir(service_conf(port, [b.addr for b in bs], "rr"))
    bs[1].kill()
    # every request still answered, by the live ones only
    c = spread(port, 20)
    assert sum(c.values()) == 20 and set(c) == {"b0", "b2"}, c
    assert "connect to" in w.read_log()


def test_all_servers_dead_closes_client(weir):
    port = free_port()
    dead = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    weir(service_conf(port, dead, "rr"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"hello")
        try:
            # closed with our bytes unread: an RST is as good as a FIN
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass


def test_half_close(weir, backends):
    e = backends("echo1", mode="echo")
    port = free_port()
    weir(service_conf(port, [e.addr]))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"x" * 200000)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    # the echo came back, then what the server wrote after our FIN, then EOF
    assert data == b"x" * 200000 + b"[eof echo1]\n"


def test_bulk_both_ways_large(weir, backends):
    e = backends("echo1", mode="echo")
    port = free_port()
    weir(service_conf(port, [e.addr]))
    payload = bytes(range(256)) * 40000  # ~10 MB
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        import threading
        t = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
        t.start()
        got = bytearray()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        t.join()
    assert bytes(got[:len(payload)]) == payload
    assert bytes(got[len(payload):]) == b"[eof echo1]\n"


def test_idle_timeout(weir, backends):
    e = backends("echo1", mode="echo")
    port = free_port()
    weir(service_conf(port, [e.addr], extra="    idle_timeout 700ms;\n"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ping")
        assert s.recv(10) == b"ping"
        t0 = time.monotonic()
        assert s.recv(10) == b""   # closed by weir, not by us
        assert 0.5 < time.monotonic() - t0 < 3.0


def test_connect_timeout_tries_next(weir, backends):
    # a listener whose accept queue is full drops SYNs: connect hangs
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(0)
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(hang.getsockname())
        fillers.append(f)
    time.sleep(0.1)
    good = backends("good")
    port = free_port()
    hang_addr = "127.0.0.1:%d" % hang.getsockname()[1]
    w = weir(service_conf(port, [hang_addr, good.addr], "rr",
                          extra="    connect_timeout 300ms;\n"))
    try:
        t0 = time.monotonic()
        answers = [tcp_get(port) for _ in range(2)]
        assert answers == ["good", "good"]
        assert time.monotonic() - t0 < 5
        assert "Connection timed out" in w.read_log()
    finally:
        for f in fillers:
            f.close()
        hang.close()


def test_max_conn(weir, backends):
    e = backends("echo1", mode="echo")
    port = free_port()
    w = weir(service_conf(port, [e.addr], extra="    max_conn 2;\n"))
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    for s in held:
        s.sendall(b"a")
        assert s.recv(1) == b"a"
    # the third waits in the backlog, not served
    third = socket.create_connection(("127.0.0.1", port), timeout=5)
    third.sendall(b"b")
    third.settimeout(0.5)
    try:
        assert third.recv(1) == b"", "third connection served past max_conn"
    except socket.timeout:
        pass
    # one closes: the third is served
    held[0].close()
    third.settimeout(5)
    assert third.recv(1) == b"b"
    third.close()
    held[1].close()
    out = w.ctl("-L", "-n").stdout
    assert "Proxy" in out


def test_counters(weir, backends):
    e = backends("echo1", mode="echo")
    port = free_port()
    w = weir(service_conf(port, [e.addr]))
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"y" * 1000)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
    # an open connection shows as active
    held = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.sendall(b"z")
    assert held.recv(1) == b"z"
    out = w.ctl("-L", "-n").stdout
    assert re.search(rf"-> {re.escape(e.addr)}\s+Proxy\s+1\s+1\s+0", out), out
    stats = w.ctl("-L", "-n", "--stats", "--exact").stdout
    svc_line = [l for l in stats.splitlines() if l.startswith("TCP")][0]
    conns, inpkts, outpkts, inbytes, outbytes = map(int, svc_line.split()[2:])
    assert conns == 6
    assert inbytes == 5 * 1000 + 1
    assert outbytes == 5 * (1000 + len(b"[eof echo1]\n")) + 1
    held.close()
    wait_for(lambda: re.search(r"Proxy\s+1\s+0\s+0", w.ctl("-L", "-n").stdout),
             what="connection counted closed")
    w.ctl("-Z")
    stats = w.ctl("-L", "-n", "--stats").stdout
    svc_line = [l for l in stats.splitlines() if l.startswith("TCP")][0]
    assert svc_line.split()[2:] == ["0"] * 5


def test_ipv6_service(weir, backends):
    b = backends("v6", host="::1")
    port = free_port("::1")
    w = weir(f"workers 1;\nservice tcp [::1]:{port} {{\n proxy tcp;\n server {b.addr};\n}}\n")
    with socket.create_connection(("::1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    assert data.endswith(b"v6\n")
    assert f"TCP  [::1]:{port} wlc" in w.ctl("-L", "-n").stdout
