#!/usr/bin/env python3
"""kmem.py - snapshots of memory, to charge a proxy per idle connection.

    kmem.py snap PID FILE          write a snapshot (JSON) of PID and the kernel
    kmem.py diff BEFORE AFTER N    print per-connection deltas as key=value

A snapshot holds:
  rss_kb      VmRSS of PID (user-space memory of the proxy)
  meminfo     Slab, KernelStack, PageTables, MemAvailable (kB, whole system)
  tcp_pages   TCP socket-buffer pages in use (/proc/net/sockstat "mem")
  slab        bytes in use per slab cache, active_objs * objsize
              (/proc/slabinfo; needs root)

The slab object count is the kernel figure the benchmark reports: unlike the
page-level "Slab:" line it does not depend on how many free objects earlier
tests left in partly used slabs. Left out: the TIME_WAIT and request-sock
caches, because sockets of earlier tests expire from them at their own pace,
and the procfs inode cache, which grows whenever anything on the machine
lists /proc/PID/fd of a process with many descriptors (it is not the
proxy's memory).
"""
import json
import sys

MEMINFO = ("Slab", "KernelStack", "PageTables", "MemAvailable")
SKIP_PREFIXES = ("tw_sock_", "request_sock_", "proc_inode_cache")


def read_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            if k in MEMINFO:
                out[k] = int(v.split()[0])
    return out


def read_tcp_pages():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                w = line.split()
                return int(w[w.index("mem") + 1])
    return 0


def read_slab():
    out = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith(("slabinfo", "#")):
                    continue
                w = line.split()
                out[w[0]] = int(w[1]) * int(w[3])
    except OSError:
        pass
    return out


def snap(pid, path):
    s = {
        "rss_kb": read_rss_kb(pid) if pid != "0" else 0,
        "meminfo": read_meminfo(),
        "tcp_pages": read_tcp_pages(),
        "slab": read_slab(),
    }
    with open(path, "w") as f:
        json.dump(s, f)


def diff(before_path, after_path, n):
    with open(before_path) as f:
        a = json.load(f)
    with open(after_path) as f:
        b = json.load(f)
    n = int(n)
    per = lambda x: round(x / n)
    slab_delta = {}
    for k in set(a["slab"]) | set(b["slab"]):
        if k.startswith(SKIP_PREFIXES):
            continue
        d = b["slab"].get(k, 0) - a["slab"].get(k, 0)
        if d:
            slab_delta[k] = d
    ma, mb = a["meminfo"], b["meminfo"]
    kpages = sum((mb[k] - ma[k]) * 1024 for k in ("Slab", "KernelStack", "PageTables"))
    print(f"user={per((b['rss_kb'] - a['rss_kb']) * 1024)}")
    print(f"kernel={per(sum(slab_delta.values()) + (b['tcp_pages'] - a['tcp_pages']) * 4096)}")
    print(f"kernel_pages={per(kpages + (b['tcp_pages'] - a['tcp_pages']) * 4096)}")
    print(f"memavail={per((ma['MemAvailable'] - mb['MemAvailable']) * 1024)}")
    print(f"tcp_mem={per((b['tcp_pages'] - a['tcp_pages']) * 4096)}")
    top = sorted(slab_delta.items(), key=lambda kv: -abs(kv[1]))[:8]
    print("slab_top=" + ",".join(f"{k}:{per(v)}" for k, v in top if abs(per(v)) >= 8))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "snap":
        snap(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
