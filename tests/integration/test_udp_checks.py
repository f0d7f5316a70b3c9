"""The udp and dns health checks (issue 12), as a user sees them: a real
weir daemon checks its servers with `check udp ...` and `check dns ...`
against UDP servers this test runs (Python sockets; DNS replies built by
hand), and `weirctl -L -n --health` shows each server up, then down with
the reason once its server goes silent, answers wrongly or is gone, then up
again. The service is a `proxy udp` one (every mode runs every check kind);
only health state is asserted here (traffic: test_udp_proxy.py). A server's check goes to its own port: a
UDP port and a TCP port of one number are two things."""
import os
import re
import socket
import struct
import subprocess
import threading

from conftest import WEIR, free_port, json_server, svc_conf, wait_for

TIMING = "interval 200ms fast_interval 100ms timeout 150ms rise 1 fall 2"
WITHIN = 8.0    # seconds; a state needs ~0.5 s, the rest is slack for ASan on a busy machine


def free_udp_port():
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    raise AssertionError("no free UDP port")


class UdpServer:
    """A UDP server on 127.0.0.1 whose answer to each datagram is
    reply(datagram) -> bytes or None (silence); <reply> may be changed
    while it runs. close() frees the port: the kernel then answers ICMP
    port unreachable."""

    def __init__(self, reply):
        self.reply = reply
        self.port = free_udp_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.1)
        self.got = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def run(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got += 1
            out = self.reply(data)
            if out is not None:
                self.sock.sendto(out, peer)

    def close(self):
        if self.running:
            self.running = False
            self.thread.join()
            self.sock.close()


# --- DNS by hand (RFC 1035 4.1) ------------------------------------------------

def dns_name(text):
    return b"".join(bytes([len(l)]) + l.encode() for l in text.rstrip(".").split(".")) + b"\0"


def parse_query(q):
    """(id, flags, question bytes) of a query with one question."""
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    assert qd == 1, q
    end = 12
    while q[end]:
        end += 1 + q[end]
    return qid, flags, q[12:end + 5]


def dns_reply(q, rcode=0, addrs=("10.0.0.1",), tc=False, id_xor=0):
    """The reply to query <q>: A records of <addrs> for its name."""
    qid, flags, question = parse_query(q)
    flags = 0x8000 | 0x0400 | (flags & 0x0100) | (0x0200 if tc else 0) | rcode
    answers = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(a)
                       for a in addrs)
    return (struct.pack(">HHHHHH", qid ^ id_xor, flags, 1, len(addrs), 0, 0) + question +
            answers)


# --- the daemon ----------------------------------------------------------------

def start(weir, servers):
    """weir with a proxy udp service whose servers are [(addr, check)]."""
    port = free_port()
    lines = [f"{addr} {{ {check} {TIMING}; }}" for addr, check in servers]
    w = weir(svc_conf(port, lines, proxy="udp"))
    return w, f"127.0.0.1:{port}"


def row(w, addr):
    out = w.ctl("-L", "-n", "--health").stdout
    for line in out.splitlines():
        if addr in line:
            return line
    raise AssertionError(f"{addr} not in -L -n --health:\n{out}")


def wait_state(w, vip, srv, state, last=None, reason=None):
    """Waits until <srv> is <state> with its last check saying <last> (a
    regex) and, in `-L -n --health`, its row saying <state> and <reason>."""
    def seen():
        s = json_server(w, vip, srv.addr)
        return (s["state"] == state and
                (last is None or re.search(last, s["health"]["last"])) and s)
    s = wait_for(seen, WITHIN, f"{srv.addr} {state} ({last})")
    r = row(w, srv.addr)
    assert re.search(rf"\b{state}\b", r), r
    if reason:
        assert reason in r, r
    return s


def test_udp_check_up_down_up(weir):
    """A UDP server answering "pong" is up; silent, it goes down ("no
    reply"); a reply without the text keeps it down with that reason; the
    right reply brings it back; a regex check follows its regex; a closed
    port is down at once with "refused"."""
    pong = UdpServer(lambda d: b"pong " + d if d == b"ping" else None)
    rx = UdpServer(lambda d: b"version 1.2.3\n")
    gone = UdpServer(lambda d: b"pong")
    try:
        w, vip = start(weir, [(pong.addr, "check udp send ping expect pong"),
                              (rx.addr, r'check udp send_hex 0001ff expect_regex '
                                        r'"^version [0-9]+\\.[0-9]+"'),
                              (gone.addr, "check udp send ping")])
        wait_state(w, vip, pong, "up", r'^reply "pong ping"$')
        wait_state(w, vip, rx, "up", r"^reply \"version 1\.2\.3\.\"$")
        wait_state(w, vip, gone, "up")

        pong.reply = lambda d: None
        wait_state(w, vip, pong, "down", r"^no reply after 150 ms$",
                   "check failed: no reply after 150 ms")
        pong.reply = lambda d: b"pang"
        wait_state(w, vip, pong, "down", r'^reply "pang" without "pong"$')
        pong.reply = lambda d: b"pong"
        wait_state(w, vip, pong, "up", r'^reply "pong"$', 'check passed: reply "pong"')

        rx.reply = lambda d: b"version one"
        wait_state(w, vip, rx, "down", r"not matching", "check failed: reply")

        gone.close()
        wait_state(w, vip, gone, "down", r"^refused$", "check failed: refused")
        assert json_server(w, vip, pong.addr)["state"] == "up"
    finally:
        for s in (pong, rx, gone):
            s.close()


