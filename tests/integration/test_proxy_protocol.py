"""PROXY protocol: a front weir sends the client's address (v1 or v2) to a
back weir that trusts it; the back one uses that address (scheduling,
X-Forwarded-For). Untrusted or malformed headers are refused."""
import socket

import pytest

from conftest import free_port


def get(port, path="/headers", src="127.0.0.1"):
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    return data.decode(errors="replace")


@pytest.mark.parametrize("front_mode", ["tcp", "http"])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_client_address_crosses_two_balancers(weir, backends, front_mode, version):
    b = backends("b")
    back, front = free_port(), free_port()
    conf = (f"workers 2;\n"
            f"service tcp 127.0.0.1:{back} {{\n proxy http;\n accept_proxy 127.0.0.0/24;\n"
            f" server {b.addr};\n}}\n"
            f"service tcp 127.0.0.1:{front} {{\n proxy {front_mode};\n send_proxy {version};\n"
            f" server 127.0.0.1:{back};\n}}\n")
    weir(conf)
    body = get(front, src="127.0.5.9")
    assert "200 OK" in body.splitlines()[0]
    # the back balancer saw the real client, not the front balancer
    xff = [l for l in body.splitlines() if l.lower().startswith("x-forwarded-for:")]
    assert xff and xff[-1].split(":", 1)[1].strip().endswith("127.0.5.9"), body


def test_trusted_front_without_header_is_refused(weir, backends):
    b = backends("b")
    port = free_port()
    weir(f"workers 1;\nservice tcp 127.0.0.1:{port} {{\n proxy tcp;\n"
         f" accept_proxy 127.0.0.1;\n server {b.addr};\n}}\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
    # an untrusted client talks plainly
    assert "b" in get(port, "/", src="127.0.0.2")
    # a trusted one with a valid header gets through, as the address it names
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 5555 80\r\nGET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    assert data.endswith(b"b\n")
