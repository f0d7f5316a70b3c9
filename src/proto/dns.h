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
 * place the previous one led to, so there is no loop, and a name is at
 * most DNS_NAME_MAX bytes expanded); they compare without regard to ASCII
 * case, as RFC 4343 says.
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
 * type other than length or pointer, a pointer that does not go back, or
 * too long. */
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

#endif
