"""Request-smuggling corpus for test_http_smuggling_corpus.py, and the two
ways its recording backend frames what weir forwarded.

The payload shapes come from public research (each group names its source
family); the bytes are written here anew. Every case carries a smuggled
"GET /smuggled" that some reading of the stream could take for a request of
its own: under the reading RFC 9112 gives, it is either inside a body or
after a message the proxy must refuse, so no server behind weir may ever
frame it as a request. (A shape that is valid framing by the RFC, and only
misread by some servers, is followed by a legitimate "GET /next" instead.)

Two framings of a byte stream (what a server behind weir receives):

- strict(): RFC 9112 to the letter. Lines end in CRLF; a bare CR or LF, a
  NUL, obsolete folding, a field name that is not a token, a bad chunk line
  or chunk terminator, Content-Length with Transfer-Encoding, a
  Transfer-Encoding not ending in chunked: all framing errors. One empty
  line before a request line is allowed (RFC 9112 2.2).
- lenient(cr_ends_line): what lax servers in the wild do. Lines are read to
  LF and a trailing CR dropped (or, with cr_ends_line, a CR alone ends a
  line too); any number of empty lines before a request are skipped; field
  names are trimmed of blanks ("Transfer-Encoding : chunked" counts);
  obs-fold continues the previous value; Transfer-Encoding whose value
  mentions "chunked" anywhere makes the body chunked, and wins over
  Content-Length; the first Content-Length is read by its leading digits;
  a chunk size is read by its leading hex digits and whatever follows on
  the line (extensions, junk, CR) is ignored; after chunk data the rest of
  the line is skipped; trailers run to an empty line.

Both return (messages, tail): messages are dicts (start, end, method,
target, host) of every complete request, tail is "" when the stream ends
on a boundary, "incomplete" or "error: why" otherwise.
"""
import re

# --- the two framings ------------------------------------------------------------

TCHAR = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
HEX = set(b"0123456789abcdefABCDEF")
VCHAR_OBS = set(range(0x21, 0x7F)) | set(range(0x80, 0x100))
FIELD_VCHAR = VCHAR_OBS | {0x20, 0x09}


class Incomplete(Exception):
    pass


class Bad(Exception):
    pass


class Reader:
    """A cursor over <data> with the line rule of one framing."""

    def __init__(self, data, strict, cr_ends_line=False):
        self.d, self.i, self.strict, self.cr = data, 0, strict, cr_ends_line

    def line(self):
        """The next line, without its end."""
        d, i = self.d, self.i
        if self.strict:
            j = d.find(b"\n", i)
            if j < 0:
                cr = d.find(b"\r", i)
                if cr >= 0 and cr != len(d) - 1:
                    raise Bad("bare CR")
                raise Incomplete()
            if j == i or d[j - 1] != 0x0D:
                raise Bad("bare LF")
            if b"\r" in d[i:j - 1]:
                raise Bad("bare CR")
            self.i = j + 1
            return d[i:j - 1]
        if self.cr:
            m = re.compile(rb"\r\n|\r|\n").search(d, i)
            if not m:
                raise Incomplete()
            if m.group() == b"\r" and m.end() == len(d):
                raise Incomplete()      # a CR at the end may yet meet its LF
            self.i = m.end()
            return d[i:m.start()]
        j = d.find(b"\n", i)
        if j < 0:
            raise Incomplete()
        self.i = j + 1
        line = d[i:j]
        return line[:-1] if line.endswith(b"\r") else line

    def take(self, n):
        if self.i + n > len(self.d):
            raise Incomplete()
        self.i += n


