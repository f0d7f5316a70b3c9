"""The numbers operators watch (issue 5): the Prometheus text exposition
(`weirctl metrics` and the `metrics ADDR;` listener's GET /metrics), the
JSON of `weirctl -L --json`, `weirctl status --json` and GET /status, and
the `-L --stats` / `--http` columns. Each is checked against traffic the
test sent and counted itself. The Prometheus output goes through a strict
parser of the text format (below), and through promtool when installed."""
import json
import math
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (can_connect, free_port, http_get, json_server, svc_conf, wait_for,
                      weir_json)


# --- a strict parser of the Prometheus text exposition format 0.0.4 -----------

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$|NaN$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"summary": ("", "_sum", "_count"), "histogram": ("_bucket", "_sum", "_count")}


class PromError(AssertionError):
    pass


def _unescape(s, allowed, line_no):
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise PromError(f"line {line_no}: bad escape in {s!r}")
            out.append({"n": "\n", "\\": "\\", '"': '"'}[s[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _labels(text, pos, line_no):
    """Parses `{name="value",...}` from text[pos] == '{'; returns (dict,
    position after '}')."""
    labels = {}
    pos += 1
    while True:
        if text.startswith("}", pos):
            return labels, pos + 1
        m = LABEL_NAME.match(text, pos)
        if not m:
            raise PromError(f"line {line_no}: bad label name at {text[pos:]!r}")
        name = m.group(0)
        pos = m.end()
        if not text.startswith('="', pos):
            raise PromError(f"line {line_no}: label {name} without =\"")
        pos += 2
        start = pos
        while pos < len(text) and text[pos] != '"':
            if text[pos] == "\n":
                raise PromError(f"line {line_no}: raw newline in a label value")
            pos += 2 if text[pos] == "\\" else 1
        if pos >= len(text):
            raise PromError(f"line {line_no}: unterminated label value")
        if name in labels:
            raise PromError(f"line {line_no}: label {name} twice")
        if name.startswith("__"):
            raise PromError(f"line {line_no}: reserved label name {name}")
        labels[name] = _unescape(text[start:pos], '\\"n', line_no)
        pos += 1
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("}", pos):
            raise PromError(f"line {line_no}: expected ',' or '}}' at {text[pos:]!r}")


def _value(word, line_no):
    if not FLOAT.match(word):
        raise PromError(f"line {line_no}: {word!r} is not a float")
    return float(word.replace("Inf", "inf"))


def parse_prometheus(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}.
    Raises PromError on anything the format does not allow: a sample
    before its family's TYPE, a family's lines split apart, TYPE or HELP
    twice, bad names, labels, escapes or values, a duplicate series, a
    missing final newline."""
    if text and not text.endswith("\n"):
        raise PromError("the last line has no newline")
    families, order, current = {}, [], None
    seen_series = set()

    def family_of(sample_name):
        for fam, f in families.items():
            for suf in SUFFIXES.get(f["type"], ("",)):
                if sample_name == fam + suf:
                    return fam
        return None

    def enter(fam, line_no):
        nonlocal current
        if fam != current:
            if fam in order:
                raise PromError(f"line {line_no}: lines of {fam} are not together")
            order.append(fam)
            current = fam

    for no, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not METRIC_NAME.fullmatch(parts[2]):
                    raise PromError(f"line {no}: bad {parts[1]} line {line!r}")
                fam = parts[2]
                f = families.setdefault(fam, {"type": None, "help": None, "samples": []})
                enter(fam, no)
                if parts[1] == "HELP":
                    if f["help"] is not None:
                        raise PromError(f"line {no}: HELP of {fam} twice")
                    f["help"] = _unescape(parts[3] if len(parts) > 3 else "", "\\n", no)
                else:
                    if f["type"] is not None:
                        raise PromError(f"line {no}: TYPE of {fam} twice")
                    if f["samples"]:
                        raise PromError(f"line {no}: TYPE of {fam} after its samples")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise PromError(f"line {no}: bad type in {line!r}")
                    f["type"] = parts[3]
            continue
        m = METRIC_NAME.match(line)
        if not m:
            raise PromError(f"line {no}: bad metric name in {line!r}")
        name, pos = m.group(0), m.end()
        labels = {}
        if line.startswith("{", pos):
            labels, pos = _labels(line, pos, no)
        rest = line[pos:]
        if not rest.startswith(" "):
            raise PromError(f"line {no}: no blank before the value in {line!r}")
        words = rest.split(" ")[1:]
        if len(words) not in (1, 2) or "" in words:
            raise PromError(f"line {no}: expected 'value [timestamp]' in {line!r}")
        value = _value(words[0], no)
        if len(words) == 2 and not re.fullmatch(r"-?\d+", words[1]):
            raise PromError(f"line {no}: bad timestamp {words[1]!r}")
        fam = family_of(name)
        if fam is None:
            fam = name
            families[fam] = {"type": None, "help": None, "samples": []}
        enter(fam, no)
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise PromError(f"line {no}: series {key} twice")
        seen_series.add(key)
        families[fam]["samples"].append((name, labels, value))
    return families


def check_conventions(families):
    """What weir promises on top of the format: typed and documented
    families, counters ending in _total and never negative, summaries
    with quantile, _sum and _count for each series."""
    for fam, f in families.items():
        assert f["type"], f"{fam}: no TYPE"
        assert f["help"], f"{fam}: no HELP"
        assert fam.startswith("weir_"), fam
        if f["type"] == "counter":
            assert fam.endswith("_total"), f"counter {fam} does not end in _total"
            for name, labels, v in f["samples"]:
                assert v >= 0 and not math.isnan(v), (name, labels, v)
        if f["type"] == "gauge":
            assert not fam.endswith("_total"), f"gauge {fam} ends in _total"
        if f["type"] == "summary":
            series = {}
            for name, labels, v in f["samples"]:
                base = tuple(sorted((k, x) for k, x in labels.items() if k != "quantile"))
                series.setdefault(base, set()).add(name[len(fam):] or
                                                   ("q" if "quantile" in labels else "?"))
            for base, parts in series.items():
                assert parts == {"q", "_sum", "_count"}, (fam, base, parts)


def value(families, fam, **labels):
    """The one sample of <fam> whose labels include <labels>."""
    hits = [(n, l, v) for n, l, v in families[fam]["samples"]
            if n == fam and all(l.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (fam, labels, hits)
    return hits[0][2]


def sample(families, fam, name, **labels):
    hits = [v for n, l, v in families[fam]["samples"]
            if n == name and all(l.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (fam, name, labels, hits)
    return hits[0]


# --- the parser itself --------------------------------------------------------

GOOD_EXPOSITION = '''# HELP weir_a_total Things, with a \\\\ and a \\n in the help.
# TYPE weir_a_total counter
weir_a_total{service="TCP 127.0.0.1:80",x="q\\"uo\\\\te\\n"} 3
weir_a_total{service="TCP 127.0.0.1:81",} 4 1700000000000
# HELP weir_g A gauge.
# TYPE weir_g gauge
weir_g -1.5e-3
weir_g{a="1"} +Inf
weir_g{a="2"} NaN
# HELP weir_s A summary.
# TYPE weir_s summary
weir_s{quantile="0.99"} 0.25
weir_s_sum 12.5
weir_s_count 50
'''


def test_prometheus_parser_accepts_valid_text():
    fams = parse_prometheus(GOOD_EXPOSITION)
    check_conventions(fams)
    assert value(fams, "weir_a_total", service="TCP 127.0.0.1:80") == 3
    x = fams["weir_a_total"]["samples"][0][1]["x"]
    assert x == 'q"uo\\te\n'
    assert fams["weir_a_total"]["help"] == "Things, with a \\ and a \n in the help."
    assert sample(fams, "weir_s", "weir_s_count") == 50


@pytest.mark.parametrize("bad", [
    "weir_x 1",                                         # no final newline
    "# TYPE weir_x counter\nweir_x 1\n# TYPE weir_x counter\n",
    "weir_x 1\n# TYPE weir_x gauge\n",                   # TYPE after samples
    "# TYPE weir_x gauge\nweir_x 1\n# TYPE weir_y gauge\nweir_y 1\nweir_x{a=\"1\"} 2\n",
    "# TYPE weir_x gauge\nweir_x{a=\"1\",a=\"2\"} 1\n",
    "# TYPE weir_x gauge\nweir_x{1a=\"1\"} 1\n",
    "# TYPE weir_x gauge\nweir_x{a=\"\\q\"} 1\n",
    "# TYPE weir_x gauge\nweir_x{a=\"1\"\n",
    "# TYPE weir_x gauge\nweir_x{a=1} 1\n",
    "# TYPE weir_x gauge\nweir_x 1,5\n",
    "# TYPE weir_x gauge\nweir_x  1\n",
    "# TYPE weir_x gauge\nweir_x 1 2 3\n",
    "# TYPE weir_x gauge\nweir_x 1\nweir_x 2\n",
    "# TYPE weir-x gauge\n",
    "# TYPE weir_x meter\n",
    "# TYPE weir_x gauge\n9weir 1\n",
])
def test_prometheus_parser_refuses_invalid_text(bad):
    with pytest.raises(PromError):
        parse_prometheus(bad)


def test_conventions_refuse_counter_without_total():
    fams = parse_prometheus("# HELP weir_c c\n# TYPE weir_c counter\nweir_c 1\n")
    with pytest.raises(AssertionError):
        check_conventions(fams)


# --- weir's numbers against traffic ---------------------------------------------

def start(weir, servers, proxy="http", extra=(), metrics=True):
    port, mport = free_port(), free_port()
    top = [f"metrics 127.0.0.1:{mport}"] if metrics else []
    w = weir(svc_conf(port, [s.addr for s in servers], proxy=proxy, extra=extra, top=top))
    wait_for(lambda: can_connect(port), what="weir listening")
    w.ctl("-Z")      # forget the probe
    return w, port, mport, f"127.0.0.1:{port}"


def send_http(port, paths):
    """One request per path, each on its own connection (HTTP/1.0: the
    server closes). Returns (bytes sent, bytes received, statuses)."""
    sent = received = 0
    statuses = []
    for p in paths:
        req = f"GET {p} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(req)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        sent += len(req)
        received += len(data)
        statuses.append(int(data.split(b" ", 2)[1]))
    return sent, received, statuses


PATHS = ["/"] * 6 + ["/status?code=404"] * 2 + ["/status?code=503"] + ["/slow?ms=60"] * 3


def promtool_check(text):
    tool = shutil.which("promtool")
    if not tool:
        return
    r = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    # promtool exits 3 for lint warnings only; 1 is a parse error
    assert r.returncode in (0, 3), (r.stdout, r.stderr)


def test_prometheus_metrics_parse_and_match_traffic(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, mport, vip = start(weir, [a, b])
    sent, received, statuses = send_http(port, PATHS)
    n = len(PATHS)
    svc = {"service": f"TCP {vip}", "pool": "default"}

    status, headers, body = http_get(mport, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain"), headers
    assert "version=0.0.4" in headers["content-type"], headers
    text = body.decode()
    fams = parse_prometheus(text)
    check_conventions(fams)
    promtool_check(text)
    # weirctl metrics is the same text (the numbers have not moved)
    ctl_text = w.ctl("metrics").stdout
    ctl = parse_prometheus(ctl_text)
    check_conventions(ctl)
    assert set(ctl) == set(fams)
    assert (value(ctl, "weir_service_requests_total", **svc) ==
            value(fams, "weir_service_requests_total", **svc))

    assert value(fams, "weir_workers") == 2 and value(fams, "weir_services") == 1
    assert value(fams, "weir_service_connections_total", **svc) == n
    assert value(fams, "weir_service_requests_total", **svc) == n
    assert value(fams, "weir_service_retries_total", **svc) == 0
    assert value(fams, "weir_service_bytes_in_total", **svc) == sent
    assert value(fams, "weir_service_bytes_out_total", **svc) == received
    assert value(fams, "weir_service_active_connections", **svc) == 0
    classes = {c: value(fams, "weir_service_responses_total", **svc, **{"class": c})
               for c in ("1xx", "2xx", "3xx", "4xx", "5xx")}
    assert classes == {"1xx": 0, "2xx": 9, "3xx": 0, "4xx": 2, "5xx": 1}, classes
    # per server: the sums are the service's
    per = {s.addr: {"server": s.addr, **svc} for s in (a, b)}
    assert sum(value(fams, "weir_server_requests_total", **l) for l in per.values()) == n
    assert value(fams, "weir_server_requests_total", **per[a.addr]) == n // 2
    for fam in ("weir_server_up", "weir_server_weight", "weir_server_effective_weight"):
        assert all(value(fams, fam, **l) == 1 for l in per.values()), fam
    for l in per.values():
        states = {st: value(fams, "weir_server_state", **l, state=st)
                  for st in ("up", "down", "ejected", "drain", "maint", "quiesced")}
        assert states == {"up": 1, "down": 0, "ejected": 0, "drain": 0, "maint": 0,
                          "quiesced": 0}


def test_response_time_numbers(weir, backends):
    """Three requests of 100 ms and three quick ones: the response-time
    summary counts six with a sum of at least 0.3 s; the JSON mean and
    the -L --http RTms column say at least 50 ms."""
    a = backends("a")
    w, port, mport, vip = start(weir, [a])
    send_http(port, ["/slow?ms=100", "/"] * 3)
    fams = parse_prometheus(w.ctl("metrics").stdout)
    svc = {"service": f"TCP {vip}", "pool": "default"}
    count = sample(fams, "weir_service_response_seconds", "weir_service_response_seconds_count",
                   **svc)
    total = sample(fams, "weir_service_response_seconds", "weir_service_response_seconds_sum",
                   **svc)
    p99 = sample(fams, "weir_service_response_seconds", "weir_service_response_seconds",
                 **svc, quantile="0.99")
    srv = {"server": a.addr, **svc}
    scount = sample(fams, "weir_server_response_seconds", "weir_server_response_seconds_count",
                    **srv)
    mean_ms = weir_json(w, "-L", "-n")["services"][0]["stats"]["response_ms"]["mean"]
    out = w.ctl("-L", "-n", "--http", "--exact").stdout
    row = next(l for l in out.splitlines() if l.startswith("TCP")).split()
    problems = []
    if count != 6 or scount != 6:
        problems.append(f"response_seconds_count {count} (server {scount}), not 6")
    if not 0.3 <= total < 3:
        problems.append(f"response_seconds_sum {total}")
    if not 0.1 <= p99 < 3:
        problems.append(f"response_seconds p99 {p99}")
    if not mean_ms >= 50:
        problems.append(f"JSON response_ms.mean {mean_ms}")
    if not float(row[9]) >= 50:
        problems.append(f"-L --http RTms {row[9]}")
    assert not problems, problems


def test_http_proxy_counts_packets(weir, backends):
    """docs/weirctl.md: for proxy services a packet is one read that moved
    data; every request through the HTTP proxy moves some each way."""
    a = backends("a")
    w, port, mport, vip = start(weir, [a], metrics=False)
    send_http(port, ["/"] * 4)
    st = weir_json(w, "-L", "-n")["services"][0]["stats"]
    assert st["inpkts"] >= 4 and st["outpkts"] >= 4, st


def test_metrics_follow_state_changes(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, mport, vip = start(weir, [a, b])
    w.ctl("server", "-t", vip, b.addr, "drain")
    w.ctl("-e", "-t", vip, "-r", a.addr, "-w", "5")
    fams = parse_prometheus(http_get(mport, "/metrics")[2].decode())
    lb = {"service": f"TCP {vip}", "server": b.addr}
    la = {"service": f"TCP {vip}", "server": a.addr}
    assert value(fams, "weir_server_state", **lb, state="drain") == 1
    assert value(fams, "weir_server_state", **lb, state="up") == 0
    assert value(fams, "weir_server_weight", **la) == 5


def test_metrics_listener_other_paths_and_status(weir, backends):
    a = backends("a")
    w, port, mport, vip = start(weir, [a])
    assert http_get(mport, "/nope")[0] == 404
    status, headers, body = http_get(mport, "/status")
    assert status == 200 and headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    ctl = weir_json(w, "status")
    assert doc["services"] == ctl["services"] == 1
    assert doc["servers"] == 1 and doc["workers"] == 2
    assert doc["servers_by_state"]["up"] == 1
    c = socket.create_connection(("127.0.0.1", mport), timeout=5)
    c.sendall(b"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
    assert c.recv(100).split(b" ")[1] in (b"405", b"400", b"501")
    c.close()
    c = socket.create_connection(("127.0.0.1", mport), timeout=5)
    c.sendall(b"garbage\r\n\r\n")
    assert c.recv(100).startswith(b"HTTP/1.1 400")
    c.close()
    # still serving
    assert http_get(mport, "/metrics")[0] == 200


def test_metrics_listener_reads_requests_as_the_proxy_does(weir, backends):
    """The listener reads requests with the HTTP proxy's parser: a head
    that can be refused is answered 400 at once (not when a blank line
    that never comes would have ended it), an HTTP/1.1 request must name
    its Host, an unknown method is 405, an absolute-form target is
    understood."""
    a = backends("a")
    w, port, mport, vip = start(weir, [a])

    def ask(raw):
        with socket.create_connection(("127.0.0.1", mport), timeout=5) as c:
            c.sendall(raw)
            t0 = time.monotonic()
            head = c.recv(4096)
            return head, time.monotonic() - t0

    head, took = ask(b"GET /metrics HTTP/1.1\nHost: x\n")       # bare LF, no end
    assert head.startswith(b"HTTP/1.1 400 ") and took < 2.0, (head, took)
    head, _ = ask(b"GET /metrics HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    head, _ = ask(b"BREW /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD" in head, head
    head, _ = ask(b"GET /m\tetrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    head, _ = ask(b"GET http://127.0.0.1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"application/json" in head, head
    assert http_get(mport, "/metrics")[0] == 200


def test_metrics_listener_follows_reload(weir, backends):
    a = backends("a")
    w, port, mport, vip = start(weir, [a])
    new = free_port()
    w.write_config(open(w.conf).read().replace(f"metrics 127.0.0.1:{mport}",
                                               f"metrics 127.0.0.1:{new}"))
    w.ctl("reload")
    wait_for(lambda: can_connect(new), 5, "the new metrics port")
    assert http_get(new, "/metrics")[0] == 200
    wait_for(lambda: not can_connect(mport), 5, "the old metrics port closed")


def test_list_json_matches_traffic(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, mport, vip = start(weir, [a, b], metrics=False)
    sent, received, statuses = send_http(port, PATHS)
    n = len(PATHS)
    doc = weir_json(w, "-L", "-n")
    svc = next(s for s in doc["services"] if s["address"] == vip)
    assert (svc["proto"], svc["proxy"], svc["scheduler"]) == ("TCP", "http", "rr")
    st = svc["stats"]
    assert (st["conns"], st["requests"], st["retries"]) == (n, n, 0)
    assert (st["inbytes"], st["outbytes"]) == (sent, received)
    assert st["responses"] == {"1xx": 0, "2xx": 9, "3xx": 0, "4xx": 2, "5xx": 1}
    assert set(svc["rates"]) >= {"cps", "inpps", "outpps", "inbps", "outbps", "rps"}
    servers = {s["address"]: s for s in svc["servers"]}
    assert set(servers) == {a.addr, b.addr}
    for s in servers.values():
        assert (s["pool"], s["weight"], s["effective_weight"], s["state"]) == \
            ("default", 1, 1, "up")
        assert s["active_conns"] == 0
        assert set(s["health"]) >= {"check", "last", "latency_ms", "agent", "reason"}
        assert s["stats"]["requests"] == n // 2
    # -Z zeroes what JSON shows
    w.ctl("-Z")
    assert json_server(w, vip, a.addr)["stats"]["requests"] == 0


def test_stats_columns_match_tcp_traffic(weir, backends):
    """-L -n --stats --exact on a TCP proxy: Conns = connections made,
    InBytes/OutBytes = bytes each way, InPkts/OutPkts at least one read per
    connection that moved data."""
    e1, e2 = backends("e1", mode="echo"), backends("e2", mode="echo")
    w, port, mport, vip = start(weir, [e1, e2], proxy="tcp", metrics=False)
    k, size = 7, 3000
    got_total = 0
    for i in range(k):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(bytes([65 + i]) * size)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            assert got.startswith(bytes([65 + i]) * size)
            got_total += len(got)
    out = w.ctl("-L", "-n", "--stats", "--exact").stdout
    lines = out.splitlines()
    assert lines[1].split() == ["Prot", "LocalAddress:Port", "Conns", "InPkts", "OutPkts",
                                "InBytes", "OutBytes"], out
    svc = next(l for l in lines if l.startswith("TCP")).split()
    conns, inpkts, outpkts, inbytes, outbytes = map(int, svc[2:7])
    assert conns == k, out
    assert inbytes == k * size and outbytes == got_total, out
    assert inpkts >= k and outpkts >= k, out
    rows = [l.split() for l in lines if re.match(r"\s+-> \d", l)]
    assert sum(int(r[2]) for r in rows) == k, out
    # the metrics say the same
    fams = parse_prometheus(w.ctl("metrics").stdout)
    svcl = {"service": f"TCP {vip}"}
    assert value(fams, "weir_service_connections_total", **svcl) == k
    assert value(fams, "weir_service_bytes_in_total", **svcl) == k * size
    assert value(fams, "weir_service_packets_in_total", **svcl) == inpkts


def test_status_json(weir, backends):
    a, b = backends("a"), backends("b")
    w, port, mport, vip = start(weir, [a, b], metrics=False)
    w.ctl("server", "-t", vip, b.addr, "maint")
    doc = weir_json(w, "status")
    assert doc["workers"] == 2 and doc["services"] == 1 and doc["servers"] == 2
    assert doc["servers_by_state"]["up"] == 1 and doc["servers_by_state"]["maint"] == 1
    assert isinstance(doc["uptime_s"], (int, float)) and doc["version"]
