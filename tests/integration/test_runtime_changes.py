"""Changing schedulers, servers and weights with weirctl while traffic flows:
no request fails, nothing crashes (the daemon runs under ASan/UBSan)."""
import threading

from conftest import free_port, service_conf, tcp_get

# (not ovf: with every server over its weight a connection gets no server,
# which is IPVS's semantics, not a failure of the change)
SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq",
              "fo", "mh", "twos", "swrr", "p2c", "lrt"]


def test_changes_under_load(weir, backends):
    bs = [backends(f"b{i}") for i in range(4)]
    port = free_port()
    vip = f"127.0.0.1:{port}"
    w = weir(service_conf(port, [bs[0].addr, bs[1].addr], "rr"))
    errors, done = [], threading.Event()
    answered = [0]

    def load():
        try:
            while not done.is_set():
                tcp_get(port)
                answered[0] += 1
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(e))

    clients = [threading.Thread(target=load) for _ in range(4)]
    for t in clients:
        t.start()
    try:
        for i, sched in enumerate(SCHEDULERS * 2):
            w.ctl("-E", "-t", vip, "-s", sched, *(["-p", "30"] if i % 3 == 0 else []))
            extra = bs[2 + i % 2]
            w.ctl("-a", "-t", vip, "-r", extra.addr, "-w", str(1 + i % 5))
            # (weight 0 would leave sh/dh/mh clients whose hash lands on it with no
            # server, which is IPVS semantics, not a failure of the change)
            w.ctl("-e", "-t", vip, "-r", bs[0].addr, "-w", str(1 + i % 4))
            w.ctl("-e", "-t", vip, "-r", bs[1].addr, "-w", "2", "-x", "50", "-y", "10")
            w.ctl("-d", "-t", vip, "-r", extra.addr)
            w.ctl("-L", "-n", "--stats")
    finally:
        done.set()
        for t in clients:
            t.join(30)
    assert not errors, (errors[:5], w.read_log()[-3000:])
    assert answered[0] > 50
