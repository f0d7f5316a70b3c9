"""What an idle HTTP client connection costs weir, and whether the memory
of a flood of connections goes back to the kernel once they close.

Measured on build/rel/weir whatever WEIR_BUILD says: ASan's allocator keeps
freed memory in its quarantine and adds shadow memory, so RSS says nothing
about weir's own allocations under it. One worker; 2,000 connections to
127.0.0.1 (the test raises its open-files limit)."""
import os
import resource
import socket
import struct
import subprocess
import time

import pytest

from conftest import REL, can_connect, free_port, wait_for

N = 2000
KiB = 1024
MiB = 1 << 20


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KiB
    raise AssertionError("no VmRSS")


def get(s):
    """One keep-alive GET on <s>, its whole answer read."""
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not (b"\r\n\r\n" in data and data.endswith(b"\n")):
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    # closed with a reset: no TIME_WAIT left behind for 2,000 connections
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return s


def close_all(socks):
    for s in socks:
        s.close()
    socks.clear()


@pytest.fixture
def rel_weir(tmpdir_path, backends):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2 * N + 200:
        pytest.skip(f"open-files limit {hard} is too low for {N} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    b = backends("b1")
    port = free_port()
    conf = os.path.join(tmpdir_path, "weir.conf")
    with open(conf, "w") as f:
        f.write(f"workers 1;\nlog_level warn;\n"
                f"service tcp 127.0.0.1:{port} {{\n    proxy http;\n"
                f"    keepalive_timeout 600s;\n    header_timeout 600s;\n"
                f"    server {b.addr};\n}}\n")
    with open(os.path.join(tmpdir_path, "weir.log"), "w") as log:
        p = subprocess.Popen([os.path.join(REL, "weir"), "-c", conf, "--socket",
                              os.path.join(tmpdir_path, "weir.sock")], stderr=log)
    try:
        wait_for(lambda: can_connect(port), what="weir listening")
        # start-up allocations are not the connections' (a first flood
        # grows the loop's and the kernel's tables once)
        warm = [connect(port) for _ in range(100)]
        for s in warm:
            get(s)
        close_all(warm)
        time.sleep(3)
        yield p, port
    finally:
        p.terminate()
        assert p.wait(20) == 0
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def flood_then_close(p, port, send, resident, what):
    """Opens N connections, <send>(socket) on each; once <resident>(growth
    of RSS in bytes) holds, closes them all. Returns the RSS before."""
    before = rss(p.pid)
    socks = []
    try:
        for _ in range(N):
            socks.append(connect(port))
            send(socks[-1])
        wait_for(lambda: resident(rss(p.pid) - before), timeout=15,
                 what=f"{what} (RSS grew by {rss(p.pid) - before} B)")
    finally:
        close_all(socks)
    return before


def test_idle_keepalive_connection_costs_under_1k_and_memory_returns(rel_weir):
    p, port = rel_weir
    # each parks after 1 s idle; the trim comes on a 2 s tick
    before = flood_then_close(p, port, get, lambda grew: grew <= N * KiB,
                              "at most 1 KiB per idle keep-alive connection")
    wait_for(lambda: rss(p.pid) <= before + MiB, timeout=15,
             what=f"RSS back within 1 MiB of {before} (now {rss(p.pid)})")


def test_memory_of_a_flood_of_busy_connections_returns(rel_weir):
    # each connection holds a request head in part: a session and its
    # input buffer, nothing that parks
    p, port = rel_weir
    part = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 3000
    before = flood_then_close(p, port, lambda s: s.sendall(part),
                              lambda grew: grew >= N * 4 * KiB, "the flood's memory resident")
    wait_for(lambda: rss(p.pid) <= before + 2 * MiB, timeout=15,
             what=f"RSS back within 2 MiB of {before} (now {rss(p.pid)})")
