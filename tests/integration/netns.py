"""Network namespaces for weir's packet-mode (XDP) tests.

A Lab is a set of network namespaces sharing a prefix unique to this process
and lab (so leftovers of parallel or crashed runs never collide), plus one
"switch" namespace holding the bridges every host is plugged into. Traffic
never leaves these namespaces: hosts have addresses of their own in
10.77.0.0/16 and fd77::/16 and no route elsewhere.

Lab.close() ends the processes started in the lab's namespaces (by pid) and
deletes the namespaces, which destroys their veths and with them every XDP
and tc program attached to them. Use a Lab as a context manager or from a
fixture with a finally.

Run as a script (inside a namespace, with `ip netns exec`), this file is also
the tests' small clients and servers; see main() at the bottom. That part
uses the standard library only.
"""
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PASS_SRC = os.path.join(ROOT, "tests", "xdp_pass.bpf.c")

_seq = itertools.count()


def run(args, check=True, timeout=15, input=None):
    """Runs a command; returns the CompletedProcess (text). A failure says
    which command and what it printed."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} -> {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def build_pass_prog(outdir):
    """Builds tests/xdp_pass.bpf.c into <outdir>; returns the object's path."""
    obj = os.path.join(outdir, "xdp_pass.bpf.o")
    run(["clang", "-O2", "-target", "bpf", "-c", PASS_SRC, "-o", obj], timeout=60)
    return obj


class Netns:
    """One network namespace of a Lab."""

    def __init__(self, lab, short):
        self.lab, self.short = lab, short
        self.name = lab.prefix + short

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name, *args], check=check)

    def run(self, *cmd, check=True, timeout=15, input=None):
        return run(["ip", "netns", "exec", self.name, *cmd], check=check,
                   timeout=timeout, input=input)

    def sysctl(self, *settings):
        self.run("sysctl", "-qw", *settings)

    def popen(self, *cmd, log=None, **kw):
        """Starts <cmd> in this namespace; the lab ends it at close()."""
        return self.lab.popen(self, cmd, log, **kw)

    def py(self, *args, timeout=30, input=None):
        """Runs this file as a script here (see main()); returns its JSON."""
        r = self.run(sys.executable, __file__, *map(str, args), timeout=timeout, input=input)
        return json.loads(r.stdout)

    def py_popen(self, *args, **kw):
        return self.popen(sys.executable, "-u", __file__, *map(str, args), **kw)

    def listening(self, port, proto="t"):
        r = self.run("ss", "-Hln" + proto, f"sport = :{port}", check=False)
        return r.returncode == 0 and bool(r.stdout.strip())

    def xdp_attached(self, dev):
        """Whether <dev> has an XDP program (ip link shows "xdp..." then)."""
        out = self.ip("-d", "link", "show", "dev", dev).stdout
        return " xdp" in out or "prog/xdp" in out


