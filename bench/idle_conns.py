#!/usr/bin/env python3
"""idle_conns.py - opens N TCP connections to HOST:PORT and holds them idle.

    idle_conns.py HOST:PORT N [--hold SECONDS] [--timeout SECONDS]

Each connection is proved established end to end before the next one is
opened: the client sends one byte and waits for the echo backend behind the
proxy to send it back. When all N are up it prints "ready N" on stdout and
then waits, idle, until a line (or EOF) arrives on stdin, SIGTERM, or
--hold seconds pass; then it closes them with a reset (SO_LINGER 0) so the
test leaves no TIME_WAIT sockets to skew the next measurement. It exits 1
(after printing "fail K: reason") if a connection cannot be made within
--timeout seconds in total.
"""
import select
import signal
import socket
import struct
import sys
import time


def main():
    args = sys.argv[1:]
    hold, timeout = 120.0, 60.0
    while len(args) > 2:
        opt, val = args[-2], args[-1]
        if opt == "--hold":
            hold = float(val)
        elif opt == "--timeout":
            timeout = float(val)
        else:
            break
        args = args[:-2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = args[0].rsplit(":", 1)
    n = int(args[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    deadline = time.monotonic() + timeout
    socks = []
    try:
        for i in range(n):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("out of time")
            s = socket.create_connection((host, int(port)), timeout=left)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socks.append(s)
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise ConnectionError("no echo")
    except (OSError, TimeoutError) as e:
        print(f"fail {len(socks)}: {e}", flush=True)
        return 1
    print(f"ready {len(socks)}", flush=True)
    # Idle: nothing is read or written until we are told to stop.
    select.select([sys.stdin], [], [], hold)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