def test_dns_check_up_down_up(weir):
    """A DNS server answering the name with the expected address is up; a
    wrong rcode, an answer without the address, a truncated reply or
    silence put it down with the reason; replies to another id are
    ignored; the right answer brings it back."""
    state = {"mode": "ok"}

    def answer(q):
        mode = state["mode"]
        if mode == "ok":
            return dns_reply(q)
        if mode == "nxdomain":
            return dns_reply(q, rcode=3, addrs=())
        if mode == "other":
            return dns_reply(q, addrs=("10.0.0.2", "10.0.0.3"))
        if mode == "truncated":
            return dns_reply(q, tc=True, addrs=())
        if mode == "wrong_id":
            return dns_reply(q, id_xor=0x0101)
        return None

    dns = UdpServer(answer)
    plain = UdpServer(lambda q: dns_reply(q, rcode=5, addrs=()))
    try:
        w, vip = start(weir, [(dns.addr, "check dns name www.example.test answer 10.0.0.1"),
                              (plain.addr, "check dns name example.test type SOA rcode "
                                           "REFUSED recurse on")])
        wait_state(w, vip, dns, "up", r"^NOERROR, 10\.0\.0\.1$")
        wait_state(w, vip, plain, "up", r"^REFUSED, 0 answers$")

        for mode, last in (("nxdomain", r"^rcode NXDOMAIN$"),
                           ("other", r"^no answer 10\.0\.0\.1$"),
                           ("truncated", r"^truncated$"),
                           ("wrong_id", r"^no reply after 150 ms \(ignored: id mismatch\)$"),
                           ("silent", r"^no reply after 150 ms$")):
            state["mode"] = mode
            wait_state(w, vip, dns, "down", last)
            # up again between faults, so each one is seen going down
            state["mode"] = "ok"
            wait_state(w, vip, dns, "up", r"^NOERROR, 10\.0\.0\.1$",
                       "check passed: NOERROR, 10.0.0.1")
        assert json_server(w, vip, plain.addr)["state"] == "up"
    finally:
        dns.close()
        plain.close()


def test_check_words_config_and_weirctl(weir, tmpdir_path):
    """A mistake in a config file's words names FILE:LINE and what is
    wrong; weirctl refuses bad words with the same messages, takes good
    ones, and -S writes them back."""
    path = os.path.join(tmpdir_path, "bad.conf")
    with open(path, "w") as f:
        f.write(svc_conf(free_port(), ["127.0.0.1:9 { check udp expect pong; }"], proxy="udp"))
    r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and re.search(
        rf"{re.escape(path)}:\d+: check udp: say what to send", r.stderr), r.stderr

    w = weir(svc_conf(free_port(), ["127.0.0.1:9"], proxy="udp"))
    vip = f"127.0.0.1:{free_port()}"
    for check, msg in (("udp send a expect b expect_regex c", "expect or expect_regex, not both"),
                       ("dns type A", "say the name to ask for"),
                       ("dns name x rcode BOGUS", "'BOGUS' is not an rcode"),
                       ("dns name x answer ::1", "an IPv6 answer comes with type AAAA")):
        r = w.ctl("-A", "-u", vip, "-s", "rr", "--proxy", "udp", "--check", check, check=False)
        assert r.returncode != 0 and msg in r.stderr, (check, r.stderr)
    w.ctl("-A", "-u", vip, "-s", "rr", "--proxy", "udp", "--check",
          "dns name www.example.test type AAAA answer 2001:db8::1 recurse on")
    w.ctl("-a", "-u", vip, "-r", "127.0.0.1:9", "--check", "udp send_hex 0A0B expect ok")
    saved = w.ctl("-S").stdout
    assert "dns name www.example.test type AAAA answer 2001:db8::1 recurse on" in saved, saved
    assert "udp send_hex 0a0b expect ok" in saved, saved