class Lab:
    """Namespaces named <prefix><short>, a switch namespace with bridges,
    and the processes started in them."""

    def __init__(self, tag, pass_obj=None):
        """<tag> makes names readable; <pass_obj>, when given, is attached
        (native XDP) to the switch side of every veth, so frames a host sends
        with XDP_TX or redirect are received. Creates nothing yet: keep the
        Lab where a finally closes it, then call setup()."""
        self.prefix = f"wx{os.getpid()}{next(_seq)}{tag}-"
        self.pass_obj = pass_obj
        self.hosts = []
        self.procs = []
        self.logs = []
        self.switch = None

    def setup(self):
        self.switch = self._add("sw")
        return self

    def _add(self, short):
        ns = Netns(self, short)
        run(["ip", "netns", "add", ns.name])
        self.hosts.append(ns)
        ns.ip("link", "set", "lo", "up")
        # addresses usable at once: no duplicate address detection
        ns.sysctl("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        return ns

    def host(self, short):
        return self._add(short)

    def bridge(self, name):
        self.switch.ip("link", "add", name, "type", "bridge", "mcast_snooping", "0")
        self.switch.ip("link", "set", name, "up")

    def plug(self, host, bridge, ifname="eth0", addrs=()):
        """A veth from <host>'s <ifname> to a port of <bridge>, with
        <addrs> ("10.77.0.2/24", "fd77::2/64") on the host's side and TX
        checksum offload off (a partial checksum does not survive XDP_TX)."""
        port = f"{host.short}{ifname}"[:15]
        sw = self.switch
        sw.ip("link", "add", port, "type", "veth", "peer", "name", ifname, "netns", host.name)
        sw.ip("link", "set", port, "master", bridge, "up")
        if self.pass_obj:
            sw.ip("link", "set", "dev", port, "xdpdrv", "obj", self.pass_obj, "sec", "xdp")
        host.run("ethtool", "-K", ifname, "tx", "off")
        for a in addrs:
            host.ip("addr", "add", a, "dev", ifname, *(["nodad"] if ":" in a else []))
        host.ip("link", "set", ifname, "up")

    def popen(self, ns, cmd, log=None, **kw):
        if log is not None:
            f = open(log, "w")
            self.logs.append(f)
            kw.setdefault("stdout", f)
            kw.setdefault("stderr", subprocess.STDOUT)
        p = subprocess.Popen(["ip", "netns", "exec", ns.name, *cmd], **kw)
        self.procs.append(p)
        return p

    def close(self):
        """Ends what was started here and deletes the namespaces. Never
        raises: it runs after failures too."""
        for p in self.procs:
            try:
                if p.poll() is None:
                    p.kill()
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for ns in self.hosts:
            # anything else still running in a namespace of ours was started
            # by this test (weir, weir rs, a client): end it by pid
            try:
                pids = run(["ip", "netns", "pids", ns.name], check=False).stdout.split()
            except (OSError, subprocess.TimeoutExpired):
                pids = []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for ns in reversed(self.hosts):
            try:
                run(["ip", "netns", "del", ns.name], check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for f in self.logs:
            f.close()

    def __enter__(self):
        return self.setup()

    def __exit__(self, *exc):
        self.close()


if __name__ != "__main__":
    # weir in a namespace: conftest's Weir with its command run there
    from conftest import WEIR, Weir, wait_for

    class NsWeir(Weir):
        """conftest's Weir started inside <ns> (ip netns exec execs, so the
        Popen's pid is weir's). Its admin socket is a file: weirctl reaches it
        from any namespace. <config> None: weir starts without one, with the
        admin socket only. Inside a lab's namespace weir may choose its XDP
        interfaces itself (WEIR_XDP_AUTO on, which conftest turns off for
        the daemons it starts on this machine)."""

        def __init__(self, ns, tmpdir, config):
            super().__init__(tmpdir, config)
            self.ns = ns

        def start(self, wait=True):
            args = ["ip", "netns", "exec", self.ns.name, WEIR, "--socket", self.sock]
            if self.conf:
                args += ["-c", self.conf]
            self.logf = open(self.log, "w")
            env = dict(os.environ, WEIR_XDP_AUTO="on")
            self.proc = subprocess.Popen(args, stderr=self.logf, env=env)
            if wait:
                wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None,
                         what="weir admin socket")
                assert self.proc.poll() is None, f"weir exited early:\n{self.read_log()}"
            return self


# --- the clients and servers run inside namespaces ---------------------------------

def _addr(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, (host, int(port))


def _http(sock, keep):
    """One GET / on <sock>; returns the backend's name (its body)."""
    conn = "keep-alive" if keep else "close"
    sock.sendall(f"GET / HTTP/1.1\r\nHost: t\r\nConnection: {conn}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("short body")
        body += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"answer {head[:40]!r}")
    return body[:length].decode().strip()


def cmd_get(host, port, n, src="", cpus="", timeout=3.0):
    """<n> GETs, each on a new connection (a new source port), from address
    <src> if given: the names that answered, or "error: ..." for a connection
    that failed. <cpus> ("0" or "0,1"): the CPUs the connections are made
    from, in turn (a veth carries a packet on its sender's CPU, so this
    chooses the CPU the director's program sees it on)."""
    fam, addr = _addr(host, port)
    cpus = [int(c) for c in cpus.split(",") if c]
    out = []
    for i in range(int(n)):
        if cpus:
            os.sched_setaffinity(0, {cpus[i % len(cpus)]})
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(float(timeout))
                if src:
                    s.bind((src, 0))
                s.connect(addr)
                out.append(_http(s, keep=False))
        except OSError as e:
            out.append(f"error: {e!r}")
    return out


def cmd_hold(host, port, timeout=3.0):
    """Keep-alive connections driven from stdin, one command a line:
    "open" (answers its index), "get I" (the name answering on connection
    I), "quit". One JSON document a line on stdout."""
    fam, addr = _addr(host, port)
    conns = []
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "open":
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.settimeout(float(timeout))
                s.connect(addr)
                conns.append(s)
                ans = {"conn": len(conns) - 1, "sport": s.getsockname()[1]}
            elif words[0] == "get":
                ans = {"name": _http(conns[int(words[1])], keep=True)}
            else:
                break
        except OSError as e:
            ans = {"error": repr(e)}
        print(json.dumps(ans), flush=True)
    for s in conns:
        s.close()


def cmd_udp_echo(host, port, name):
    """Answers every datagram with "<name> <sender's address> <datagram>",
    from the address it came to (bind <host> to the VIP for DR and TUN)."""
    fam, addr = _addr(host, port)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(addr)
    while True:
        data, peer = s.recvfrom(2048)
        src = peer[0].removeprefix("::ffff:")
        s.sendto(f"{name} {src} ".encode() + data, peer)


def cmd_udp(host, port, n, timeout=2.0):
    """<n> datagrams, each from a new socket (a new flow): [name, the
    address the server saw] for each, or "error: ..."."""
    fam, addr = _addr(host, port)
    out = []
    for i in range(int(n)):
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(float(timeout))
            payload = f"ping{i}".encode()
            try:
                s.sendto(payload, addr)
                data, _ = s.recvfrom(2048)
                name, seen, echo = data.split(b" ", 2)
                out.append([name.decode(), seen.decode()] if echo == payload
                           else f"error: echo {data!r}")
            except OSError as e:
                out.append(f"error: {e!r}")
    return out


def cmd_prime(*hosts):
    """One UDP datagram to port 9 of each host: the kernel resolves their
    link-layer addresses, which the data path's next-hop lookup needs."""
    for h in hosts:
        fam, addr = _addr(h, 9)
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            try:
                s.sendto(b"x", addr)
            except OSError:
                pass
    time.sleep(0.2)
    return "ok"


def main(argv):
    cmds = {"get": cmd_get, "hold": cmd_hold, "udp-echo": cmd_udp_echo, "udp": cmd_udp,
            "prime": cmd_prime}
    res = cmds[argv[0]](*argv[1:])
    if res is not None:
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
