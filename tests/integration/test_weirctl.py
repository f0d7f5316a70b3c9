"""weirctl speaks ipvsadm: add/edit/delete/list/save/restore round-trip,
changes take effect at once, wrong commands change nothing."""
import re
import socket

import pytest

from conftest import can_connect, free_port, tcp_get, wait_for


def listing(w):
    return w.ctl("-L", "-n").stdout


def test_add_list_edit_delete(weir, backends):
    w = weir()
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-t", vip, "-s", "rr", "--proxy", "tcp")
    w.ctl("-a", "-t", vip, "-r", b1.addr, "-m", "-w", "2")
    w.ctl("-a", "-t", vip, "-r", b2.addr, "-w", "3")
    out = listing(w)
    lines = out.splitlines()
    assert lines[0] == "IP Virtual Server version 1.2.1 (size=4096)"
    assert lines[1] == "Prot LocalAddress:Port Scheduler Flags"
    assert lines[2] == "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
    assert lines[3] == f"TCP  {vip} rr"
    servers = sorted([b1, b2], key=lambda b: b.port)
    weights = {b1.addr: 2, b2.addr: 3}
    for line, b in zip(lines[4:6], servers):
        assert line == "  -> %-28s %-7s %-6d %-10u %-10u" % (b.addr, "Proxy", weights[b.addr], 0, 0)
    # it carries traffic at once, no restart
    got = {tcp_get(port) for _ in range(4)}
    assert got == {"b1", "b2"}
    # edit: scheduler and weight (-e without -w resets the weight to 1, as ipvsadm)
    w.ctl("-E", "-t", vip, "-s", "wrr", "-p", "60")
    w.ctl("-e", "-t", vip, "-r", b1.addr)
    out = listing(w)
    assert f"TCP  {vip} wrr persistent 60" in out
    assert re.search(rf"-> {re.escape(b1.addr)}\s+Proxy\s+1\s", out)
    # -E keeps weir's own options (still a proxy: still listening)
    assert can_connect(port)
    # delete a server, then the service
    w.ctl("-d", "-t", vip, "-r", b2.addr)
    assert b2.addr not in listing(w)
    w.ctl("-D", "-t", vip)
    assert vip not in listing(w)
    wait_for(lambda: not can_connect(port), what="listener closed")


def test_save_restore_round_trip(weir, backends):
    w = weir()
    p1, p2 = free_port(), free_port()
    rules = [
        f"-A -t 127.0.0.1:{p1} -s wrr --proxy tcp --connect-timeout 1500ms --max-conn 50",
        f"-a -t 127.0.0.1:{p1} -r 127.0.0.1:{p2 + 1} -g -w 5 -x 100 -y 10",
        f"-a -t 127.0.0.1:{p1} -r 127.0.0.1:{p2 + 2} -g -w 0",
        f"-A -u 10.9.8.7:53 -s sh -p 120 -M 255.255.255.0 -b sh-port",
        f"-a -u 10.9.8.7:53 -r 10.9.8.8:53 -m -w 1",
        f"-a -u 10.9.8.7:53 -r 10.9.8.9:53 -i -w 2 --tun-type ipip",
        f"-A -t [::1]:{p2} -s wlc --proxy tcp",
        f"-a -t [::1]:{p2} -r [::1]:{p2 + 3} -g -w 1",
    ]
    w.ctl("-R", stdin="\n".join(rules) + "\n")
    saved = w.ctl("-S", "-n").stdout
    assert sorted(saved.splitlines()) == sorted(rules)
    # clear, restore from the saved text: the same table
    before = listing(w)
    w.ctl("-C")
    assert listing(w).count("\n") == 3  # header and titles only
    w.ctl("-R", stdin=saved)
    assert w.ctl("-S", "-n").stdout == saved
    assert listing(w) == before


def test_restore_is_all_or_nothing(weir):
    w = weir()
    p = free_port()
    bad = f"-A -t 127.0.0.1:{p} -s rr --proxy tcp\n-a -t 127.0.0.1:{p} -r 127.0.0.1:1 -w 99999\n"
    r = w.ctl("-R", stdin=bad, check=False)
    assert r.returncode == 2
    assert "line 2" in r.stderr and "illegal weight" in r.stderr
    assert f"127.0.0.1:{p}" not in listing(w)
    assert not can_connect(p)


