"""weir -t -c FILE: a valid config exits 0; a bad one names FILE:LINE: reason
and exits 1, and a daemon never starts half-configured."""
import os
import subprocess

import pytest

from conftest import WEIR, free_port

GOOD = """# a complete config
workers 2;
log_level debug;
grace 10s;
socket /tmp/weir-check-unused.sock;

service tcp 127.0.0.1:18080 {
    proxy tcp;
    scheduler wrr;
    persistent 600;
    netmask 255.255.255.0;
    connect_timeout 1500ms;
    idle_timeout 2m;
    max_conn 1000;
    retries 2;
    server 127.0.0.1:19001 weight 3;
    server 127.0.0.1:19002 { weight 1; upper 100; lower 50; }
}

service udp 10.1.2.3:53 {
    scheduler sh sh-port;
    server 10.1.2.4:53 forward masq;
}

service tcp [::1]:18081 {
    proxy tcp;
    server [::1]:19003;
}
"""


def check(tmp, text):
    path = os.path.join(tmp, "c.conf")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    return r, path


def test_valid_config(tmpdir_path):
    r, path = check(tmpdir_path, GOOD)
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout and "3 services" in r.stdout


BAD = [
    ("workers 2\nservice tcp 1.2.3.4:80 {}\n", 1, "missing ';' after '2'"),
    ("service tcp 1.2.3.4:80 {\n  proxy tcp;\n  scheduler nope;\n}\n", 3, "unknown scheduler 'nope'"),
    ("service tcp 1.2.3.4:80 {\n  server 1.2.3.5:80 weight 70000;\n}\n", 2, "weight"),
    ("service tcp 1.2.3.4 {\n}\n", 1, "not an address"),
    ("bogus 1;\n", 1, "unknown directive 'bogus'"),
    ("service tcp 1.2.3.4:80 {\n  proxy tcp;\n  server 1.2.3.5:80;\n  server 1.2.3.5:80;\n}\n", 4,
     "declared twice"),
    ("service tcp 1.2.3.4:80 {}\nservice tcp 1.2.3.4:80 {}\n", 2, "declared twice"),
    ("service tcp 1.2.3.4:80 {\n  server 1.2.3.5:80 lower 5;\n}\n", 2, "out of range"),
    ("service tcp 1.2.3.4:80 {\n", 2, "missing '}'"),
    ("}\n", 1, "unexpected '}'"),
    ('grace "unterminated;\n', 1, "unterminated string"),
    ("service tcp 1.2.3.4:80 {\n  proxy http2;\n}\n", 2, "proxy"),
    ("service udp 1.2.3.4:80 {\n  proxy tcp;\n}\n", 1, "needs a TCP service"),
    ("workers many;\n", 1, "workers"),
    ("service tcp 1.2.3.4:80 {\n  idle_timeout soon;\n}\n", 2, "not a duration"),
    ("service tcp 1.2.3.4:80 {\n  server 1.2.3.5:80 colour red;\n}\n", 2, "unknown option 'colour'"),
]


@pytest.mark.parametrize("text,line,reason", BAD)
def test_bad_config_names_file_line_reason(tmpdir_path, text, line, reason):
    r, path = check(tmpdir_path, text)
    assert r.returncode == 1, (r.stdout, r.stderr)
    first = r.stderr.strip().splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert reason in first, first


def test_missing_file(tmpdir_path):
    r = subprocess.run([WEIR, "-t", "-c", os.path.join(tmpdir_path, "nope.conf")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "No such file" in r.stderr


def test_bad_config_never_starts(tmpdir_path):
    """The daemon refuses to start on a bad config: nothing listens."""
    port = free_port()
    path = os.path.join(tmpdir_path, "c.conf")
    with open(path, "w") as f:
        f.write(f"service tcp 127.0.0.1:{port} {{\n proxy tcp;\n scheduler zz;\n}}\n")
    sock = os.path.join(tmpdir_path, "s.sock")
    r = subprocess.run([WEIR, "-c", path, "--socket", sock], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert f"{path}:3:" in r.stderr
    assert not os.path.exists(sock)


def test_port_in_use_refuses_start(tmpdir_path):
    """A service that cannot listen stops the start; nothing half-configured."""
    import socket
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    other = free_port()
    path = os.path.join(tmpdir_path, "c.conf")
    with open(path, "w") as f:
        f.write(f"service tcp 127.0.0.1:{other} {{ proxy tcp; server 127.0.0.1:1; }}\n"
                f"service tcp 127.0.0.1:{port} {{ proxy tcp; server 127.0.0.1:1; }}\n")
    sock = os.path.join(tmpdir_path, "s.sock")
    try:
        r = subprocess.run([WEIR, "-c", path, "--socket", sock], capture_output=True,
                           text=True, timeout=30)
    finally:
        blocker.close()
    assert r.returncode == 1
    assert (f"TCP 127.0.0.1:{port}: address already in use by another process "
            f"(") in r.stderr and f"pid {os.getpid()})" in r.stderr
