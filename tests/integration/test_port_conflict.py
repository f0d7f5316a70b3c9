"""Port conflicts are errors (issue 11): a listener that is not weir's own
worker set never shares a port. A second weir, or another program with
SO_REUSEPORT, fails to bind whichever starts first, with a message that
names the address and the holder; the first keeps every client. weir -t
says so too; weir's own reloads and weirctl edits keep working."""
import os
import re
import signal
import socket
import subprocess

import pytest

from conftest import WEIR, DgramEcho, Weir, free_port, service_conf, tcp_get, wait_for


def reuseport_socket(kind=socket.SOCK_STREAM, family=socket.AF_INET, reuseaddr=True):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


def bind_fails(addr, kind=socket.SOCK_STREAM, family=socket.AF_INET):
    """True if a SO_REUSEPORT (and SO_REUSEADDR) socket cannot bind <addr>:
    the kernel answers EADDRINUSE."""
    s = reuseport_socket(kind, family)
    try:
        s.bind(addr)
        if kind == socket.SOCK_STREAM:
            s.listen(8)
    except OSError as e:
        assert e.errno == 98, e
        return True
    finally:
        s.close()
    return False


def all_answers(port, n=8):
    return [tcp_get(port) for _ in range(n)]


def run_weir(conf_path, sock, timeout=30):
    return subprocess.run([WEIR, "-c", conf_path, "--socket", sock], capture_output=True,
                          text=True, timeout=timeout)


def second_dir(tmpdir_path):
    d = os.path.join(tmpdir_path, "second")
    os.makedirs(d, exist_ok=True)
    return d


def test_second_weir_fails_first_keeps_all(weir, backends, tmpdir_path):
    b = backends("b")
    port = free_port()
    w = weir(service_conf(port, [b.addr]))
    assert all_answers(port) == ["b"] * 8
    other = Weir(second_dir(tmpdir_path), service_conf(port, [b.addr]))
    r = run_weir(other.conf, other.sock)
    assert r.returncode == 1, r.stderr
    assert (f"TCP 127.0.0.1:{port}: address already in use by another process "
            f"(weir, pid {w.proc.pid})") in r.stderr
    # the first one has all the clients, before and after
    assert all_answers(port, 20) == ["b"] * 20
    # a second weir on the wildcard address overlaps too
    other.write_config(service_conf(port, [b.addr]).replace("127.0.0.1:", "0.0.0.0:", 1))
    r = run_weir(other.conf, other.sock)
    assert r.returncode == 1 and "address already in use by another process" in r.stderr


def test_weir_first_then_reuseport_program(weir, backends):
    b = backends("b")
    port = free_port()
    weir(service_conf(port, [b.addr]))
    assert bind_fails(("127.0.0.1", port))
    assert bind_fails(("0.0.0.0", port))
    assert bind_fails(("::", port), family=socket.AF_INET6) or not socket.has_ipv6
    assert all_answers(port, 20) == ["b"] * 20


def test_reuseport_program_first_then_weir(weir, backends, tmpdir_path):
    b = backends("b")
    port = free_port()
    holder = reuseport_socket()
    holder.bind(("127.0.0.1", port))
    holder.listen(8)
    try:
        w = weir(service_conf(port, [b.addr]), start=False)
        r = run_weir(w.conf, w.sock)
        assert r.returncode == 1
        assert (f"TCP 127.0.0.1:{port}: address already in use by another process ("
                in r.stderr and f"pid {os.getpid()})" in r.stderr), r.stderr
        # weirctl -A on a running weir is refused the same way
        other = free_port()
        w.write_config(service_conf(other, [b.addr]))
        w.start()
        r = w.ctl("-A", "-t", f"127.0.0.1:{port}", "-s", "rr", "--proxy", "tcp", check=False)
        assert r.returncode != 0
        assert f"127.0.0.1:{port}: address already in use by another process" in r.stderr
        assert f"127.0.0.1:{port}" not in w.ctl("-L", "-n").stdout
        assert tcp_get(other) == "b"
    finally:
        holder.close()