BAD_COMMANDS = [
    (["-A", "-t", "127.0.0.1:80", "-s", "nosuch"], 255, "unknown scheduler"),
    (["-A", "-t", "1.2.3.4"], 2, "Zero port specified for non-persistent service"),
    (["-A", "-s", "rr"], 2, "You need to supply the 'service-address' option for the 'add-service' command"),
    (["-a", "-t", "1.2.3.4:80"], 2, "You need to supply the 'real-server' option"),
    (["-d", "-t", "1.2.3.4:80", "-r", "1.2.3.5:80", "-m"], 2,
     "Illegal 'forwarding-method' option with the 'delete-server' command"),
    (["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5:80", "-w", "x"], 2, "illegal weight specified"),
    (["-A", "-t", "1.2.3.4:80", "-t", "1.2.3.4:81"], 2, "multiple 'service-address' options specified"),
    (["-A", "-t", "nonsense:80"], 2, "illegal virtual server address[:port] specified"),
    (["-L", "-Z"], 2, "invalid option `-Z'"),
    (["-Lq"], 2, "unknown option"),
    (["frobnicate"], 2, "unknown command"),
    (["-A", "-t", "1.2.3.4:80", "extra"], 2, "unexpected argument extra"),
    (["-a", "-t", "1.2.3.9:80", "-r", "1.2.3.5:80"], 255, "Service not defined"),
    (["-D", "-t", "1.2.3.9:80"], 255, "No such service"),
    (["-A", "-u", "1.2.3.4:80", "--proxy", "tcp"], 255, "needs a TCP service"),
    (["-L", "-t", "1.2.3.9:80"], 1, "No such service"),
]


@pytest.mark.parametrize("args,status,msg", BAD_COMMANDS)
def test_wrong_command_changes_nothing(weir, args, status, msg):
    w = weir()
    w.ctl("-A", "-t", "1.2.3.4:80", "-s", "rr")
    before = w.ctl("-S", "-n").stdout
    r = w.ctl(*args, check=False)
    assert r.returncode == status, (r.returncode, r.stderr)
    assert msg in r.stderr, r.stderr
    assert w.ctl("-S", "-n").stdout == before


def test_duplicate_service_and_server(weir):
    w = weir()
    w.ctl("-A", "-t", "1.2.3.4:80")
    r = w.ctl("-A", "-t", "1.2.3.4:80", check=False)
    assert r.returncode == 255 and "Service already exists" in r.stderr
    w.ctl("-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5")
    r = w.ctl("-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", check=False)
    assert r.returncode == 255 and "Destination already exists" in r.stderr
    # DR real servers take the service port, as in ipvsadm
    assert "-a -t 1.2.3.4:80 -r 1.2.3.5:80 -g -w 1" in w.ctl("-S", "-n").stdout
    # default scheduler is wlc, as ipvsadm's
    assert "TCP  1.2.3.4:80 wlc" in listing(w)


def test_bundled_flags_and_long_options(weir):
    w = weir()
    w.ctl("--add-service", "--tcp-service", "1.2.3.4:80", "--scheduler", "sh", "--persistent")
    w.ctl("-at", "1.2.3.4:80", "-r", "1.2.3.5:8080", "-m", "--weight=4")
    out = w.ctl("-Ln").stdout
    assert "TCP  1.2.3.4:80 sh persistent 300" in out
    assert re.search(r"-> 1\.2\.3\.5:8080\s+Masq\s+4\s", out)
    # -p without a value followed by another option takes the default
    w.ctl("-E", "-t", "1.2.3.4:80", "-p", "-s", "rr")
    assert "TCP  1.2.3.4:80 rr persistent 300" in w.ctl("-l", "-n").stdout
    # ipvsadm with no arguments lists
    assert "IP Virtual Server" in w.ctl().stdout


