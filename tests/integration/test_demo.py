"""make run's demo (scripts/demo.sh), as a person at a terminal sees it:
the dashboard's address first, then a line a second with the answers per
backend, the dashboard answering; Ctrl-C (SIGINT to the whole foreground
group) stops everything and the script ends with 0, so make says nothing."""
import os
import re
import signal
import subprocess
import time

import pytest

from browser import ROOT
from conftest import can_connect, http_get, wait_for

PORTS = (8080, 8081, 9001, 9002, 9003)


def test_demo_runs_and_stops_on_ctrl_c(tmpdir_path):
    if not os.path.exists(os.path.join(ROOT, "build", "rel", "weir")):
        pytest.skip("build/rel not built (make all)")
    busy = [p for p in PORTS if can_connect(p)]
    if busy:
        pytest.skip(f"the demo's ports are taken here: {busy}")
    env = dict(os.environ, WEIR_SOCKET=os.path.join(tmpdir_path, "demo.sock"))
    p = subprocess.Popen([os.path.join(ROOT, "scripts", "demo.sh")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        first = p.stdout.readline()
        assert "dashboard is at http://127.0.0.1:8081/" in first, first
        counts = []
        deadline = time.monotonic() + 20
        while len(counts) < 3 and time.monotonic() < deadline:
            line = p.stdout.readline()
            m = re.search(r"backend-1 +(\d+) +backend-2 +(\d+) +backend-3 +(\d+)", line)
            if m:
                counts.append([int(x) for x in m.groups()])
        assert len(counts) == 3, counts
        # every backend answers, about evenly (rr)
        assert all(min(c) > 0 for c in counts[1:]), counts
        status, headers, body = http_get(8081, "/")
        assert status == 200 and b"uPlot" in body
    finally:
        os.killpg(p.pid, signal.SIGINT)     # what Ctrl-C does
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            raise
    rest = p.stdout.read()
    assert rc == 0, rest
    assert "demo stopped" in rest
    wait_for(lambda: not any(can_connect(x) for x in PORTS), 5, "the demo's ports closed")
