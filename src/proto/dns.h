/*
 * dns.h - the DNS wire format (RFC 1035 section 4): a reader over a
 * received message and a writer into a caller's buffer, for the dns health
 * check now and weir's authoritative DNS service later.
 *
 * Nothing here allocates or keeps state outside the structs the caller
 * holds. The reader never reads outside the <len> bytes it is given: every
 * length and count in a message is checked against what is there, and a
 * message that lies is -EBADMSG. Names are read where they lie in the
 * message, compression pointers followed (each must point before the
 * place the previous one led to, so there is no loop, and past the
 * header; a name is at most DNS_NAME_MAX bytes expanded); they compare
 * without regard to ASCII case, as RFC 4343 says.
 *
 * A name outside a message is held in wire form, uncompressed: length-
 * prefixed labels ending with the root's zero byte ("\3www\7example\0"),
 * at most DNS_NAME_MAX bytes.
 *
 * The writer appends a header, questions and records in section order and
 * keeps the header's counts in step; an error (no room, a record out of
 * section order) sticks, so a caller may write everything and look once.
 * A mark taken before a record lets a server cut the message back to it
 * (and set TC) when the next one does not fit.
 *
 * The server side (dns_server.c): a query read as an authoritative server
 * must read it, with a verdict (answer, FORMERR, NOTIMP, BADVERS or no
 * response at all) and its EDNS0 (RFC 6891) and Client Subnet (RFC 7871);
 * a response that copies the question back, ends with the OPT record and
 * is cut to fit the client's limit with TC set; RFC 7766's TCP framing.
 */
#ifndef WEIR_PROTO_DNS_H
#define WEIR_PROTO_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN   12
#define DNS_NAME_MAX  255   /* a name in wire form, its root byte included */
#define DNS_LABEL_MAX 63
#define DNS_TEXT_MAX  1024  /* a name as text: every byte may be \DDD */
#define DNS_UDP_MAX   512   /* a message over UDP without EDNS0 */

/* The flags: the 16 bits after the id. */
#define DNS_QR 0x8000       /* a response */
#define DNS_AA 0x0400
#define DNS_TC 0x0200       /* truncated: ask again over TCP */
#define DNS_RD 0x0100       /* recursion desired */
#define DNS_RA 0x0080
#define DNS_AD 0x0020       /* authentic data (RFC 4035) */
#define DNS_CD 0x0010       /* checking disabled (RFC 4035) */
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f)  ((f) & 0xf)

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41,
	DNS_T_ANY = 255,
};
#define DNS_C_IN 1

enum dns_rcode {
	DNS_R_NOERROR, DNS_R_FORMERR, DNS_R_SERVFAIL, DNS_R_NXDOMAIN, DNS_R_NOTIMP,
	DNS_R_REFUSED,
	DNS_R_BADVERS = 16,     /* extended (RFC 6891): its upper 8 bits go in the OPT */
};

enum dns_section { DNS_QD, DNS_AN, DNS_NS, DNS_AR, DNS_SECTIONS };

struct dns_header {
	uint16_t id, flags;
	uint16_t count[DNS_SECTIONS];   /* questions, answers, authority, additional */
};

/* --- reading ------------------------------------------------------------------ */

/* A walk through one message, question by question, then record by
 * record. Points into the caller's buffer, which must outlive it. */
struct dns_reader {
	const uint8_t *msg;
	size_t len;
	struct dns_header h;
	size_t pos;                     /* where the next entry starts */
	uint8_t sect;                   /* its section (DNS_SECTIONS: none left) */
	uint16_t left;                  /* entries left in that section */
};

/* A question; <name> is the offset of its name in the message. */
struct dns_question {
	size_t name;
	uint16_t type, qclass;
};

/* A resource record; <name> and <rdata> are offsets in the message (the
 * rdata's <rdlen> bytes are inside it). */
struct dns_rr {
	uint8_t sect;                   /* DNS_AN, DNS_NS or DNS_AR */
	size_t name;
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata;
};

/* Reads the header of the <len> bytes at <msg> and sets <r> before the
 * first question. Returns 0, or -EBADMSG when they are fewer than a
 * header. */
int dns_reader_init(struct dns_reader *r, const void *msg, size_t len);
/* The next question into <q>: 1, or 0 when every question was read, or
 * -EBADMSG (the message ends inside it, or its name is malformed). */
int dns_next_question(struct dns_reader *r, struct dns_question *q);
/* The next record of the answer, authority and additional sections (the
 * questions not read yet are skipped): 1, 0 once every record was read, or
 * -EBADMSG. After an error the reader stays where it was. */
int dns_next_rr(struct dns_reader *r, struct dns_rr *rr);

/* The name at offset <off> of the message <msg> of <len> bytes. Writes it
 * expanded, in wire form, into <out> (DNS_NAME_MAX bytes; NULL: not
 * wanted) and the offset right after it where it lies (after its first
 * compression pointer, if any) into *end (NULL: not wanted). Returns its
 * length expanded (1 to DNS_NAME_MAX) or -EBADMSG: past the end, a label
 * type other than length or pointer, a pointer that does not go back or
 * goes into the header, or too long. */