def _fields(r, strict):
    """Reads a field section to its empty line: [(name lower, value)]."""
    out = []
    while True:
        line = r.line()
        if line == b"":
            return out
        if line[:1] in (b" ", b"\t"):
            if strict or not out:
                raise Bad("obs-fold")
            out[-1] = (out[-1][0], out[-1][1] + b" " + line.strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise Bad("field without colon")
        if strict:
            if not name or any(c not in TCHAR for c in name):
                raise Bad("field name not a token")
            value = value.strip(b" \t")
            if any(c not in FIELD_VCHAR for c in value):
                raise Bad("bad field value byte")
        else:
            name = name.strip(b" \t\x0b\x0c")
            value = value.strip(b" \t\x0b\x0c")
        out.append((name.lower(), value))


def _chunked(r, strict):
    while True:
        line = r.line()
        if strict:
            m = re.fullmatch(rb"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+"
                             rb"(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"
                             rb"\"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*\"))?)*)",
                             line)
            if not m:
                raise Bad(f"chunk line {line!r}")
            if len(m.group(1).lstrip(b"0")) > 15:
                raise Bad("chunk size too large")
            size = int(m.group(1), 16)
        else:
            m = re.match(rb"[0-9A-Fa-f]+", line)
            if not m:
                raise Bad(f"chunk line {line!r}")
            size = int(m.group(), 16)
        if size == 0:
            break
        r.take(size)
        after = r.line()
        if strict and after != b"":
            raise Bad("chunk data not followed by CRLF")
    _fields(r, strict)      # trailers


def frame(data, strict, cr_ends_line=False):
    """Frames <data> as a sequence of requests: (messages, tail)."""
    r = Reader(data, strict, cr_ends_line)
    msgs = []
    while r.i < len(data):
        start = r.i
        try:
            blanks = 0
            line = r.line()
            while line == b"":
                blanks += 1
                if strict and blanks > 1:
                    raise Bad("more than one empty line before a request")
                if r.i >= len(data):
                    return msgs, ""     # only empty lines left: nothing framed
                line = r.line()
            parts = line.split(b" ") if strict else line.split()
            if len(parts) != 3:
                raise Bad(f"request line {line!r}")
            method, target, version = parts
            if strict and (not method or any(c not in TCHAR for c in method)
                           or not re.fullmatch(rb"HTTP/1\.[01]", version)
                           or any(c <= 0x20 or c == 0x7F for c in target)):
                raise Bad(f"request line {line!r}")
            fields = _fields(r, strict)
            te = [v for n, v in fields if n == b"transfer-encoding"]
            cl = [v for n, v in fields if n == b"content-length"]
            hosts = [v for n, v in fields if n == b"host"]
            if strict:
                if len(hosts) != 1 and version == b"HTTP/1.1":
                    raise Bad("Host count")
                if te and cl:
                    raise Bad("CL and TE")
                if te:
                    codings = [c.strip(b" \t").lower() for v in te for c in v.split(b",")]
                    if version != b"HTTP/1.1" or codings != [b"chunked"]:
                        raise Bad(f"Transfer-Encoding {te!r}")
                    _chunked(r, True)
                elif cl:
                    if len(cl) != 1 or not re.fullmatch(rb"[0-9]{1,15}", cl[0]):
                        raise Bad(f"Content-Length {cl!r}")
                    r.take(int(cl[0]))
            else:
                if any(b"chunked" in v.lower() for v in te):
                    _chunked(r, False)
                elif cl:
                    m = re.match(rb"[0-9]+", cl[0])
                    if not m:
                        raise Bad(f"Content-Length {cl!r}")
                    r.take(int(m.group()))
            msgs.append({"start": start, "end": r.i, "method": method.decode("latin-1"),
                         "target": target.decode("latin-1"),
                         "host": hosts[0].decode("latin-1") if hosts else None})
        except Incomplete:
            return msgs, "incomplete"
        except Bad as e:
            return msgs, f"error: {e}"
    return msgs, ""


def framings(data):
    """The three framings of <data>, by name."""
    return {"strict": frame(data, True), "lenient-lf": frame(data, False),
            "lenient-cr": frame(data, False, cr_ends_line=True)}


# --- the corpus ------------------------------------------------------------------

SMUG = b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
HOST = b"Host: localhost\r\n"
POST = b"POST / HTTP/1.1\r\n" + HOST
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"
# after a message that is valid framing, a legitimate next request: where the
# shape is valid by RFC 9112 and only some servers misread it
NEXT = b"GET /next HTTP/1.1\r\n" + HOST + b"\r\n"

# outcomes
ANY = "refused or consistent"   # weir may refuse (4xx/5xx) or forward; readers agree
PASS = "valid"                  # weir forwards, the client gets 200 for each request
ABSOLUTE = "absolute-form"      # 400, or forwarded as "/" with the target's host


class Case:
    """<raw> sent on one fresh connection. <expect>: ANY, PASS or a status.
    <oks>: how many 200 answers a PASS case brings."""

    def __init__(self, family, name, raw, expect=ANY, oks=1):
        self.family, self.name, self.raw, self.expect, self.oks = family, name, raw, expect, oks

    @property
    def id(self):
        return f"{self.family}:{self.name}"


def te_cl(te_lines):
    """A CL.TE/TE.CL shape (PortSwigger, smuggler): <te_lines> with a
    Content-Length covering "0" CRLF CRLF and the smuggled request, so a
    reader that takes the Transfer-Encoding sees /smuggled as a request of
    its own and one that takes Content-Length sees a body."""
    body = b"0\r\n\r\n" + SMUG
    return (POST + te_lines + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            + body)


def te_only(te_lines, body=b"0\r\n\r\n"):
    """A Transfer-Encoding variant alone, then the smuggled request: a
    reader that does not take it as chunked sees no body and frames
    /smuggled; RFC 9112 6.3 makes such a request invalid (400)."""
    return POST + te_lines + b"\r\n" + body + SMUG


def chunked(body):
    """A chunked POST whose body is <body>, then the smuggled request."""
    return CHUNKED + body + SMUG


CASES = []


def add(family, name, raw, expect=ANY, oks=1):
    CASES.append(Case(family, name, raw, expect, oks))


# -- issue 10: the cases the issue names, with the outcomes after the fix --------
ISSUE = "issue10"
add(ISSUE, "cr-cr-ext-stream",
    b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\r;a\r\n43\r\n0\r\n\r\n"
    b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\nContent-Length: 7\r\n\r\n\r\n0\r\n\r\n", 400)
add(ISSUE, "cr-x-after-size", chunked(b"2\rX\r\nab\r\n0\r\n\r\n"), 400)
add(ISSUE, "cr-x-in-ext", chunked(b"2;a\rb\r\nab\r\n0\r\n\r\n"), 400)
add(ISSUE, "cr-x-in-ext-value", chunked(b"2;a=b\rc\r\nab\r\n0\r\n\r\n"), 400)
add(ISSUE, "cr-x-after-data", chunked(b"2\r\nab\rX\n0\r\n\r\n"), 400)
add(ISSUE, "cr-x-after-data-2", chunked(b"2\r\nab\r0\r\n\r\n"), 400)
add(ISSUE, "cr-x-last-chunk", chunked(b"0\rX\r\n\r\n"), 400)
add(ISSUE, "cr-x-last-chunk-ext", chunked(b"0;a\rX\r\n\r\n"), 400)
add(ISSUE, "cr-x-trailer-value", chunked(b"0\r\nT: a\rb\r\n\r\n"), 400)
add(ISSUE, "cr-x-trailer-end", chunked(b"0\r\nT: a\r\rX\r\n\r\n"), 400)
add(ISSUE, "cr-x-final-crlf", chunked(b"0\r\n\rX"), 400)
add(ISSUE, "size-15-hex-digits", chunked(b"fffffffffffffff\r\n"), 400)
add(ISSUE, "size-16-hex-digits", chunked(b"7fffffffffffffff\r\n"), 400)
add(ISSUE, "te-gzip-chunked", POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + SMUG, 501)
add(ISSUE, "host-list", b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n" + SMUG, 400)
add(ISSUE, "asterisk-get", b"GET * HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG, 400)
add(ISSUE, "asterisk-options-path", b"OPTIONS */x HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG, 400)
add(ISSUE, "options-asterisk", b"OPTIONS * HTTP/1.1\r\n" + HOST + b"\r\n", PASS)
add(ISSUE, "ext-a=b;c=d", CHUNKED + b"5;a=b;c=d\r\nhello\r\n0\r\n\r\n", PASS)
add(ISSUE, "ext-bws", CHUNKED + b"5 ;a=b\r\nhello\r\n0\r\n\r\n", PASS)
add(ISSUE, "ext-quoted", CHUNKED + b'5;foo=bar;baz="q"\r\nhello\r\n0\r\n\r\n', PASS)
add(ISSUE, "ext-name-only", CHUNKED + b"5;a\r\nhello\r\n0\r\n\r\n", PASS)
add(ISSUE, "leading-crlf", b"\r\nGET / HTTP/1.1\r\n" + HOST + b"\r\n", PASS)
add(ISSUE, "stray-crlf-after-post",
    POST + b"Content-Length: 5\r\n\r\nhello\r\nGET /next HTTP/1.1\r\n" + HOST + b"\r\n", PASS, 2)
add(ISSUE, "stray-crlf-after-chunked",
    CHUNKED + b"5\r\nhello\r\n0\r\n\r\n\r\nGET /next HTTP/1.1\r\n" + HOST + b"\r\n", PASS, 2)

# -- defparam/smuggler: Transfer-Encoding gadgets (configs/default.py shapes:
#    a byte before/after the name, before/inside/after the value, around the
#    line end), each with a Content-Length covering the smuggled request ---------
SMUGGLER = "smuggler"
add(SMUGGLER, "nameprefix", te_cl(b" Transfer-Encoding: chunked\r\n"))
add(SMUGGLER, "tabprefix1", te_cl(b"Transfer-Encoding:\tchunked\r\n"))
add(SMUGGLER, "tabprefix2", te_cl(b"Transfer-Encoding\t:\tchunked\r\n"))
add(SMUGGLER, "space1", te_cl(b"Transfer-Encoding : chunked\r\n"))
for c in (0x01, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x7F, 0xA0, 0xFF):
    ch = bytes([c])
    add(SMUGGLER, f"midspace-{c:02x}", te_cl(b"Transfer-Encoding:" + ch + b"chunked\r\n"))
    add(SMUGGLER, f"postspace-{c:02x}", te_cl(b"Transfer-Encoding" + ch + b": chunked\r\n"))
    add(SMUGGLER, f"endspace-{c:02x}", te_cl(b"Transfer-Encoding: chunked" + ch + b"\r\n"))
    add(SMUGGLER, f"xprespace-{c:02x}", te_cl(b"X: X" + ch + b"Transfer-Encoding: chunked\r\n"))
    add(SMUGGLER, f"rxprespace-{c:02x}", te_cl(b"X: X\r" + ch + b"Transfer-Encoding: chunked\r\n"))
    add(SMUGGLER, f"endspacerx-{c:02x}", te_cl(b"Transfer-Encoding: chunked\r" + ch + b"X: X\r\n"))
# chunk-line terminators smuggler's exhaustive mode varies, alone (no CL)
for term in (b"\n", b"\r", b"\r\r\n", b"\n\r", b" \r\n", b"\t\r\n", b"\x00\r\n"):
    add(SMUGGLER, f"chunk-term-{term.hex()}", chunked(b"1" + term + b"Z\r\n0\r\n\r\n"))

# -- PortSwigger (James Kettle, "HTTP Desync Attacks", and the Web Security
#    Academy labs): CL.TE, TE.CL, TE.TE obfuscation, CL.0 -------------------------
PS = "portswigger"
add(PS, "cl-te", te_cl(b"Transfer-Encoding: chunked\r\n"))
add(PS, "te-cl-oversized-chunk",
    POST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"%x\r\n" % len(SMUG) + SMUG + b"\r\n0\r\n\r\n")
add(PS, "te-xchunked", te_cl(b"Transfer-Encoding: xchunked\r\n"))
add(PS, "te-chunked-then-x", te_cl(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"))
add(PS, "te-x-then-chunked", te_cl(b"Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n"))
add(PS, "te-cow", te_cl(b"Transfer-encoding: cow\r\n"))
add(PS, "te-lf-before-colon", te_cl(b"Transfer-Encoding\n: chunked\r\n"))
add(PS, "te-x-lf-te", te_cl(b"X: X\nTransfer-Encoding: chunked\r\n"))
add(PS, "te-quoted", te_cl(b'Transfer-Encoding: "chunked"\r\n'))
add(PS, "te-underscore", te_cl(b"Transfer_Encoding: chunked\r\n"))
add(PS, "te-identity-chunked", te_cl(b"Transfer-Encoding: identity, chunked\r\n"))
add(PS, "te-chunked-comma", te_cl(b"Transfer-Encoding: chunked,\r\n"))
add(PS, "te-comma-chunked", te_cl(b"Transfer-Encoding: ,chunked\r\n"))
add(PS, "te-chunked-semicolon", te_cl(b"Transfer-Encoding: chunked;q=1\r\n"))
add(PS, "te-chunk", te_cl(b"Transfer-Encoding: chunk\r\n"))
add(PS, "te-fold", te_cl(b"Transfer-Encoding:\r\n chunked\r\n"))
add(PS, "te-fold-x", te_cl(b"X: y\r\n Transfer-Encoding: chunked\r\n"))
add(PS, "te-only-xchunked", te_only(b"Transfer-Encoding: xchunked\r\n"))
add(PS, "te-only-empty", te_only(b"Transfer-Encoding:\r\n"))
add(PS, "te-only-chunked-identity", te_only(b"Transfer-Encoding: chunked, identity\r\n"))
add(PS, "te-only-sp-colon", te_only(b"Transfer-Encoding : chunked\r\n"))
# CL.0: a body on a GET the server might ignore; valid RFC framing keeps it a body
add(PS, "cl0-get-body",
    b"GET / HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % len(SMUG) + SMUG, PASS)
add(PS, "cl0-post-keepalive-body",
    POST + b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n" % len(SMUG) + SMUG, PASS)
add(PS, "cl-twice-differ",
    POST + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(SMUG) + SMUG)
add(PS, "cl-list-differ", POST + b"Content-Length: 0, %d\r\n\r\n" % len(SMUG) + SMUG)
# chunk extensions (Kallus & Weikop, "funky chunks"; PortSwigger research on
# chunk-ext parsing): line terminators inside the extension
add(PS, "ext-lf-in-name", chunked(b"2;a\nb\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-lf-in-quoted", chunked(b'2;a="\n"\r\nab\r\n0\r\n\r\n'))
add(PS, "ext-crlf-in-quoted", chunked(b'2;a="\r\n"\r\nab\r\n0\r\n\r\n'))
add(PS, "ext-bare-semicolon", chunked(b"2;\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-empty-value", chunked(b"2;a=\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-equals-only", chunked(b"2;=\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-unterminated-quote", chunked(b'2;a="b\r\nab\r\n0\r\n\r\n'))
add(PS, "ext-space-in-name", chunked(b"2;a b\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-nul", chunked(b"2;a\x00\r\nab\r\n0\r\n\r\n"))
add(PS, "ext-long-hides-lf",
    chunked(b"2;" + b"a" * 64 + b"\n" + b"GET /smuggled HTTP/1.1\r\n\r\n" + b"\r\nab\r\n0\r\n\r\n"))
add(PS, "term-lf-data", chunked(b"2\r\nab\n0\r\n\r\n"))
add(PS, "term-none-data", chunked(b"2\r\nabc\r\n0\r\n\r\n"))
add(PS, "term-xx-data", chunked(b"2\r\nabXX0\r\n\r\n"))
add(PS, "last-chunk-lf", chunked(b"0\n\n"))
add(PS, "last-chunk-lf-crlf", chunked(b"0\n\r\n"))
add(PS, "last-chunk-crlf-lf", chunked(b"0\r\n\n"))

# -- HTTP Garden (Kallus et al.): the parser-discrepancy payload shapes its
#    fuzzer found in servers and proxies --------------------------------------------
GARDEN = "garden"
add(GARDEN, "size-0x-prefix", chunked(b"0x2\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-plus", chunked(b"+2\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-minus-zero", chunked(b"-0\r\n\r\n"))
add(GARDEN, "size-underscore", chunked(b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n"))
add(GARDEN, "size-leading-space", chunked(b" 2\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-leading-tab", chunked(b"\t2\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-trailing-space", chunked(b"2 \r\nab\r\n0\r\n\r\n"), ANY)
add(GARDEN, "size-nul", chunked(b"2\x00\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-many-zeros", CHUNKED + b"0" * 40 + b"2\r\nab\r\n0\r\n\r\n" + NEXT)
add(GARDEN, "size-wraps-64", chunked(b"10000000000000002\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-fullwidth-digit", chunked("\uff12".encode() + b"\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "size-empty", chunked(b"\r\nab\r\n0\r\n\r\n"))
add(GARDEN, "zero-then-data", chunked(b"0\r\nab\r\n\r\n"))
add(GARDEN, "trailer-cl", CHUNKED + b"0\r\nContent-Length: 5\r\n\r\n" + NEXT)
add(GARDEN, "trailer-te", CHUNKED + b"0\r\nTransfer-Encoding: chunked\r\n\r\n" + NEXT)
add(GARDEN, "trailer-no-colon", chunked(b"0\r\nnocolon\r\n\r\n"))
add(GARDEN, "trailer-lf-end", chunked(b"0\r\nT: a\r\n\n"))
add(GARDEN, "cl-leading-zeros", POST + b"Content-Length: 00%d\r\n\r\n" % len(SMUG) + SMUG)
add(GARDEN, "cl-underscore", POST + b"Content-Length: 1_0\r\n\r\n" + SMUG)
add(GARDEN, "cl-plus", POST + b"Content-Length: +%d\r\n\r\n" % len(SMUG) + SMUG)
add(GARDEN, "cl-fullwidth", POST + "Content-Length: \uff11\r\n\r\n".encode() + b"x" + SMUG)
add(GARDEN, "cl-trailing-comma", POST + b"Content-Length: %d,\r\n\r\n" % len(SMUG) + SMUG)
add(GARDEN, "cl-cr-inside", POST + b"Content-Length: 1\r0\r\n\r\n" + b"x" * 10 + SMUG)
add(GARDEN, "nul-in-name", b"GET / HTTP/1.1\r\n" + HOST + b"X\x00Y: z\r\n\r\n" + SMUG)
add(GARDEN, "nul-in-target", b"GET /\x00 HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG)
add(GARDEN, "lf-in-request-line", b"GET /\nx HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG)
add(GARDEN, "cr-in-request-line", b"GET / HTTP/1.1\rX\r\n" + HOST + b"\r\n" + SMUG)
add(GARDEN, "two-blank-lines", b"\r\n\r\nGET / HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG)
add(GARDEN, "bare-lf-blank", b"\nGET / HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG)
add(GARDEN, "http10-te-cl",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n"
    % (len(SMUG) + 5) + b"0\r\n\r\n" + SMUG)
add(ISSUE, "absolute-host-mismatch",
    b"GET http://admin.example/ HTTP/1.1\r\nHost: public.example\r\n\r\n", ABSOLUTE)

# -- Http11Probe (MDA2AV): the smuggling suite's request shapes ------------------
PROBE = "http11probe"
add(PROBE, "cl-te-both",
    POST + b"Content-Length: 18\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"D\r\nhello-bananas\r\n0\r\n\r\n" + SMUG)
add(PROBE, "te-trailing-space", te_cl(b"Transfer-Encoding: chunked \r\n"))
add(PROBE, "te-double-chunked", te_cl(b"Transfer-Encoding: chunked, chunked\r\n"))
add(PROBE, "cl-trailing-space", POST + b"Content-Length: 5 \r\n\r\nhello", PASS)
add(PROBE, "cl-extra-leading-space", POST + b"Content-Length:  5\r\n\r\nhello", PASS)
add(PROBE, "cl-leading-zeros-valid", POST + b"Content-Length: 005\r\n\r\nhello", PASS)
add(PROBE, "te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUG)
add(PROBE, "te-not-final", te_only(b"Transfer-Encoding: chunked, gzip\r\n"))
add(PROBE, "te-obs-fold", te_only(b"Transfer-Encoding:\r\n\tchunked\r\n"))
add(PROBE, "te-case", CHUNKED.replace(b"chunked", b"cHuNkEd") + b"0\r\n\r\n", PASS)
add(PROBE, "chunk-spill", chunked(b"3\r\nabcdef\r\n0\r\n\r\n"))
add(PROBE, "chunk-lf-term", chunked(b"3\nabc\n0\n\n"))
add(PROBE, "chunk-negative", chunked(b"-3\r\nabc\r\n0\r\n\r\n"))
add(PROBE, "bare-cr-header", b"GET / HTTP/1.1\r\n" + HOST + b"X: a\rb\r\n\r\n" + SMUG)
add(PROBE, "cl-comma-same", POST + b"Content-Length: 5, 5\r\n\r\nhello" + SMUG)
add(PROBE, "expect-cl-mismatch",
    POST + b"Expect: 100-continue\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello" + SMUG)

# -- HAProxy reg-tests (reg-tests/http-messaging): h1 framing and chunk shapes ---
HAP = "haproxy"
add(HAP, "chunk-ext-long-valid", CHUNKED + b"5;" + b"x" * 200 + b"=y\r\nhello\r\n0\r\n\r\n", PASS)
add(HAP, "chunk-several-valid",
    CHUNKED + b"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", PASS)
add(HAP, "chunk-trailers-valid", CHUNKED + b"1\r\na\r\n0\r\nX-T: 1\r\nY-T: 2\r\n\r\n", PASS)
add(HAP, "chunk-upper-hex-valid", CHUNKED + b"A\r\n0123456789\r\n0\r\n\r\n", PASS)
add(HAP, "chunk-zero-padded-valid", CHUNKED + b"0005\r\nhello\r\n000\r\n\r\n", PASS)
add(HAP, "pipelined-valid",
    b"GET /a HTTP/1.1\r\n" + HOST + b"\r\n" + POST + b"Content-Length: 2\r\n\r\nhi"
    + b"GET /b HTTP/1.1\r\n" + HOST + b"\r\n", PASS, 3)
add(HAP, "te-http10-cl", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    + SMUG)
add(HAP, "te-multiple-lines", te_only(b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
    501)
add(HAP, "cl-huge", POST + b"Content-Length: 99999999999999999999\r\n\r\n" + SMUG)
add(HAP, "space-before-request", b" GET / HTTP/1.1\r\n" + HOST + b"\r\n" + SMUG)
add(HAP, "method-space-target", b"GET  / HTTP/1.1\r\n" + HOST + b"\r\n", ANY)
add(HAP, "http-2-version", b"GET / HTTP/2.0\r\n" + HOST + b"\r\n" + SMUG)
add(HAP, "header-name-8bit", b"GET / HTTP/1.1\r\n" + HOST + b"X\x80: y\r\n\r\n" + SMUG)
add(HAP, "host-empty-and-host", b"GET / HTTP/1.1\r\nHost:\r\nHost: a\r\n\r\n" + SMUG)

# -- RFC 9112 7.1.1 itself: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ),
#    and a recipient removes the bad whitespace: all valid --------------------------
RFC = "rfc9112"
add(RFC, "ext-bws-after-semicolon", CHUNKED + b"5; a=b\r\nhello\r\n0\r\n\r\n", PASS)
add(RFC, "ext-bws-around-equals", CHUNKED + b"5;a = b\r\nhello\r\n0\r\n\r\n", PASS)
add(RFC, "ext-valued-then-bare", CHUNKED + b"5;a=b;c\r\nhello\r\n0\r\n\r\n", PASS)
add(RFC, "ext-on-last-chunk", CHUNKED + b"5\r\nhello\r\n0;a=b;c=d\r\n\r\n", PASS)
add(RFC, "ext-quoted-escape", CHUNKED + b'5;a="x\\"y"\r\nhello\r\n0\r\n\r\n', PASS)

ids = [c.id for c in CASES]
assert len(ids) == len(set(ids)), "duplicate case names"