def check(conf_path):
    return subprocess.run([WEIR, "-t", "-c", conf_path], capture_output=True, text=True,
                          timeout=30)


def test_check_reports_ports(weir, backends, tmpdir_path):
    b = backends("b")
    port = free_port()
    w = weir(service_conf(port, [b.addr]))
    # the running weir's own file: validating before a reload is no error
    r = check(w.conf)
    assert r.returncode == 0 and "valid" in r.stdout and r.stderr == "", r.stderr
    # another file on that port: valid (a reload of that weir could use it),
    # with a note that a second daemon could not bind it
    path = os.path.join(tmpdir_path, "other.conf")
    with open(path, "w") as f:
        f.write(service_conf(port, [b.addr]))
    r = check(path)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"{re.escape(path)}:4: note: tcp 127.0.0.1:{port} is served by another "
                     rf"weir \(pid {w.proc.pid}\)", r.stderr), r.stderr
    # a port another program holds is an error, FILE:LINE: first
    hport = free_port()
    holder = reuseport_socket()
    holder.bind(("0.0.0.0", hport))
    holder.listen(8)
    try:
        with open(path, "w") as f:
            f.write(service_conf(hport, [b.addr]))
        r = check(path)
    finally:
        holder.close()
    assert r.returncode == 1
    assert (f"{path}:4: tcp 127.0.0.1:{hport}: address already in use by another process ("
            in r.stderr and f"pid {os.getpid()})" in r.stderr), r.stderr
    assert "valid" not in r.stdout
    # and once it is gone, the same file is valid
    assert check(path).returncode == 0


def test_reload_and_edits_keep_working(weir, backends):
    b, c = backends("b"), backends("c")
    port, port2 = free_port(), free_port()
    w = weir(service_conf(port, [b.addr]))
    conf = open(w.conf).read()
    # a reload that keeps the service, then one that replaces it (its mode
    # changes: the new listeners bind beside the old ones)
    assert w.ctl("reload").returncode == 0
    assert all_answers(port) == ["b"] * 8
    w.write_config(conf.replace("proxy tcp;", "proxy http;"))
    assert w.ctl("reload").returncode == 0
    assert all_answers(port) == ["b"] * 8
    # services added, removed and added again at run time
    w.ctl("-A", "-t", f"127.0.0.1:{port2}", "-s", "rr", "--proxy", "tcp")
    w.ctl("-a", "-t", f"127.0.0.1:{port2}", "-r", c.addr)
    assert all_answers(port2) == ["c"] * 8
    w.ctl("-D", "-t", f"127.0.0.1:{port2}")
    w.ctl("-A", "-t", f"127.0.0.1:{port2}", "-s", "rr", "--proxy", "tcp")
    w.ctl("-a", "-t", f"127.0.0.1:{port2}", "-r", c.addr)
    assert all_answers(port2) == ["c"] * 8
    # still nobody else
    assert bind_fails(("127.0.0.1", port)) and bind_fails(("127.0.0.1", port2))
    assert all_answers(port) == ["b"] * 8


def test_metrics_listener(weir, backends, tmpdir_path):
    b = backends("b")
    port, mport = free_port(), free_port()
    conf = service_conf(port, [b.addr]) + f"metrics 127.0.0.1:{mport};\n"
    w = weir(conf)
    assert bind_fails(("127.0.0.1", mport))
    path = os.path.join(tmpdir_path, "other.conf")
    with open(path, "w") as f:
        f.write(f"metrics 127.0.0.1:{mport};\n")
    r = check(path)
    assert r.returncode == 0 and f"note: metrics 127.0.0.1:{mport} is served by another weir" \
        in r.stderr, r.stderr
    assert w.stop() == 0
    holder = reuseport_socket()
    holder.bind(("127.0.0.1", mport))
    holder.listen(8)
    try:
        r = check(w.conf)
        assert r.returncode == 1
        assert f"{w.conf}: metrics 127.0.0.1:{mport}: address already in use" in r.stderr
        r = run_weir(w.conf, w.sock)
        assert r.returncode == 1
        assert (f"cannot listen on 127.0.0.1:{mport}: address already in use by another "
                f"process (") in r.stderr, r.stderr
    finally:
        holder.close()


