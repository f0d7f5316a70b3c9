#!/usr/bin/env python3
"""mkmmdb.py - writes small MaxMind DB files for tests.

Written from the format's public specification
(https://maxmind.github.io/MaxMind-DB/): a binary search tree over the
address bits, a 16-byte zero separator, the data section, then the
metadata marker b"\\xab\\xcd\\xefMaxMind.com" and the metadata map.

    mkmmdb.py [--ip-version 4|6] [--record-size 24|28|32] OUT.mmdb < RECORDS.json

RECORDS.json is a list of [network, value] pairs, e.g.
    [["10.0.0.0/8", {"country": {"iso_code": "DE"}}], ["2001:db8::/32", {...}]]
Values are dicts, lists, strings, non-negative integers, booleans, floats.
A more specific network wins inside a wider one, whatever the order. In an
IPv6 database an IPv4 network a.b.c.d/n lives at ::a.b.c.d/(96+n), the
IPv4 subtree at ::/96 where readers look for IPv4 addresses. From Python:
write(path, records, ip_version=6, record_size=None).
"""
import argparse
import ipaddress
import json
import struct
import sys
import time

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"

# data section type numbers (the spec's "Output Data Section")
T_POINTER, T_UTF8, T_DOUBLE, T_BYTES, T_UINT16, T_UINT32, T_MAP = 1, 2, 3, 4, 5, 6, 7
T_INT32, T_UINT64, T_UINT128, T_ARRAY, T_BOOLEAN = 8, 9, 10, 11, 14


def _control(type_, size):
    """The control byte(s) for a field of <type_> with <size>: the type in
    the top 3 bits (0 and an extra byte of type - 7 for types above 7),
    the size in the low 5 (29, 30, 31 announce 1, 2, 3 more size bytes)."""
    if size < 29:
        low, extra = size, b""
    elif size < 29 + 256:
        low, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        low, extra = 30, struct.pack(">H", size - 285)
    else:
        low, extra = 31, struct.pack(">I", size - 65821)[1:]
    if type_ <= 7:
        return bytes([(type_ << 5) | low]) + extra
    return bytes([low, type_ - 7]) + extra


def _uint(value):
    """Big-endian without leading zero bytes (0 is no bytes at all)."""
    return value.to_bytes(16, "big").lstrip(b"\0")


