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
