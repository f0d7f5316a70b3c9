"""Backup servers (failover order, issue 13): a backup takes new work only
while no primary of its service can. With curl through a TCP and an HTTP
service: every request goes to the primary; when the primary's check fails,
to the backup; when it passes again, back to the primary."""
import re
import subprocess

import pytest

from conftest import backend_ctl, can_connect, free_port, svc_conf, wait_for

CHECK = ("check http path /health interval 200ms fast_interval 100ms rise 2 fall 2 "
         "timeout 200ms")


def curl(port, n=10):
    """Who answers <n> requests with curl, each on its own connection."""
    got = []
    for _ in range(n):
        r = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{port}/"],
                           capture_output=True, text=True, check=True)
        got.append(r.stdout.strip())
    return got


def state(w, rip):
    out = w.ctl("-L", "-n", "--health").stdout
    m = re.search(rf"-> {re.escape(rip)}\s+(\S+)", out)
    return m.group(1) if m else None


@pytest.mark.parametrize("proxy", ["tcp", "http"])
def test_backup_takes_over_while_the_primary_is_down(weir, backends, proxy):
    a, b = backends("primary"), backends("backup")
    port = free_port()
    w = weir(svc_conf(port, [a.addr, f"{b.addr} backup"], proxy=proxy, sched="wlc",
                      extra=[CHECK]))
    wait_for(lambda: can_connect(port), what="weir listening")
    assert set(curl(port)) == {"primary"}
    assert state(w, b.addr) == "standby"
    backend_ctl(a, "/health/set?code=500")
    wait_for(lambda: state(w, a.addr) == "down", what="primary down")
    assert state(w, b.addr) == "up"
    assert set(curl(port)) == {"backup"}
    backend_ctl(a, "/health/set?code=200")
    wait_for(lambda: state(w, a.addr) == "up", what="primary back")
    assert set(curl(port)) == {"primary"}
    assert state(w, b.addr) == "standby"


def test_backup_when_the_primaries_are_drained_or_quiesced(weir, backends):
    """Drained, then weight 0: the same as down, for a backup. Two
    backups share the work by the scheduler (rr)."""
    a, b, c = backends("primary"), backends("b1"), backends("b2")
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w = weir(svc_conf(port, [a.addr, f"{b.addr} backup", f"{c.addr} backup"], proxy="tcp"))
    wait_for(lambda: can_connect(port), what="weir listening")
    assert set(curl(port, 6)) == {"primary"}
    w.ctl("server", "-t", vip, a.addr, "drain")
    assert sorted(set(curl(port, 6))) == ["b1", "b2"]
    w.ctl("server", "-t", vip, a.addr, "ready")
    assert set(curl(port, 6)) == {"primary"}
    w.ctl("-e", "-t", vip, "-r", a.addr, "-w", "0")
    assert sorted(set(curl(port, 6))) == ["b1", "b2"]
