"""Reload (SIGHUP and weirctl reload) keeps live connections and counters;
a bad reload is refused and traffic goes on; SIGTERM stops gracefully."""
import os
import signal
import socket
import subprocess
import time

from conftest import ROOT, can_connect, free_port, service_conf, tcp_get, wait_for


def echo_roundtrip(s, data=b"ping"):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(4096)
        assert chunk, "connection closed"
        got += chunk
    return got


def test_reload_keeps_live_connections(weir, backends):
    e1, e2 = backends("e1", mode="echo"), backends("e2", mode="echo")
    port = free_port()
    w = weir(service_conf(port, [e1.addr]))
    live = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert echo_roundtrip(live) == b"ping"
    # new config: the server the live connection uses is gone, another added,
    # scheduler changed
    w.write_config(service_conf(port, [e2.addr], "wrr"))
    w.signal(signal.SIGHUP)
    wait_for(lambda: e2.addr in w.ctl("-L", "-n").stdout, what="reload applied")
    assert "wrr" in w.ctl("-L", "-n").stdout
    # the old connection still flows to its server
    assert echo_roundtrip(live, b"still here") == b"still here"
    live.shutdown(socket.SHUT_WR)
    assert live.recv(100) == b"[eof e1]\n"
    live.close()
    # new connections go to the new server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.shutdown(socket.SHUT_WR)
        assert s.recv(100) == b"[eof e2]\n"


def test_reload_keeps_counters(weir, backends):
    b = backends("b")
    port = free_port()
    w = weir(service_conf(port, [b.addr]))
    for _ in range(3):
        tcp_get(port)
    w.write_config(service_conf(port, [f"{b.addr} weight 5"]))
    r = w.ctl("reload")
    assert "reloaded" in r.stdout
    stats = w.ctl("-L", "-n", "--stats").stdout
    line = [l for l in stats.splitlines() if l.startswith("TCP")][0]
    assert int(line.split()[2]) == 3
    assert "Proxy   5" in w.ctl("-L", "-n").stdout


def test_bad_reload_refused_traffic_continues(weir, backends):
    b = backends("b")
    port = free_port()
    w = weir(service_conf(port, [b.addr]))
    good = open(w.conf).read()
    w.write_config(good.replace("scheduler rr;", "scheduler nonsense;"))
    r = w.ctl("reload", check=False)
    assert r.returncode == 255
    assert f"{w.conf}:6: " in r.stderr and "unknown scheduler" in r.stderr
    w.signal(signal.SIGHUP)
    wait_for(lambda: w.read_log().count("reload refused") >= 2, what="SIGHUP refusal logged")
    assert tcp_get(port) == "b"
    # a reload whose new service cannot listen is refused too, atomically
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    bport = blocker.getsockname()[1]
    w.write_config(good + f"service tcp 127.0.0.1:{bport} {{ proxy tcp; server {b.addr}; }}\n")
    r = w.ctl("reload", check=False)
    blocker.close()
    assert r.returncode == 255 and "address already in use by another process" in r.stderr
    assert f"127.0.0.1:{bport}" not in w.ctl("-L", "-n").stdout
    assert tcp_get(port) == "b"


def test_graceful_stop(weir, backends):
    e = backends("e", mode="echo")
    port = free_port()
    w = weir(service_conf(port, [e.addr]).replace("grace 2s;", "grace 20s;"))
    live = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert echo_roundtrip(live) == b"ping"
    w.signal(signal.SIGTERM)
    # stops accepting at once...
    wait_for(lambda: not can_connect(port), what="listener closed")
    # ...while the open connection still works
    assert echo_roundtrip(live, b"more") == b"more"
    assert w.proc.poll() is None
    live.close()
    assert w.proc.wait(10) == 0


def test_grace_time_limits_stop(weir, backends):
    e = backends("e", mode="echo")
    port = free_port()
    w = weir(service_conf(port, [e.addr]).replace("grace 2s;", "grace 500ms;"))
    live = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert echo_roundtrip(live) == b"ping"
    t0 = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.proc.wait(10) == 0
    assert time.monotonic() - t0 < 5
    assert live.recv(10) == b""
    live.close()


def test_demo(tmpdir_path):
    """make run's demo: three backends behind 127.0.0.1:8080, rr."""
    sock = os.path.join(tmpdir_path, "demo.sock")
    out = os.path.join(tmpdir_path, "demo.out")
    env = dict(os.environ, WEIR_SOCKET=sock)
    with open(out, "w") as f:
        p = subprocess.Popen([os.path.join(ROOT, "scripts/demo.sh")], env=env,
                             stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # wait for weir's admin socket: a probe through 8080 would take a pick
        wait_for(lambda: os.path.exists(sock), what="demo started")
        got = [tcp_get(8080) for _ in range(3)]
        assert sorted(got) == ["backend-1", "backend-2", "backend-3"], (got, open(out).read())
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.wait(15)
    assert not can_connect(8080)
    for port in (9001, 9002, 9003):
        assert not can_connect(port)
