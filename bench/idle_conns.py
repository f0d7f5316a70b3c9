#!/usr/bin/env python3
"""idle_conns.py - opens N TCP connections to HOST:PORT and holds them idle.

    idle_conns.py HOST:PORT N [--hold SECONDS] [--timeout SECONDS] [--http 1]

Each connection is proved established end to end before the next one is
opened: the client sends one byte and waits for the echo backend behind the
proxy to send it back. With --http 1 (an HTTP proxy in front of an HTTP
backend) it sends one keep-alive GET instead and reads the whole answer, so
what is held is an idle keep-alive connection after a request. When all N are up it prints "ready N" on stdout and
then waits, idle, until a line (or EOF) arrives on stdin, SIGTERM, or
--hold seconds pass; then it closes them with a reset (SO_LINGER 0) so the
test leaves no TIME_WAIT sockets to skew the next measurement. It exits 1
(after printing "fail K: reason") if a connection cannot be made within
--timeout seconds in total.
"""
import http.client
import select
import signal
import socket
import struct
import sys
import time


def get(s):
    """One keep-alive GET on <s>; reads the answer to its last byte."""
    s.sendall(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")
    r = http.client.HTTPResponse(s)
    r.begin()
    r.read()
    if r.status != 200 or r.will_close:
        raise ConnectionError(f"answer {r.status}, will close: {r.will_close}")


def main():
    args = sys.argv[1:]
    hold, timeout, http = 120.0, 60.0, False
    while len(args) > 2:
        opt, val = args[-2], args[-1]
        if opt == "--hold":
            hold = float(val)
        elif opt == "--timeout":
            timeout = float(val)
        elif opt == "--http":
            http = val == "1"
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
            if http:
                get(s)
            else:
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
