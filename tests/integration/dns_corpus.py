"""Malformed-query corpus for weir's DNS service: queries, most of them
broken, each with the verdict an authoritative server owes it.

This module is the source of the corpus. The unit tests read the same cases
from tests/unit/proto/dns_corpus.h, which this module writes:

    python3 tests/integration/dns_corpus.py --write   # after changing a case
    python3 tests/integration/dns_corpus.py --check   # the header is current

The DNS server's integration tests import CASES and send them over the
wire. Verdicts (proto/dns_server.c gives each one's RFC basis):

- "answer":  a query the server answers (NOERROR, NXDOMAIN, REFUSED... as
             its zone says; never FORMERR);
- "drop":    no response at all (a response with QR set; fewer bytes than a
             header);
- "formerr": rcode FORMERR;
- "notimp":  rcode NOTIMP (an opcode other than QUERY);
- "badvers": extended rcode BADVERS (16) in an OPT record (EDNS version > 0).

Every case is (name, verdict, bytes); names are unique C-friendly words.
"""
import os
import struct
import sys

VERDICTS = ("answer", "drop", "formerr", "notimp", "badvers")

QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010
T = dict(A=1, NS=2, CNAME=5, SOA=6, PTR=12, MX=15, TXT=16, AAAA=28, SRV=33, NAPTR=35, OPT=41,
         DS=43, RRSIG=46, NSEC=47, DNSKEY=48, TLSA=52, SVCB=64, HTTPS=65, SPF=99, IXFR=251,
         AXFR=252, ANY=255, CAA=257)


# --- builders ----------------------------------------------------------------------