# --- UDP: the datagram listener (tests/tools/dgram_echo.c) --------------------

def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def udp_ask(port, host="127.0.0.1", data=b"ping"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.connect((host, port))
        s.send(data)
        return s.recv(2048)


def test_udp_both_orders():
    port = udp_port()
    e = DgramEcho(f"127.0.0.1:{port}")
    try:
        assert e.ready
        assert udp_ask(port) == b"ping"
        # another program after: refused, on the address or the wildcard
        assert bind_fails(("127.0.0.1", port), socket.SOCK_DGRAM)
        assert bind_fails(("0.0.0.0", port), socket.SOCK_DGRAM)
        # a second server of the library after: refused, naming the first
        second = DgramEcho(f"0.0.0.0:{port}")
        rc, _, err = second.stop()
        assert rc == 1 and not second.ready
        assert (f"udp 0.0.0.0:{port}: address already in use by another process "
                f"(dgram-echo, pid {e.proc.pid})") in err, err
        assert all(udp_ask(port, data=b"%d" % i) == b"%d" % i for i in range(20))
    finally:
        rc, counters, _ = e.stop()
    assert rc == 0 and counters["rx"] == 21, counters
    # another program first: the library refuses to start
    holder = reuseport_socket(socket.SOCK_DGRAM)
    holder.bind(("0.0.0.0", port))
    try:
        e = DgramEcho(f"127.0.0.1:{port}")
        rc, _, err = e.stop()
    finally:
        holder.close()
    assert rc == 1
    assert (f"udp 127.0.0.1:{port}: address already in use by another process ("
            in err and f"pid {os.getpid()})" in err), err


# --- weir without CAP_SETUID: the check after bind ----------------------------

NOBODY = 65534


def as_nobody():
    os.setgid(NOBODY)
    os.setgroups([])
    os.setuid(NOBODY)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_without_cap_setuid_a_holder_is_found(backends, tmpdir_path):
    """weir as an ordinary user cannot give its sockets a uid of their own;
    a same-user program already on the port is still found (sock_diag)."""
    b = backends("b")
    port = free_port()
    os.chmod(tmpdir_path, 0o777)
    conf = os.path.join(tmpdir_path, "n.conf")
    with open(conf, "w") as f:
        f.write(service_conf(port, [b.addr]))
    os.chmod(conf, 0o644)
    holder = subprocess.Popen(
        ["python3", "-c",
         "import socket,sys,time\n"
         "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
         f"s.bind(('127.0.0.1', {port})); s.listen(8); print('ok', flush=True)\n"
         "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True, preexec_fn=as_nobody)
    try:
        assert holder.stdout.readline().strip() == "ok"
        r = subprocess.run([WEIR, "-c", conf, "--socket", os.path.join(tmpdir_path, "n.sock")],
                           capture_output=True, text=True, timeout=30, preexec_fn=as_nobody)
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 1, r.stderr
    assert "needs CAP_SETUID" in r.stderr
    assert (f"TCP 127.0.0.1:{port}: address already in use by another process "
            f"(python3, pid {holder.pid})") in r.stderr, r.stderr
    # and with the port free it starts and serves
    w = subprocess.Popen([WEIR, "-c", conf, "--socket", os.path.join(tmpdir_path, "n.sock")],
                         stderr=subprocess.PIPE, text=True, preexec_fn=as_nobody)
    try:
        wait_for(lambda: os.path.exists(os.path.join(tmpdir_path, "n.sock")), what="weir")
        assert all_answers(port) == ["b"] * 8
    finally:
        w.send_signal(signal.SIGTERM)
        _, err = w.communicate(timeout=20)
    assert w.returncode == 0, err