def encode(value):
    """One value in the data section's encoding."""
    if isinstance(value, bool):
        return _control(T_BOOLEAN, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _control(T_UTF8, len(raw)) + raw
    if isinstance(value, bytes):
        return _control(T_BYTES, len(value)) + value
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value}: only non-negative integers")
        raw = _uint(value)
        type_ = T_UINT32 if value < 1 << 32 else T_UINT64 if value < 1 << 64 else T_UINT128
        return _control(type_, len(raw)) + raw
    if isinstance(value, float):
        return _control(T_DOUBLE, 8) + struct.pack(">d", value)
    if isinstance(value, dict):
        out = _control(T_MAP, len(value))
        for k, v in value.items():
            out += encode(str(k)) + encode(v)
        return out
    if isinstance(value, (list, tuple)):
        return _control(T_ARRAY, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(f"{type(value).__name__}: no MaxMind DB encoding")


def _uint16(value):
    raw = _uint(value)
    return _control(T_UINT16, len(raw)) + raw


class _Node:
    __slots__ = ("child",)

    def __init__(self, left=None, right=None):
        self.child = [left, right]


class _Data:
    """A leaf: an offset into the data section."""
    __slots__ = ("offset",)

    def __init__(self, offset):
        self.offset = offset


def _bits(net):
    """The bits of <net>'s address, most significant first."""
    value, width = int(net.network_address), net.max_prefixlen
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def _tree(records, ip_version, data):
    """The search tree's root for <records>; the values' encodings go into
    the dict <data> (encoding -> offset, deduplicated)."""
    def leaf(value):
        raw = encode(value)
        if raw not in data:
            data[raw] = sum(len(r) for r in data)
        return _Data(data[raw])

    nets = []
    for network, value in records:
        net = ipaddress.ip_network(network, strict=True)
        if ip_version == 4 and net.version == 6:
            raise ValueError(f"{network}: an IPv6 network in an IPv4 database")
        bits, plen = _bits(net), net.prefixlen
        if ip_version == 6 and net.version == 4:
            bits, plen = [0] * 96 + bits, 96 + plen  # the IPv4 subtree at ::/96
        nets.append((plen, bits, leaf(value)))
    root = _Node()
    # shorter first: a more specific network then splits the leaf it lies in
    for plen, bits, value in sorted(nets, key=lambda n: n[0]):
        if plen == 0:
            root.child = [value, value]
            continue
        node = root
        for i in range(plen - 1):
            c = node.child[bits[i]]
            if not isinstance(c, _Node):
                c = _Node(c, c)
                node.child[bits[i]] = c
            node = c
        node.child[bits[plen - 1]] = value
    return root


def _number(root):
    """The tree's nodes in breadth-first order (root first)."""
    order, index, i = [root], {id(root): 0}, 0
    while i < len(order):
        for c in order[i].child:
            if isinstance(c, _Node) and id(c) not in index:
                index[id(c)] = len(order)
                order.append(c)
        i += 1
    return order, index


def _record_bytes(left, right, size):
    if size == 24:
        return left.to_bytes(3, "big") + right.to_bytes(3, "big")
    if size == 28:  # the middle byte: left's top nibble, then right's
        middle = ((left >> 24) << 4) | (right >> 24)
        return (left & 0xFFFFFF).to_bytes(3, "big") + bytes([middle]) + \
            (right & 0xFFFFFF).to_bytes(3, "big")
    return left.to_bytes(4, "big") + right.to_bytes(4, "big")


def build(records, ip_version=6, record_size=None, database_type="weir-test",
          languages=("en",), description=None):
    """The bytes of a MaxMind DB holding <records> ([(network, value)])."""
    data = {}
    root = _tree(records, ip_version, data)
    order, index = _number(root)
    node_count = len(order)
    data_len = sum(len(r) for r in data)
    biggest = node_count + 16 + data_len
    if record_size is None:
        record_size = 24 if biggest < 1 << 24 else 28 if biggest < 1 << 28 else 32
    if record_size not in (24, 28, 32) or biggest >= 1 << record_size:
        raise ValueError(f"record size {record_size} cannot hold {biggest}")

    def ref(c):
        if c is None:
            return node_count  # no data for this network
        if isinstance(c, _Node):
            return index[id(c)]
        return node_count + 16 + c.offset

    tree = b"".join(_record_bytes(ref(n.child[0]), ref(n.child[1]), record_size)
                    for n in order)
    section = b"".join(sorted(data, key=lambda r: data[r]))
    meta = _control(T_MAP, 9)
    for key, raw in (("node_count", encode(node_count)),
                     ("record_size", _uint16(record_size)),
                     ("ip_version", _uint16(ip_version)),
                     ("database_type", encode(database_type)),
                     ("languages", encode(list(languages))),
                     ("binary_format_major_version", _uint16(2)),
                     ("binary_format_minor_version", _uint16(0)),
                     ("build_epoch", _control(T_UINT64, 8) + struct.pack(">Q", int(time.time()))),
                     ("description", encode(description or {"en": "weir test database"}))):
        meta += encode(key) + raw
    return tree + b"\0" * 16 + section + METADATA_MARKER + meta


def write(path, records, **kw):
    with open(path, "wb") as f:
        f.write(build(records, **kw))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ip-version", type=int, choices=(4, 6), default=6)
    p.add_argument("--record-size", type=int, choices=(24, 28, 32))
    p.add_argument("out")
    a = p.parse_args(argv)
    records = json.load(sys.stdin)
    write(a.out, [tuple(r) for r in records], ip_version=a.ip_version,
          record_size=a.record_size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