int dns_name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end);
/* Whether the name at <off> of <msg> is <name> (wire form) but for ASCII
 * case; a malformed name is nobody's. */
bool dns_name_is(const uint8_t *msg, size_t len, size_t off, const uint8_t *name);
/* Whether names <a> and <b> (wire form) are one but for ASCII case. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);
/* The length of name <name> in wire form (valid: made by this file). */
size_t dns_name_len(const uint8_t *name);

/* "www.example.test" (a final dot optional, "." the root; \. \\ and \DDD
 * escapes as in zone files) into wire form in <out> (DNS_NAME_MAX bytes).
 * Returns the length, or -EINVAL: an empty label, a label over 63 bytes, a
 * name over 255, a bad escape, a blank or control character. */
int dns_name_from_text(const char *text, uint8_t *out);
/* Name <name> (wire form) as text into <out> of <size> bytes (DNS_TEXT_MAX
 * always suffices): no final dot but for the root ".", dots and
 * backslashes in labels escaped, bytes that are not printable as \DDD.
 * Returns the length, or -ENOSPC (<out> then holds what fit). */
int dns_name_to_text(const uint8_t *name, char *out, size_t size);

/* --- writing ------------------------------------------------------------------ */

/* A message being written into buf[0..size). */
struct dns_writer {
	uint8_t *buf;
	size_t size, len;
	uint8_t sect;                   /* the section written last */
	uint16_t count[DNS_SECTIONS];
	int err;                        /* 0, -ENOSPC or -EINVAL; sticks */
};

/* Where a writer was: dns_writer_rewind() goes back there. */
struct dns_mark {
	size_t len;
	uint8_t sect;
	uint16_t count[DNS_SECTIONS];
};

/* Starts a message in <buf> with header <h> (its counts are ignored: they
 * follow what is written). */
void dns_writer_init(struct dns_writer *w, void *buf, size_t size, const struct dns_header *h);
/* Appends a question for <name> (wire form). Returns w->err. */
int dns_put_question(struct dns_writer *w, const uint8_t *name, uint16_t type, uint16_t qclass);
/* Appends a record of section <sect> (not before the last one written) for
 * <name> (wire form), or with <name> NULL for the name at offset
 * <name_off> of the message (a compression pointer: a server answering for
 * the question's name gives DNS_HDR_LEN). Returns w->err. */
int dns_put_rr(struct dns_writer *w, enum dns_section sect, const uint8_t *name,
	       uint16_t name_off, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const void *rdata, uint16_t rdlen);
/* Sets the header's flags (after the id) to <flags>. */
void dns_set_flags(struct dns_writer *w, uint16_t flags);
void dns_writer_mark(const struct dns_writer *w, struct dns_mark *m);
/* Back to mark <m>: what was written since is gone, the error too. */
void dns_writer_rewind(struct dns_writer *w, const struct dns_mark *m);
/* The message's length, or the error. */
int dns_writer_end(const struct dns_writer *w);

/* A query of <type> for <name> (wire form), class IN, with <id> and RD if
 * <rd>, into <buf>: its length, or -ENOSPC. */
int dns_query(void *buf, size_t size, uint16_t id, bool rd, const uint8_t *name, uint16_t type);

/* --- names of numbers ----------------------------------------------------------- */

/* "A", "AAAA"... or NULL for a type without a name here. */
const char *dns_type_name(uint16_t type);
/* A type's name (any case) or number (1 to 65535): the type, or -EINVAL. */
int dns_type_parse(const char *s);
/* "NOERROR", "NXDOMAIN"... or NULL. */
const char *dns_rcode_name(unsigned rcode);
/* An rcode's name (any case) or number (0 to 15): the rcode, or -EINVAL. */
int dns_rcode_parse(const char *s);

/* --- the server side (dns_server.c) ------------------------------------------ */

#define DNS_EDNS_UDP  1232  /* the UDP payload size weir's answers offer (DNS flag day 2020) */
#define DNS_EDNS_DO   0x8000 /* DNSSEC OK, in the OPT record's flags */
#define DNS_OPT_ECS   8     /* the Client Subnet option's code */
#define DNS_TCP_MAX   65535 /* a message over TCP: its 2-byte length says so */
#define DNS_TCP_PREFIX 2

/* What a server does with a message it received (dns_request_parse()). */
enum dns_verdict {
	DNS_V_ANSWER,   /* a query: answer it */
	DNS_V_DROP,     /* no response at all */
	DNS_V_FORMERR,  /* respond FORMERR */
	DNS_V_NOTIMP,   /* respond NOTIMP */
	DNS_V_BADVERS,  /* respond BADVERS (an extended rcode: with an OPT record) */
};

