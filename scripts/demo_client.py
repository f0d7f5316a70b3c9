#!/usr/bin/env python3
"""The demo's client (scripts/demo.sh): about RATE requests a second to
weir on 127.0.0.1:8080, over keep-alive connections, and one line a second
of the answers per backend (each backend answers its name)."""
import http.client
import sys
import time

RATE = int(sys.argv[1]) if len(sys.argv) > 1 else 60
NAMES = ("backend-1", "backend-2", "backend-3")


def main():
    conn = None
    counts, errors = {}, 0
    second = time.monotonic()
    while True:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", 8080, timeout=2)
            conn.request("GET", "/")
            r = conn.getresponse()
            name = r.read().decode(errors="replace").strip()
            key = name if r.status == 200 else f"HTTP {r.status}"
            counts[key] = counts.get(key, 0) + 1
        except (OSError, http.client.HTTPException):
            errors += 1
            if conn:
                conn.close()
            conn = None
        now = time.monotonic()
        if now - second >= 1.0:
            parts = [f"{n} {counts.pop(n, 0):3d}" for n in NAMES]
            parts += [f"{k} {v}" for k, v in sorted(counts.items())]
            print(time.strftime("%H:%M:%S"), "  ".join(parts),
                  f"  errors {errors}" if errors else "", flush=True)
            counts, errors, second = {}, 0, now
        time.sleep(1.0 / RATE)


try:
    main()
except KeyboardInterrupt:
    pass