def test_admin_socket_refuses_bad_requests(weir):
    w = weir()
    # oversized: refused with an answer, daemon unharmed
    s = socket.socket(socket.AF_UNIX)
    s.connect(w.sock)
    try:
        s.sendall(b"-L " + b"x" * (1 << 20) + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    ans = s.recv(4096)
    s.close()
    assert ans.startswith(b"ERR 2 request too large"), ans
    # binary garbage and NUL bytes
    for junk in (b"\x00\x01\x02\n", b"\xff\xfe -A -t\n", b'-A -t "1.2.3.4:80\n'):
        s = socket.socket(socket.AF_UNIX)
        s.connect(w.sock)
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        ans = s.recv(4096)
        s.close()
        assert ans.startswith(b"ERR "), (junk, ans)
    # a client that says nothing is dropped after the timeout; others unaffected
    idle = socket.socket(socket.AF_UNIX)
    idle.connect(w.sock)
    assert "IP Virtual Server" in w.ctl("-L", "-n").stdout
    idle.close()
    assert w.proc.poll() is None


def test_socket_mode_0600(weir):
    import os
    import stat
    w = weir()
    assert stat.S_IMODE(os.stat(w.sock).st_mode) == 0o600


def test_weirctl_without_daemon(tmpdir_path):
    import os
    import subprocess
    from conftest import WEIRCTL
    r = subprocess.run([WEIRCTL, "--socket", os.path.join(tmpdir_path, "none.sock"), "-L", "-n"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "cannot talk to weir" in r.stderr
    r = subprocess.run([WEIRCTL, "-A", "-t"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "missing argument" in r.stderr
    r = subprocess.run([WEIRCTL, "-h"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--proxy" in r.stdout and "wrr" in r.stdout


def test_status_and_weirctl_env(weir, backends):
    import os
    import subprocess
    from conftest import WEIRCTL
    w = weir()
    env = dict(os.environ, WEIR_SOCKET=w.sock)
    r = subprocess.run([WEIRCTL, "status"], capture_output=True, text=True, env=env, timeout=10)
    assert r.returncode == 0
    assert "workers:" in r.stdout and "services: 0" in r.stdout


ADMIN_MAX_CLIENTS = 32   # src/ctl/admin.h


def test_too_many_admin_connections_shows_the_daemons_word(weir):
    """With every admin slot taken, weirctl prints what the daemon said
    ("too many admin connections") and exits 255, not "Connection reset by
    peer"; once a slot frees, it works again."""
    w = weir()
    held = []
    try:
        for _ in range(ADMIN_MAX_CLIENTS):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(w.sock)
            held.append(s)
        # the daemon has taken them all once one more is refused
        def refused():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(w.sock)
                s.settimeout(5)
                return s.recv(256).startswith(b"ERR 255 too many admin connections\n")
        wait_for(refused, what="the admin slots all taken")
        for _ in range(10):   # each run: the request races the refusal
            r = w.ctl("-L", "-n", check=False)
            assert r.returncode == 255, (r.returncode, r.stderr)
            assert r.stderr == "too many admin connections\n", r.stderr
            r = w.ctl("-A", "-t", "127.0.0.1:1", "-s", "rr", check=False)
            assert r.returncode == 255 and "too many admin connections" in r.stderr, r.stderr
    finally:
        for s in held:
            s.close()
    wait_for(lambda: w.ctl("-L", "-n", check=False).returncode == 0, what="a free slot")


def test_backup_server_round_trip(weir, backends):
    """--backup on -a, shown in -L after ipvsadm's columns, written by -S
    and read back by -R; -e keeps it, -e --backup off drops it."""
    w = weir()
    a, b = backends("a"), backends("b")
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w.ctl("-A", "-t", vip, "-s", "rr", "--proxy", "tcp")
    w.ctl("-a", "-t", vip, "-r", a.addr, "-w", "2")
    w.ctl("-a", "-t", vip, "-r", b.addr, "--backup")
    lines = listing(w).splitlines()
    rows = {l.split()[1]: l for l in lines if l.startswith("  ->")}
    assert rows[a.addr] == "  -> %-28s %-7s %-6d %-10u %-10u" % (a.addr, "Proxy", 2, 0, 0)
    assert rows[b.addr] == "  -> %-28s %-7s %-6d %-10u %-10u backup" % (b.addr, "Proxy", 1, 0, 0)
    # the primary takes everything
    assert {tcp_get(port) for _ in range(6)} == {"a"}
    health = w.ctl("-L", "-n", "--health").stdout
    assert re.search(rf"-> {re.escape(b.addr)}\s+standby\s", health), health
    saved = w.ctl("-S", "-n").stdout
    assert f"-a -t {vip} -r {b.addr} -g -w 1 --backup\n" in saved
    assert f"-a -t {vip} -r {a.addr} -g -w 2\n" in saved
    w.ctl("-C")
    w.ctl("-R", stdin=saved)
    assert w.ctl("-S", "-n").stdout == saved
    # -e without --backup keeps it; --backup off makes it a primary
    w.ctl("-e", "-t", vip, "-r", b.addr, "-w", "1")
    assert "backup" in w.ctl("-S", "-n").stdout
    w.ctl("-e", "-t", vip, "-r", b.addr, "--backup", "off")
    assert "backup" not in w.ctl("-S", "-n").stdout
    assert "backup" not in listing(w)
    wait_for(lambda: can_connect(port), what="listening")
    assert {tcp_get(port) for _ in range(6)} == {"a", "b"}
    # and the config form
    conf = w.ctl("-S", "--config").stdout
    w.ctl("-e", "-t", vip, "-r", b.addr, "--backup")
    conf = w.ctl("-S", "--config").stdout
    assert re.search(rf"server {re.escape(b.addr)}.* backup;", conf), conf


# --- ipvsadm's options weir refuses, each saying why (issue 15) ---------------

NO_TUNNEL = ("GUE and GRE tunnels are not built; weir's TUN (-i) is IP-in-IP "
             "(--tun-type ipip), which has no port or checksum options")
RS = ["-a", "-t", "1.2.3.4:80", "-r", "1.2.3.5", "-i"]
REFUSED = [
    (["-A", "-t", "1.2.3.4:81", "--pe", "sip"],
     "--pe: not supported by weir: persistence engines (--pe sip) are not built; "
     "persistence is by client address (-p, -M)"),
    (["-A", "--sctp-service", "1.2.3.4:80"],
     "--sctp-service: not supported by weir: SCTP services are not built; "
     "weir balances TCP (-t) and UDP (-u)"),
    (["-A", "-f", "1"], "--fwmark-service: not supported by weir: firewall-mark services "
     "are not built; a service is -t or -u VIP:PORT"),
    (["-A", "-t", "[2001:db8::1]:80", "-6"], "--ipv6: not supported by weir: -6 is for "
     "firewall-mark services, which are not built; an IPv6 service is -t or -u [ADDR]:PORT"),
    (RS + ["--tun-type", "gue", "--tun-port", "6080"],
     "--tun-type: not supported by weir: GUE and GRE tunnels are not built; weir's TUN (-i) "
     "is IP-in-IP (--tun-type ipip)"),
    (RS + ["--tun-type", "gre"], "--tun-type: not supported by weir: GUE and GRE tunnels"),
    (RS + ["--tun-port", "6080"], "--tun-port: not supported by weir: " + NO_TUNNEL),
    (RS + ["--tun-nocsum"], "--tun-nocsum: not supported by weir: " + NO_TUNNEL),
    (RS + ["--tun-csum"], "--tun-csum: not supported by weir: " + NO_TUNNEL),
    (RS + ["--tun-remcsum"], "--tun-remcsum: not supported by weir: " + NO_TUNNEL),
]


@pytest.mark.parametrize("args,msg", REFUSED)
def test_refused_ipvsadm_options_say_why(weir, args, msg):
    w = weir()
    w.ctl("-A", "-t", "1.2.3.4:80", "-s", "rr")
    before = w.ctl("-S", "-n").stdout
    r = w.ctl(*args, check=False)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert msg in r.stderr and "unknown option" not in r.stderr, r.stderr
    assert w.ctl("-S", "-n").stdout == before


def test_one_packet_scheduling_refused_for_packet_mode(weir):
    w = weir()
    r = w.ctl("-A", "-u", "1.2.3.4:53", "-o", check=False)
    assert r.returncode == 255
    assert "one-packet scheduling (-o) is not supported by weir for packet-mode services" \
        in r.stderr


NO_SYNC = "not supported yet: connection sync between directors is not built"


def test_sync_daemon_commands_are_parsed_then_refused(weir):
    w = weir()
    for args, what in (
            (["--start-daemon", "master"], "--start-daemon"),
            (["--start-daemon", "backup", "--mcast-interface", "eth1", "--syncid", "9",
              "--sync-maxlen", "1400", "--mcast-group", "239.1.2.3", "--mcast-port", "8849",
              "--mcast-ttl", "2"], "--start-daemon"),
            (["--start-daemon=master", "--mcast-group", "ff02::81"], "--start-daemon"),
            (["--stop-daemon", "master"], "--stop-daemon"),
            (["--stop-daemon", "backup", "--syncid", "9"], "--stop-daemon"),
            (["-L", "--daemon"], "--daemon")):
        r = w.ctl(*args, check=False)
        assert r.returncode == 255 and r.stderr == f"{what}: {NO_SYNC}\n", (args, r.stderr)
    # ipvsadm's checks of the values come first, with its messages
    for args, msg in (
            (["--start-daemon", "primary"], "illegal start-daemon parameter specified"),
            (["--stop-daemon", "primary"], "illegal start_daemon specified"),
            (["--start-daemon"], "--start-daemon: missing argument"),
            (["--start-daemon", "master", "--syncid", "256"], "illegal syncid specified"),
            (["--start-daemon", "master", "--mcast-port", "0"], "illegal mcast-port specified"),
            (["--start-daemon", "master", "--mcast-ttl", "0"], "illegal mcast-ttl specified"),
            (["--start-daemon", "master", "--sync-maxlen", "65508"],
             "illegal sync-maxlen specified"),
            (["--start-daemon", "master", "--mcast-group", "10.1.2.3"],
             "invalid IPv4 mcast-group `10.1.2.3'"),
            (["--stop-daemon", "master", "--mcast-ttl", "2"],
             "Illegal 'mcast-ttl' option with the 'stop-daemon' command"),
            (["-L", "--daemon", "--stats"], "options conflicts in the list command")):
        r = w.ctl(*args, check=False)
        assert r.returncode == 2 and r.stderr == msg + "\n", (args, r.stderr)
    assert w.proc.poll() is None


# --- versions -------------------------------------------------------------------

def test_versions_with_and_without_a_daemon(weir, tmpdir_path):
    import os
    import subprocess
    from conftest import WEIR, WEIRCTL
    line = re.compile(r"^weirctl v\d+\.\d+\.\d+ \(ipvsadm v1\.31 syntax, IPVS v1\.2\.1 listings\)$")
    r = subprocess.run([WEIR, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and re.match(r"^weir v\d+\.\d+\.\d+ \(ipvsadm v1\.31 syntax",
                                          r.stdout), r
    none = os.path.join(tmpdir_path, "none.sock")
    for opt in ("--version", "-v"):
        r = subprocess.run([WEIRCTL, "--socket", none, opt], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 0, r
        assert line.match(r.stdout.strip()), r.stdout
        assert "cannot talk to weir" in r.stderr and "the daemon's version is unknown" in r.stderr
    w = weir()
    r = w.ctl("-v")
    first, second = r.stdout.splitlines()
    assert line.match(first), first
    assert re.match(rf"^weir v\d+\.\d+\.\d+ \(daemon pid {w.proc.pid}, IP Virtual Server "
                    r"version 1\.2\.1\)$", second), second
    assert r.stderr == ""


# --- names: ipvsadm -S without -n, restored; -L without -n -------------------

HOSTS = """127.0.0.1 localhost
127.0.15.10 www.example.test www
127.0.15.11 web1.example.test
127.0.15.12 web2.example.test
"""

# ipvsadm -S without -n: names (weir's proxies, since a test has no XDP rig)
NAMED_RULES = """-A -t www.example.test:http -s rr --proxy tcp
-a -t www.example.test:http -r web1.example.test:http -g -w 2
-a -t www.example.test:http -r web2.example.test:8089 -g -w 1
-A -t www.example.test:https -s wlc --proxy tcp
-a -t www.example.test:https -r web1.example.test:https -g -w 1
-A -u www.example.test:domain -s rr --proxy udp
-a -u www.example.test:domain -r 127.0.15.13:domain -g -w 1
"""


@pytest.fixture
def named_ctl(tmpdir_path):
    """weirctl in a mount namespace whose /etc/hosts is the test's (names
    under .test) and whose nsswitch.conf reads files only: no DNS."""
    import os
    import subprocess
    from conftest import WEIRCTL
    hosts = os.path.join(tmpdir_path, "hosts")
    nss = os.path.join(tmpdir_path, "nsswitch.conf")
    with open(hosts, "w") as f:
        f.write(HOSTS)
    with open(nss, "w") as f:
        f.write("hosts: files\nservices: files\n")
    script = (f"mount --bind {hosts} /etc/hosts && mount --bind {nss} /etc/nsswitch.conf && "
              'exec "$0" "$@"')

    def run(w, *args, stdin=None, check=True):
        r = subprocess.run(["unshare", "-m", "sh", "-c", script, WEIRCTL, "--socket", w.sock,
                            *args], input=stdin, capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"weirctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r
    return run


def test_names_restore_save_and_list(weir, named_ctl):
    w = weir()
    named_ctl(w, "-R", stdin=NAMED_RULES)
    # the daemon holds numbers; -S -n and -L -n show them
    assert sorted(w.ctl("-S", "-n").stdout.splitlines()) == sorted([
        "-A -t 127.0.15.10:80 -s rr --proxy tcp",
        "-a -t 127.0.15.10:80 -r 127.0.15.11:80 -g -w 2",
        "-a -t 127.0.15.10:80 -r 127.0.15.12:8089 -g -w 1",
        "-A -t 127.0.15.10:443 -s wlc --proxy tcp",
        "-a -t 127.0.15.10:443 -r 127.0.15.11:443 -g -w 1",
        "-A -u 127.0.15.10:53 -s rr --proxy udp",
        "-a -u 127.0.15.10:53 -r 127.0.15.13:53 -g -w 1"])
    # -S without -n gives the file back, names and all
    assert sorted(named_ctl(w, "-S").stdout.splitlines()) == sorted(NAMED_RULES.splitlines())
    numeric = named_ctl(w, "-L", "-n").stdout
    assert numeric == w.ctl("-L", "-n").stdout
    named = named_ctl(w, "-L").stdout.splitlines()
    assert named[3:] == [
        "TCP  www.example.test:http rr",
        "  -> web1.example.test:http       Proxy   2      0          0         ",
        "  -> web2.example.test:8089       Proxy   1      0          0         ",
        "TCP  www.example.test:https wlc",
        "  -> web1.example.test:https      Proxy   1      0          0         ",
        "UDP  www.example.test:domain rr",
        "  -> 127.0.15.13:domain           Proxy   1      0          0         ",
    ], named
    assert named[:3] == numeric.splitlines()[:3]
    # the other views carry names too; a raw admin client still gets numbers
    stats = named_ctl(w, "-L", "--stats").stdout
    assert re.search(r"^TCP  www\.example\.test:http {13}\s+0", stats, re.M), stats
    assert "  -> web2.example.test:8089" in named_ctl(w, "-L", "--thresholds").stdout
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(w.sock)
    s.sendall(b"-L\n")
    s.shutdown(socket.SHUT_WR)
    raw = b""
    while chunk := s.recv(65536):
        raw += chunk
    s.close()
    assert b"TCP  127.0.15.10:80 rr" in raw and b"\x01" not in raw
    # one service by name; a name that does not resolve is ipvsadm's bad address
    one = named_ctl(w, "-L", "-t", "www.example.test:http").stdout
    assert one.splitlines()[2] == "TCP  www.example.test:http rr"
    r = named_ctl(w, "-a", "-t", "www.example.test:http", "-r", "nosuch.example.test",
                  check=False)
    assert r.returncode == 2 and r.stderr == "illegal real server address[:port] specified\n"
    r = named_ctl(w, "-R", stdin="-A -t www.example.test:8081 --proxy tcp\n"
                  "-A -t nosuch.example.test:http --proxy tcp\n", check=False)
    assert r.returncode == 2 and "line 2: illegal virtual server address[:port] specified" \
        in r.stderr
    assert "8081" not in w.ctl("-S", "-n").stdout
    # restoring what -S printed, names and all, gives the same table
    saved = named_ctl(w, "-S").stdout
    w.ctl("-C")
    named_ctl(w, "-R", stdin=saved)
    assert named_ctl(w, "-S").stdout == saved