/* An EDNS Client Subnet option (RFC 7871) as a query carries it. */
struct dns_ecs {
	uint16_t family;                /* 1: IPv4, 2: IPv6 */
	uint8_t source, scope;          /* prefix lengths; <scope> is 0 in a query */
	uint8_t addr[16];               /* the address, zero past <source> bits */
};

/* A query as an authoritative server reads it: copies, so it does not
 * point into the message. What a verdict leaves unread stays as
 * dns_request_parse() set it: no question, no EDNS. */
struct dns_request {
	uint16_t id, flags;             /* as received (opcode, RD, CD...) */
	bool question;                  /* its one question was read */
	uint16_t qtype, qclass;
	uint16_t name_len;              /* of qname and lname, in wire form */
	uint8_t qname[DNS_NAME_MAX];    /* as it came, uncompressed: a response echoes its case */
	uint8_t lname[DNS_NAME_MAX];    /* the same in ASCII lower case, for lookups */
	bool edns;                      /* a well-formed OPT record came */
	uint8_t edns_version;
	bool dnssec_ok;                 /* its DO bit */
	uint16_t udp_size;              /* the client's payload size: 512 without EDNS, never less */
	bool has_ecs;                   /* a valid Client Subnet option came, in <ecs> */
	struct dns_ecs ecs;
};

/* Reads the <len> bytes at <msg> as a query to an authoritative server,
 * into <q>, and returns the verdict (each one's reason is written at
 * the function). Reads only those bytes, never allocates. */
enum dns_verdict dns_request_parse(const void *msg, size_t len, struct dns_request *q);
/* The rcode a verdict's response carries (DNS_V_ANSWER: NOERROR). */
unsigned dns_verdict_rcode(enum dns_verdict v);
/* The largest UDP response client <q> takes when weir offers <ours>:
 * 512 without EDNS, else its payload size, but at most <ours> (and at
 * least 512). */
size_t dns_udp_limit(const struct dns_request *q, uint16_t ours);

/* A response being written: the writer, the query it answers (which must
 * outlive it), where the question ends (a cut goes back there), its
 * extended rcode. The caller adds records with dns_put_rr() or
 * dns_put_records() on <w>, then calls dns_response_end(). */
struct dns_response {
	struct dns_writer w;
	const struct dns_request *q;
	struct dns_mark question;
	unsigned rcode;
	bool cut;                       /* dns_response_end() cut it: TC */
};

/* Starts the response to <q> in <buf> of <size> bytes: its id, QR, the
 * query's opcode, RD and CD copied (RFC 1035 4.1.1, RFC 4035 3.2.2),
 * <flags> added (DNS_AA...), the low 4 bits of <rcode> (the rest goes in
 * the OPT record: an rcode over 15 needs <q>->edns), and the question
 * copied back as it came when <q> has one. */
void dns_response_init(struct dns_response *r, void *buf, size_t size,
		       const struct dns_request *q, uint16_t flags, unsigned rcode);
/* Ends response <r> for a client that takes <limit> bytes (dns_udp_limit()
 * over UDP, DNS_TCP_MAX over TCP; the buffer's size caps it too). When
 * the query had EDNS, an OPT record ends the additional section: payload
 * size <udp_size>, version 0, the rcode's upper bits, DO copied (RFC 3225
 * section 3), and the query's Client Subnet copied with scope prefix
 * <scope> (RFC 7871 7.2.1). If the records written, with the OPT, do not
 * fit, or did not fit the buffer, they are all dropped: header, question
 * and OPT with TC set (r->cut). Returns the length, -ENOSPC (not even
 * that fits) or -EINVAL (records out of order, an rcode over 15 without
 * EDNS). */
int dns_response_end(struct dns_response *r, size_t limit, uint16_t udp_size, uint8_t scope);
/* Appends <n> records already in wire form, <len> bytes (an answer set
 * made once; a name in them may point to DNS_HDR_LEN, the question's),
 * to section <sect>. Returns w->err. */
int dns_put_records(struct dns_writer *w, enum dns_section sect, const void *rrs, size_t len,
		    uint16_t n);

/* TCP (RFC 1035 4.2.2, RFC 7766 6.2.1: several queries may come in one
 * read, one query over several): the first message framed in the <len>
 * bytes at <buf>. Returns the bytes it takes, its length prefix included
 * (> 0), with *msg and *mlen set to the message in <buf>; 0 when the
 * bytes end before it does; -EBADMSG for a length of 0, -EMSGSIZE for a
 * length over <max> (a bound on what the caller will hold: it may refuse
 * early, before the bytes come). The caller consumes the bytes returned
 * and calls again for the next one. */
int dns_tcp_frame(const void *buf, size_t len, size_t max, const uint8_t **msg, size_t *mlen);
/* Writes the length prefix of the <mlen>-byte message that follows at
 * <buf> + DNS_TCP_PREFIX. Returns the framed length, or -EMSGSIZE. */
int dns_tcp_frame_put(void *buf, size_t mlen);

#endif