def header(ident=0x1234, flags=RD, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!6H", ident, flags, qd, an, ns, ar)


def name(text):
    """Wire form of a dotted name ("." the root); labels taken as they are."""
    if text == ".":
        return b"\0"
    out = b""
    for label in text.rstrip(".").split("."):
        lab = label.encode()
        out += bytes([len(lab)]) + lab
    return out + b"\0"


def question(qname="www.example.test", qtype=1, qclass=1):
    wire = qname if isinstance(qname, bytes) else name(qname)
    return wire + struct.pack("!HH", qtype, qclass)


def rr(owner=b"\xc0\x0c", rtype=1, rclass=1, ttl=300, rdata=b"\x0a\x00\x00\x01"):
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def option(code, data):
    return struct.pack("!HH", code, len(data)) + data


def ecs(family=1, source=24, scope=0, addr=b"\xc0\x00\x02"):
    return option(8, struct.pack("!HBB", family, source, scope) + addr)


def opt(size=1232, ext=0, version=0, do=False, options=b"", owner=b"\0"):
    ttl = ext << 24 | version << 16 | (0x8000 if do else 0)
    return owner + struct.pack("!HHIH", 41, size, ttl, len(options)) + options


def query(q=None, flags=RD, ident=0x1234, additional=(), qd=1, an=0, ns=0, body=b""):
    """A query: header, question <q> (default www.example.test A), then
    <body> (records of the answer/authority sections), then the additional
    records; ARCOUNT counts them."""
    q = question() if q is None else q
    return (header(ident, flags, qd, an, ns, len(additional)) + q + body
            + b"".join(additional))


def edns(options=b"", **kw):
    return query(additional=[opt(options=options, **kw)])


# --- the cases ---------------------------------------------------------------------

def _cases():
    c = []

    def add(case, verdict, data):
        assert verdict in VERDICTS, verdict
        c.append((case, verdict, bytes(data)))

    good = query()
    good_edns = edns()

    # shorter than a header: nothing to answer with
    for n in range(12):
        add(f"short_{n}", "drop", good[:n])

    # QR set: a response is never answered, whatever else it holds
    add("qr_query", "drop", query(flags=QR | RD))
    add("qr_with_answer", "drop", header(flags=QR | AA, an=1) + question() + rr())
    add("qr_header_only", "drop", header(flags=QR, qd=0))
    add("qr_opcode_update", "drop", query(flags=QR | 5 << 11))
    add("qr_garbage", "drop", header(flags=QR) + b"\xff" * 20)
    add("qr_formerr_reply", "drop", header(flags=QR | 1) + question())
    add("qr_edns", "drop", query(flags=QR, additional=[opt()]))

    # every opcode but QUERY: NOTIMP, even when the rest is no query at all
    for op in range(1, 16):
        add(f"opcode_{op}", "notimp", query(flags=op << 11 | RD))
    add("opcode_notify_soa", "notimp", query(question(qtype=T["SOA"]), flags=4 << 11 | AA))
    add("opcode_update_zone", "notimp",
        header(flags=5 << 11, qd=1, ns=1) + question(qtype=T["SOA"]) + rr())
    add("opcode_status_empty", "notimp", header(flags=2 << 11, qd=0))
    add("opcode_iquery_garbage", "notimp", header(flags=1 << 11) + b"\xc0\x00\xff")
    add("opcode_dso_tcp", "notimp", header(flags=6 << 11, qd=0) + b"\x00\x01\x00\x00")

    # question counts
    add("qdcount_0", "formerr", header(qd=0))
    add("qdcount_0_body", "formerr", header(qd=0) + question())
    add("qdcount_0_edns", "formerr", header(qd=0, ar=1) + opt())
    add("qdcount_2", "formerr", query(question() + question("www.example.test", 28), qd=2))
    add("qdcount_2_one_there", "formerr", query(qd=2))
    add("qdcount_3", "formerr", query(question() * 3, qd=3))
    add("qdcount_65535", "formerr", query(qd=65535))

    # answer and authority records in a query
    add("ancount_1", "formerr", query(an=1, body=rr()))
    add("ancount_1_missing", "formerr", query(an=1))
    add("nscount_1", "formerr", query(ns=1, body=rr(rtype=T["NS"], rdata=name("ns.example.test"))))
    add("nscount_1_missing", "formerr", query(ns=1))
    add("an_and_ns", "formerr", query(an=1, ns=1, body=rr() + rr()))
    add("ancount_65535", "formerr", query(an=65535))
    add("ancount_edns", "formerr", query(an=1, body=rr(), additional=[opt()]))

    # the question cut at every byte, with and without EDNS after it
    q = question()
    for n in range(len(q)):
        add(f"question_cut_{n}", "formerr", header() + q[:n])
    add("question_cut_edns", "formerr", header(ar=1) + q[:-2] + opt())

    # names: label types, lengths, compression
    add("label_64", "formerr", query(question(b"\x40" + b"a" * 64 + b"\0")))
    add("label_type_01", "formerr", query(question(b"\x41" + b"a" * 65 + b"\0")))
    add("label_type_10", "formerr", query(question(b"\x80\0")))
    add("label_type_10_long", "formerr", query(question(b"\xbf" + b"a" * 63 + b"\0")))
    add("label_past_end", "formerr", header() + b"\x20abc")
    add("label_no_root", "formerr", header() + b"\3www\7example\4test")
    lab63 = b"\x3f" + b"b" * 63
    add("name_255", "answer", query(question(lab63 * 3 + b"\x3d" + b"c" * 61 + b"\0")))
    add("name_256", "formerr", query(question(lab63 * 3 + b"\x3e" + b"c" * 62 + b"\0")))
    add("name_257", "formerr", query(question(lab63 * 4 + b"\0")))
    add("name_300", "formerr", query(question(b"\x01a" * 150 + b"\0")))
    add("name_127_labels", "answer", query(question(b"\x01a" * 127 + b"\0")))
    add("name_128_labels", "formerr", query(question(b"\x01a" * 128 + b"\0")))
    add("label_63", "answer", query(question(lab63 + b"\4test\0")))
    for off in (0, 2, 4, 6, 11):
        add(f"pointer_into_header_{off}", "formerr",
            query(question(bytes([0xc0, off]))))
    add("pointer_to_itself", "formerr", query(question(b"\xc0\x0c")))
    add("pointer_forward", "formerr", query(question(b"\xc0\x0e\0")))
    add("pointer_after_label_self", "formerr", query(question(b"\3www\xc0\x0c")))
    add("pointer_far_forward", "formerr", query(question(b"\xc0\xff")))
    add("pointer_beyond_message", "formerr", query(question(b"\xff\xff")))
    add("pointer_cut", "formerr", header() + b"\3www\xc0")
    add("name_single_label", "answer", query(question("a")))
    # a name that leads back to itself: x.x.x... (34: "x", then a pointer to 34)
    add("pointer_loop_self", "formerr",
        query(additional=[b"\1x\xc0\x22" + struct.pack("!HHIH", 1, 1, 0, 0)]))
    # two names pointing at each other: a record at 34 whose rdata (at 45) points to the
    # next record's name (47), which points back to 45
    add("pointer_loop_two", "formerr",
        query(additional=[rr(owner=b"\0", rtype=99, rdata=b"\xc0\x2f"),
                          rr(owner=b"\xc0\x2d", rtype=99, rdata=b"")]))
    # an additional record named by a pointer back into the question: fine
    add("pointer_additional_to_question", "answer",
        query(additional=[rr(owner=b"\xc0\x0c", rtype=T["A"])]))
    add("pointer_additional_into_header", "formerr",
        query(additional=[rr(owner=b"\xc0\x04", rtype=T["A"])]))
    # trailing bytes after the last record
    add("trailing_1", "formerr", good + b"\0")
    add("trailing_4", "formerr", good + b"\xde\xad\xbe\xef")
    add("trailing_question", "formerr", good + question())
    add("trailing_after_opt", "formerr", good_edns + b"\0")
    add("trailing_opt_uncounted", "formerr", good + opt())

    # the OPT record: where, how many, its name, cut short
    add("opt_twice", "formerr", query(additional=[opt(), opt()]))
    add("opt_twice_differing", "formerr",
        query(additional=[opt(size=512), opt(size=4096, do=True)]))
    add("opt_in_answer", "formerr", query(an=1, body=opt()))
    add("opt_in_authority", "formerr", query(ns=1, body=opt()))
    add("opt_name_www", "formerr", query(additional=[opt(owner=name("www"))]))
    add("opt_name_question", "formerr", query(additional=[opt(owner=b"\xc0\x0c")]))
    add("opt_name_label_type", "formerr", query(additional=[opt(owner=b"\x40")]))
    # a pointer to the question's final root byte is the root
    add("opt_name_pointer_root", "answer",
        query(additional=[opt(owner=bytes([0xc0, 12 + len(name("www.example.test")) - 1]))]))
    o = opt(options=ecs())
    for n in range(len(o)):
        add(f"opt_cut_{n}", "formerr", header(ar=1) + question() + o[:n])
    add("arcount_2_one_there", "formerr", header(ar=2) + question() + opt())
    add("opt_rdlen_past_end", "formerr",
        header(ar=1) + question() + b"\0" + struct.pack("!HHIH", 41, 1232, 0, 8) + b"\0\x0a\0\x02")
    add("option_past_rdata", "formerr", edns(options=b"\0\x0a\0\x08\1\2\3\4"))
    add("option_header_cut", "formerr", edns(options=b"\0\x0a\0"))
    add("option_one_byte", "formerr", edns(options=b"\0"))

    # EDNS versions
    add("edns_version_1", "badvers", edns(version=1))
    add("edns_version_255", "badvers", edns(version=255))
    add("edns_version_1_do", "badvers", edns(version=1, do=True))
    add("edns_version_1_bad_ecs", "badvers", edns(version=1, options=ecs(family=9)))
    add("edns_version_1_bad_option", "badvers", edns(version=1, options=b"\1"))
    add("edns_version_2_any", "badvers",
        query(question(qtype=T["ANY"]), additional=[opt(version=2)]))
    # ... but a structural fault comes first
    add("edns_version_1_twice", "formerr", query(additional=[opt(version=1), opt(version=1)]))
    add("edns_version_1_trailing", "formerr", edns(version=1) + b"\0")
    add("edns_version_1_qr", "drop", query(flags=QR, additional=[opt(version=1)]))

    # Client Subnet
    v6 = b"\x20\x01\x0d\xb8"
    # (case, family, source prefix, scope prefix, address bytes)
    for case, fam, src, scope, addr in (
            ("family_0", 0, 0, 0, b""),
            ("family_3", 3, 24, 0, b"\xc0\0\2"),
            ("family_65535", 65535, 24, 0, b"\xc0\0\2"),
            ("v4_source_33", 1, 33, 0, b"\xc0\0\2\1\0"),
            ("v4_source_255", 1, 255, 0, b"\1" * 32),
            ("v6_source_129", 2, 129, 0, b"\x20" + b"\0" * 16),
            ("v4_bits_past_24", 1, 24, 0, b"\xc0\0\2\1"),
            ("v4_bit_past_23", 1, 23, 0, b"\xc0\0\3"),
            ("v4_bit_past_1", 1, 1, 0, b"\xc0"),
            ("v4_bit_past_31", 1, 31, 0, b"\xc0\0\2\1"),
            ("v6_56_addr_8", 2, 56, 0, v6 + b"\0\0\1\1"),
            ("v6_bit_past_57", 2, 57, 0, v6 + b"\0\0\1\x41"),
            ("v4_addr_too_long", 1, 24, 0, b"\xc0\0\2\0"),
            ("v4_addr_too_short", 1, 24, 0, b"\xc0\0"),
            ("v4_0_with_byte", 1, 0, 0, b"\0"),
            ("v4_32_short", 1, 32, 0, b"\xc0\0\2"),
            ("v6_64_short", 2, 64, 0, v6 + b"\0\0\0"),
            ("v6_48_long", 2, 48, 0, v6 + b"\0\0\0\0"),
            ("v6_full_addr_short_prefix", 2, 64, 0, v6 + b"\0" * 12),
            ("scope_1", 1, 24, 1, b"\xc0\0\2"),
            ("scope_24", 1, 24, 24, b"\xc0\0\2"),
            ("scope_v6_64", 2, 56, 64, v6 + b"\0\0\1")):
        add(f"ecs_{case}", "formerr", edns(options=ecs(fam, src, scope, addr)))
    add("ecs_length_3", "formerr", edns(options=option(8, b"\0\1\x18")))
    add("ecs_length_0", "formerr", edns(options=option(8, b"")))
    add("ecs_twice", "formerr", edns(options=ecs() + ecs()))
    add("ecs_twice_families", "formerr",
        edns(options=ecs() + ecs(family=2, source=48, addr=b"\x20\x01\x0d\xb8\0\0")))
    add("ecs_good_then_bad", "formerr", edns(options=ecs() + ecs(scope=8)))
    add("ecs_past_rdata", "formerr", edns(options=ecs()[:-1]))

    # good queries: every type, odd case, with and without EDNS
    for tname, tnum in sorted(T.items(), key=lambda kv: kv[1]):
        q = question("WwW.ExAmPlE.TeSt", tnum)
        add(f"type_{tname.lower()}", "answer", query(q))
        add(f"type_{tname.lower()}_edns", "answer", query(q, additional=[opt()]))
    for tnum in (0, 3, 254, 256, 4096, 65280, 65535):
        add(f"type_{tnum}", "answer", query(question(qtype=tnum)))
    for cname, cnum in (("ch", 3), ("hs", 4), ("none", 254), ("any", 255), ("0", 0),
                        ("65535", 65535)):
        add(f"class_{cname}", "answer", query(question(qclass=cnum)))
    add("name_root", "answer", query(question(".", T["NS"])))
    add("name_upper", "answer", query(question("WWW.EXAMPLE.TEST")))
    add("name_apex", "answer", query(question("example.test", T["SOA"])))
    add("name_binary_label", "answer", query(question(b"\3\0\xff.\4test\0")))
    add("name_dot_in_label", "answer", query(question(b"\3a.b\4test\0")))
    add("id_0", "answer", query(ident=0))
    add("id_ffff", "answer", query(ident=0xffff))
    add("flags_none", "answer", query(flags=0))
    add("flags_cd", "answer", query(flags=RD | CD))
    add("flags_ad", "answer", query(flags=AD))
    add("flags_z", "answer", query(flags=Z))
    add("flags_tc", "answer", query(flags=TC))
    add("flags_aa_ra", "answer", query(flags=AA | RA))
    add("flags_rcode_set", "answer", query(flags=RD | 5))
    for size in (0, 1, 511, 512, 513, 1232, 1452, 4096, 65535):
        add(f"edns_size_{size}", "answer", edns(size=size))
    add("edns_do", "answer", edns(do=True))
    add("edns_z_bits", "answer", query(additional=[opt(do=True) [:7] + b"\xff\xff" + b"\0\0"]))
    add("edns_ext_rcode_set", "answer", edns(ext=1))
    add("edns_cookie", "answer", edns(options=option(10, b"\1\2\3\4\5\6\7\x08")))
    add("edns_padding", "answer", edns(options=option(12, b"\0" * 64)))
    add("edns_nsid", "answer", edns(options=option(3, b"")))
    add("edns_unknown_option", "answer", edns(options=option(65001, b"xyz")))
    add("edns_cookie_and_ecs", "answer", edns(options=option(10, b"\1" * 8) + ecs()))
    add("edns_additional_a_before", "answer",
        query(additional=[rr(owner=name("glue.test")), opt()]))
    add("edns_additional_a_after", "answer", query(additional=[opt(), rr(owner=b"\0")]))
    add("additional_a_only", "answer", query(additional=[rr(owner=name("x.test"))]))
    add("additional_unknown_type", "answer",
        query(additional=[rr(owner=name("key.test"), rtype=65280, rclass=255, ttl=0,
                             rdata=b"\0" * 20)]))
    for case, fam, src, addr in (
            ("v4_0", 1, 0, b""),
            ("v4_8", 1, 8, b"\x0a"),
            ("v4_24", 1, 24, b"\xc0\0\2"),
            ("v4_25_low_bit", 1, 25, b"\xc0\0\2\x80"),
            ("v4_32", 1, 32, b"\xc0\0\2\1"),
            ("v4_7", 1, 7, b"\xfe"),
            ("v6_0", 2, 0, b""),
            ("v6_56", 2, 56, v6 + b"\0\0\1"),
            ("v6_128", 2, 128, v6 + b"\0" * 11 + b"\1"),
            ("v6_63", 2, 63, v6 + b"\0\0\0\xfe")):
        add(f"ecs_{case}", "answer", edns(options=ecs(fam, src, 0, addr)))
    add("ecs_do", "answer", edns(options=ecs(), do=True))
    add("ecs_any", "answer", query(question("Www.Example.Test", T["ANY"]),
                                    additional=[opt(options=ecs())]))
    add("ecs_aaaa_v6", "answer",
        query(question("www.example.test", T["AAAA"]),
              additional=[opt(options=ecs(family=2, source=48, addr=v6 + b"\0\0"))]))
    return c


CASES = _cases()
assert len({name for name, _, _ in CASES}) == len(CASES), "case names repeat"

# --- the C table ---------------------------------------------------------------------

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "proto",
                      "dns_corpus.h")


