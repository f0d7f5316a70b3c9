"""HTTP routing rules: Host (exact and wildcard), path prefix and regex,
method, any header (User-Agent, Accept-Language), each to a pool with its
own scheduler; first match wins; the service's own servers by default.
Reload keeps connections and applies new rules."""
import http.client
import signal

from conftest import free_port, wait_for


def ask(port, path="/", method="GET", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read().decode().strip()
    c.close()
    return body


def routing_conf(port, bs, extra_route=""):
    d, api, img, mob, zh, wild, post = bs
    return f"""workers 2;
service tcp 127.0.0.1:{port} {{
    proxy http;
    scheduler rr;
    server {d.addr};
    pool api {{ scheduler lc; server {api.addr}; }}
    pool img {{ server {img.addr}; }}
    pool mobile {{ server {mob.addr}; }}
    pool zh {{ server {zh.addr}; }}
    pool wild {{ server {wild.addr}; }}
    pool writes {{ server {post.addr}; }}
{extra_route}    route {{ host api.example.com; pool api; }}
    route {{ path_prefix /static/; path_regex "\\.(png|jpg)$"; pool img; }}
    route {{ header User-Agent "Mobile|Android"; pool mobile; }}
    route {{ header Accept-Language "^zh"; pool zh; }}
    route {{ host *.example.org; pool wild; }}
    route {{ method POST; pool writes; }}
}}
"""


def test_routes(weir, backends):
    bs = [backends(n) for n in ("default", "api", "img", "mobile", "zh", "wild", "writes")]
    port = free_port()
    w = weir(routing_conf(port, bs))
    assert ask(port, headers={"Host": "api.example.com"}) == "api"
    assert ask(port, headers={"Host": "API.example.com:8080"}) == "api"
    assert ask(port, "/static/a/b.png") == "img"
    assert ask(port, "/static/a/b.css") == "default"      # prefix without the regex
    assert ask(port, "/img.png") == "default"             # regex without the prefix
    assert ask(port, headers={"User-Agent": "Foo Android 12"}) == "mobile"
    assert ask(port, headers={"Accept-Language": "zh-CN,zh;q=0.9"}) == "zh"
    assert ask(port, headers={"Accept-Language": "en-US,zh;q=0.9"}) == "default"
    assert ask(port, headers={"Host": "a.b.example.org"}) == "wild"
    assert ask(port, headers={"Host": "example.org"}) == "default"
    assert ask(port, method="POST") == "writes"
    # first match wins: an api.example.com POST goes to api
    assert ask(port, method="POST", headers={"Host": "api.example.com"}) == "api"
    assert ask(port) == "default"
    # reload: a new first rule; the pools keep working
    w.write_config(routing_conf(port, bs, "    route { path_prefix /new; pool zh; }\n"))
    w.signal(signal.SIGHUP)
    wait_for(lambda: ask(port, "/new/x") == "zh", what="new route")
    assert ask(port, headers={"Host": "api.example.com"}) == "api"


def test_bad_routes_refused(weir, tmpdir_path):
    import os
    import subprocess
    from conftest import WEIR
    bad = [
        ("service tcp 127.0.0.1:1 {\n proxy http;\n route { pool nope; }\n}\n", 3, "no pool named"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n route { host a; }\n}\n", 3, "needs a pool"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n pool p { server 1.2.3.4:80; }\n"
         " route { path_regex \"(\"; pool p; }\n}\n", 4, "not a regular expression"),
        ("service tcp 127.0.0.1:1 {\n proxy tcp;\n pool p { server 1.2.3.4:80; }\n}\n", 1,
         "for 'proxy http' services"),
        ("service tcp 127.0.0.1:1 {\n proxy http;\n pool p { }\n pool p { }\n}\n", 4,
         "declared twice"),
    ]
    for text, line, why in bad:
        path = os.path.join(tmpdir_path, "r.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([WEIR, "-t", "-c", path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and f"{path}:{line}: " in r.stderr and why in r.stderr, r.stderr
