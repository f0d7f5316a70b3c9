"""UDP servers written in Python for the UDP proxy's tests
(test_udp_proxy.py): an echo server with fault modes, a collector of
datagrams (syslog lines), a small authoritative DNS responder, and the
PROXY protocol v2 header read by hand. Each server is one socket and one
thread on 127.0.0.0/8 or ::1; close() stops it. Run this file to try the
servers standalone (see the end)."""
import ipaddress
import socket
import struct
import threading
import time

from conftest import _handed_out


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def hostport(host, port):
    """"127.0.0.1:53" or "[::1]:53", as weir writes addresses."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def udp_port(host="127.0.0.1"):
    """A UDP port free now on <host>, never one this run handed out before
    (for TCP or UDP: conftest.free_port shares the set)."""
    while True:
        with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def closed_port(host="127.0.0.1"):
    """host:port where nothing listens: a datagram sent there is answered by
    the kernel with ICMP port unreachable."""
    return hostport(host, udp_port(host))


class UdpServer:
    """One UDP socket on <host>, a thread reading it. Every datagram is kept
    in <received> as (bytes, peer) and handed to handle(data, peer), whose
    return value (a list of (delay seconds, bytes)) is sent back to the peer.
    Replies with a delay are sent by a second thread at their time, so a slow
    answer does not hold up the others."""

    def __init__(self, name, host="127.0.0.1", port=0):
        self.name, self.host = name, host
        while True:
            self.sock = socket.socket(family_of(host), socket.SOCK_DGRAM)
            self.sock.bind((host, port))
            self.port = self.sock.getsockname()[1]
            if port or self.port not in _handed_out:
                break
            self.sock.close()    # a port the test keeps for weir
        _handed_out.add(self.port)
        try:   # beyond net.core.rmem_max when root: a burst must not be lost here
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 1 << 21)   # SO_RCVBUFFORCE
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.sock.settimeout(0.1)
        self.addr = hostport(host, self.port)
        self.received = []
        self.lock = threading.Lock()
        self.later = []            # (due monotonic time, bytes, peer)
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=self._send_later, daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self):
        while not self.stop_flag:
            try:
                data, peer = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                # ECONNREFUSED from an ICMP error for an earlier reply
                if self.stop_flag:
                    return
                continue
            with self.lock:
                self.received.append((data, peer))
            for delay, reply in self.handle(data, peer) or ():
                if delay > 0:
                    with self.lock:
                        self.later.append((time.monotonic() + delay, reply, peer))
                else:
                    self._send(reply, peer)

    def _send_later(self):
        while not self.stop_flag:
            now = time.monotonic()
            with self.lock:
                due = [x for x in self.later if x[0] <= now]
                self.later = [x for x in self.later if x[0] > now]
            for _, reply, peer in due:
                self._send(reply, peer)
            time.sleep(0.01)

    def _send(self, reply, peer):
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def handle(self, data, peer):
        return []

    def datagrams(self):
        with self.lock:
            return [d for d, _ in self.received]

    def peers(self):
        with self.lock:
            return [p for _, p in self.received]

    def count(self):
        with self.lock:
            return len(self.received)

    def close(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(5)
        self.sock.close()


class EchoServer(UdpServer):
    """Answers each datagram with "NAME|" and the datagram's bytes, so the
    client knows which server answered. <mode>, changeable at any time:
      echo     answer at once (<replies> answers per datagram, "NAME|i|..."
               after the first when more than one)
      silent   receive and count, never answer (a collector, a dead service)
      slow     answer after <delay> seconds
    A closed port (closed_port()) is the fourth fault: ICMP unreachable."""

    def __init__(self, name, host="127.0.0.1", mode="echo", delay=1.0, replies=1, port=0):
        self.mode, self.delay, self.replies = mode, delay, replies
        super().__init__(name, host, port)

    def handle(self, data, peer):
        if self.mode == "silent":
            return []
        delay = self.delay if self.mode == "slow" else 0
        head = self.name.encode() + b"|"
        out = [(delay, head + data)]
        out += [(delay, head + b"%d|" % i + data) for i in range(1, self.replies)]
        return out


def who(reply):
    """The name of the EchoServer or DnsServer that made <reply>."""
    return reply.split(b"|", 1)[0].decode()


# --- DNS -----------------------------------------------------------------------

QTYPE_A, QTYPE_OPT = 1, 41


def parse_question(msg):
    """(id, flags, qname bytes as on the wire, qtype, qclass, offset after the
    question, arcount) of a DNS query, or None if it is not one we read."""
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    if flags & 0x8000 or qd != 1:
        return None
    pos = 12
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n & 0xC0:
            return None      # no compression in a question we ask
        pos += 1 + n
        if n == 0:
            break
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return qid, flags, msg[12:pos], qtype, qclass, pos + 4, ar


def qname_text(wire):
    out, pos = [], 0
    while wire[pos]:
        out.append(wire[pos + 1:pos + 1 + wire[pos]].decode(errors="replace"))
        pos += 1 + wire[pos]
    return ".".join(out) + "."


class DnsServer(UdpServer):
    """An authoritative responder for every name: an A query is answered
    with <address> (one address per server, so the answer names the server
    that gave it), TTL 0; other types get NOERROR and no answer. An EDNS
    query (an OPT record) gets an OPT record back. Anything that is not a
    query is ignored. <names> keeps the names asked, in order."""

    def __init__(self, name, address, host="127.0.0.1", port=0):
        self.address = address
        self.names = []
        super().__init__(name, host, port)

    def handle(self, data, peer):
        q = parse_question(data)
        if q is None:
            return []
        qid, flags, qname, qtype, qclass, _, ar = q
        with self.lock:
            self.names.append(qname_text(qname))
        # QR, opcode as asked, AA, RD as asked, RA; rcode NOERROR
        rflags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080
        answer = b""
        if qtype == QTYPE_A and qclass == 1:
            answer = (b"\xc0\x0c" + struct.pack("!HHIH", QTYPE_A, 1, 0, 4)
                      + ipaddress.IPv4Address(self.address).packed)
        opt = struct.pack("!BHHIH", 0, QTYPE_OPT, 1232, 0, 0) if ar else b""
        head = struct.pack("!6H", qid, rflags, 1, 1 if answer else 0, 0, 1 if opt else 0)
        return [(0, head + qname + struct.pack("!HH", qtype, qclass) + answer + opt)]


# --- PROXY protocol v2 ----------------------------------------------------------

PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def parse_proxy_v2(dgram):
    """Reads the PROXY protocol v2 header in front of <dgram> by the spec
    (HAProxy's proxy-protocol.txt, section 2.2): the 12-byte signature, the
    version and command byte (0x21: version 2, PROXY), the family and
    transport byte (0x12: UDP over IPv4, 0x22: UDP over IPv6), the length of
    what follows, the source and destination addresses and ports, and TLVs
    up to that length. Returns (fam byte, (src addr, src port), (dst addr,
    dst port), payload after the header). Raises AssertionError on anything
    else."""
    assert dgram[:12] == PP2_SIG, f"no PROXY v2 signature: {dgram[:16]!r}"
    assert len(dgram) >= 16, dgram
    ver_cmd, fam, length = dgram[12], dgram[13], struct.unpack("!H", dgram[14:16])[0]
    assert ver_cmd == 0x21, f"ver/cmd {ver_cmd:#x}, not 0x21"
    assert 16 + length <= len(dgram), f"header length {length} past the datagram"
    body = dgram[16:16 + length]
    if fam == 0x12:
        assert length >= 12, length
        src = str(ipaddress.IPv4Address(body[0:4]))
        dst = str(ipaddress.IPv4Address(body[4:8]))
        sport, dport = struct.unpack("!HH", body[8:12])
    elif fam == 0x22:
        assert length >= 36, length
        src = str(ipaddress.IPv6Address(body[0:16]))
        dst = str(ipaddress.IPv6Address(body[16:32]))
        sport, dport = struct.unpack("!HH", body[32:36])
    else:
        raise AssertionError(f"family/transport {fam:#x}, not UDP over IPv4/IPv6")
    return fam, (src, sport), (dst, dport), dgram[16 + length:]


# --- clients ------------------------------------------------------------------------

def client(host="127.0.0.1", src="127.0.0.1", timeout=1.0, connect=None):
    """A UDP socket bound to <src> on a new port, with a receive timeout;
    connect()ed to <connect> (host, port) if given."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    if connect:
        s.connect(connect)
    return s


def ask(sock, dest, data, timeout=None):
    """Sends <data> to <dest> and returns the first reply, or None after the
    socket's timeout."""
    if timeout is not None:
        sock.settimeout(timeout)
    sock.sendto(data, dest)
    try:
        return sock.recv(70000)
    except socket.timeout:
        return None


if __name__ == "__main__":
    # Standalone: a DNS responder and echo servers in each mode, until ^C.
    import sys
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    servers = [DnsServer("dns", "10.0.0.1", host), EchoServer("echo", host),
               EchoServer("silent", host, "silent"), EchoServer("slow", host, "slow")]
    for s in servers:
        print(s.name, s.addr, flush=True)
    print("closed", closed_port(host), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        for s in servers:
            s.close()