def c_table():
    lines = [
        "/* dns_corpus.h - the malformed-query corpus as a C table, for",
        " * tests/unit/proto/test_dns.c. Written by tests/integration/dns_corpus.py",
        " * (--write), which holds the cases readably: change them there. */",
        "",
        "/* { name, verdict, length, bytes } */",
    ]
    for case, verdict, data in CASES:
        hexs = "".join(f"\\x{b:02x}" for b in data)
        lines.append(f'{{ "{case}", DNS_V_{verdict.upper()}, {len(data)},')
        # keep lines short: the bytes in runs of 24
        for i in range(0, max(len(hexs), 1), 96):
            end = "" if i + 96 < len(hexs) else " },"
            lines.append(f'  "{hexs[i:i + 96]}"{end}')
    return "\n".join(lines) + "\n"


def main(argv):
    if argv[1:] == ["--write"]:
        with open(HEADER, "w") as f:
            f.write(c_table())
        print(f"{len(CASES)} cases written to {os.path.normpath(HEADER)}")
        return 0
    if argv[1:] == ["--check"]:
        with open(HEADER) as f:
            if f.read() != c_table():
                print("dns_corpus.h is not what dns_corpus.py writes: run it with --write")
                return 1
        print(f"{len(CASES)} cases, header current")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
