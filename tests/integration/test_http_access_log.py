"""The HTTP access log, buffered per worker: every line reaches the file,
whole, within about a second, at a clean stop and across reloads (the
files are reopened: logrotate's rename then SIGHUP works), with several
workers writing one file. The line format itself is tested in
test_http_proxy.py (LOG_RE)."""
import os
import signal
import threading
import time

from conftest import wait_for
from test_http_proxy import LOG_RE, conn, get, http_conf, start


def lines_of(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def keepalive_requests(port, n, path="/"):
    """<n> GETs on one keep-alive connection; every answer must be 200."""
    c = conn(port)
    try:
        for _ in range(n):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            assert r.status == 200
    finally:
        c.close()


def reloaded(w, count):
    wait_for(lambda: w.read_log().count("reloaded ") >= count, what=f"reload {count}")


def test_clean_stop_writes_every_line(weir, backends, tmpdir_path):
    b = backends("b1")
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [b], [f"access_log {path}"])
    for _ in range(5):
        keepalive_requests(port, 40)
    assert w.stop() == 0
    ls = lines_of(path)
    assert len(ls) == 200, len(ls)
    assert all(LOG_RE.match(l) for l in ls), [l for l in ls if not LOG_RE.match(l)][:3]


def test_lines_come_within_two_seconds(weir, backends, tmpdir_path):
    """No stop, no reload, far from a full buffer: the timer writes them."""
    b = backends("b1")
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [b], [f"access_log {path}"])
    keepalive_requests(port, 10)
    done = time.monotonic()
    wait_for(lambda: len(lines_of(path)) >= 10, timeout=2.5, what="10 lines within 2 s")
    assert time.monotonic() - done < 2.5
    time.sleep(0.2)
    assert len(lines_of(path)) == 10


def test_reload_after_rename_splits_old_and_new(weir, backends, tmpdir_path):
    """logrotate renames the file, then SIGHUP: the lines from before
    (written or still buffered) all go to the renamed file, the later ones
    to a new file at the path."""
    b = backends("b1")
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [b], [f"access_log {path}"])
    keepalive_requests(port, 30)
    wait_for(lambda: len(lines_of(path)) == 30, what="30 lines")
    keepalive_requests(port, 10)        # buffered, most likely, at the rename
    # (maybe on the other worker, which has not written to the file yet)
    os.rename(path, path + ".1")
    w.signal(signal.SIGHUP)
    reloaded(w, 1)
    wait_for(lambda: len(lines_of(path + ".1")) == 40, what="40 lines in the renamed file")
    for _ in range(5):
        assert get(port)[0] == 200
    wait_for(lambda: len(lines_of(path)) == 5, what="5 lines in the new file")
    assert w.stop() == 0
    assert len(lines_of(path + ".1")) == 40
    assert len(lines_of(path)) == 5


def test_reload_that_moves_or_ends_the_log_loses_nothing(weir, backends, tmpdir_path):
    b = backends("b1")
    first = os.path.join(tmpdir_path, "first.log")
    second = os.path.join(tmpdir_path, "second.log")
    w, port = start(weir, [b], [f"access_log {first}"])
    for _ in range(12):
        assert get(port)[0] == 200
    w.write_config(http_conf(port, [b.addr], [f"access_log {second}"]))
    w.signal(signal.SIGHUP)
    reloaded(w, 1)
    wait_for(lambda: len(lines_of(first)) == 12, what="12 lines in the first file")
    for _ in range(7):
        assert get(port)[0] == 200
    w.write_config(http_conf(port, [b.addr], ["access_log off"]))
    w.ctl("reload")
    reloaded(w, 2)
    wait_for(lambda: len(lines_of(second)) == 7, what="7 lines in the second file")
    for _ in range(5):
        assert get(port)[0] == 200
    assert w.stop() == 0
    assert len(lines_of(first)) == 12
    assert len(lines_of(second)) == 7


def test_workers_never_mix_lines(weir, backends, tmpdir_path):
    """Two workers, many clients at once, enough lines for both workers'
    buffers to fill and be written while the other writes: every line is
    whole and none is missing."""
    b1, b2 = backends("b1"), backends("b2")
    path = os.path.join(tmpdir_path, "access.log")
    w, port = start(weir, [b1, b2], [f"access_log {path}"], workers=2)
    errors = []
    long_path = "/?" + "q" * 150             # longer lines: more bytes per buffer

    def client():
        try:
            for _ in range(4):
                keepalive_requests(port, 50, long_path)
        except Exception as e:              # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=client) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert w.stop() == 0
    ls = lines_of(path)
    assert len(ls) == 12 * 4 * 50, len(ls)
    bad = [l for l in ls if not LOG_RE.match(l) or not l.endswith(f'"GET {long_path}"')]
    assert not bad, bad[:3]
