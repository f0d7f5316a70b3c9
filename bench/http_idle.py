#!/usr/bin/env python3
"""http_idle.py - user memory per idle keep-alive HTTP connection, weir
against HAProxy in the same run, and what each proxy's RSS does after the
connections close.

    bench/http_idle.py [N] [--build DIR] [--rounds R]

For each proxy (one weir worker, one HAProxy thread, both in front of one
weir-backend --mode http): bench/idle_conns.py --http 1 opens N client
connections through it, each carrying one GET and then held idle. VmRSS
of the proxy is read before (after a warm-up of 100 connections opened
and closed, so start-up allocations are not charged to the flood), as
the last connection is up, 4 s later (weir parks a keep-alive connection
idle for 1 s and trims on a 2 s tick; SETTLE=seconds changes the wait),
and 5 s after they closed (AFTER=seconds). Per connection = (4 s later -
before) / N. R rounds (default 1) reuse the same proxy: after the first,
"before" is the RSS the last flood left.
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{what} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} does not listen on {port}")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def flood(port, n):
    """Opens <n> idle keep-alive connections; returns the client process
    once they are all up."""
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench/idle_conns.py"),
                          f"127.0.0.1:{port}", str(n), "--timeout", "120", "--http", "1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != f"ready {n}":
        sys.exit(f"idle client: {line or 'nothing'}")
    return p


def release(p):
    p.stdin.write("\n")
    p.stdin.flush()
    p.wait()


def measure(name, pid, port, n, rounds):
    release(flood(port, 100))
    time.sleep(1.5)
    rows = []
    for _ in range(rounds):
        before = rss_kb(pid)
        p = flood(port, n)
        ready = rss_kb(pid)
        time.sleep(float(os.environ.get('SETTLE', '4')))
        peak = rss_kb(pid)
        release(p)
        time.sleep(float(os.environ.get('AFTER', '5')))
        after = rss_kb(pid)
        rows.append((name, before, ready, peak, after, (peak - before) * 1024 / n))
    return rows


def main():
    args = sys.argv[1:]
    n, build, rounds = 2000, os.path.join(ROOT, "build/rel"), 1
    while args:
        a = args.pop(0)
        if a == "--build":
            build = os.path.abspath(args.pop(0))
        elif a == "--rounds":
            rounds = int(args.pop(0))
        else:
            n = int(a)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < 2 * n + 200:
        sys.exit(f"open-files limit {hard} is too low for {n} connections")
    work = tempfile.mkdtemp(prefix="weir-idle-")
    pb, pw, ph = free_port(), free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen([os.path.join(build, "weir-backend"), "--listen",
                                       f"127.0.0.1:{pb}", "--name", "b", "--mode", "http"]))
        wait_port(pb, procs[-1], "backend")
        with open(os.path.join(work, "weir.conf"), "w") as f:
            f.write(f"""workers 1;
log_level warn;
service tcp 127.0.0.1:{pw} {{
    proxy http;
    keepalive_timeout 600s;
    access_log off;
    server 127.0.0.1:{pb};
}}
""")
        with open(os.path.join(work, "haproxy.cfg"), "w") as f:
            f.write(f"""global
    nbthread 1
    maxconn {n + 200}
defaults
    mode http
    timeout connect 5s
    timeout client 600s
    timeout server 30s
    timeout http-keep-alive 600s
listen http
    bind 127.0.0.1:{ph}
    option http-keep-alive
    http-reuse always
    server b 127.0.0.1:{pb}
""")
        weir = subprocess.Popen([os.path.join(build, "weir"), "-c", os.path.join(work, "weir.conf"),
                                 "--socket", os.path.join(work, "weir.sock")])
        procs.append(weir)
        hap = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(work, "haproxy.cfg")])
        procs.append(hap)
        wait_port(pw, weir, "weir")
        wait_port(ph, hap, "haproxy")
        rows = measure("weir", weir.pid, pw, n, rounds) + measure("HAProxy", hap.pid, ph, n, rounds)
        print(f"{n} idle keep-alive HTTP connections, one GET each; VmRSS in KiB")
        print("| proxy | before | all up | 4 s later | 5 s after close | bytes per idle connection |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, before, ready, peak, after, per in rows:
            print(f"| {name} | {before} | {ready} | {peak} | {after} | {per:.0f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    main()
