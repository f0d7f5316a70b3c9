/*
 * http_body.c - where an HTTP/1.x body ends (RFC 9112 section 6 and 7.1),
 * found as its bytes stream through (see http.h).
 *
 * llhttp parses heads; bodies are framed here, by weir's own code, so that
 * every chunk line is held to the grammar as strictly as the head is held
 * to its own, whatever llhttp release is built in. A chunk line, chunk data
 * terminator or trailer line whose CR is not followed by LF, a bare LF, a
 * chunk extension outside the grammar, a chunk size beyond what any body
 * may be: each is a framing error, found before the byte in question is
 * handed on. That is the property the proxy relies on: it forwards only the
 * bytes this scanner has accepted, so a server that reads lines more
 * loosely (to LF, say) still sees the same message boundaries.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val      = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 *
 * The scanner is a state machine, one state per position in that grammar;
 * chunk data and Content-Length bodies are skipped in bulk.
 */
#include <string.h>

#include "proto/http.h"

enum {
	/* chunk line */
	CS_SIZE0,       /* the first digit of a chunk size */
	CS_SIZE,        /* more digits */
	CS_SIZE_BWS,    /* blanks after the size: only ';' may follow */
	CS_EXT_PRE,     /* after ';', before the extension's name */
	CS_EXT_NAME,
	CS_EXT_NAME_BWS,
	CS_EXT_EQ,      /* after '=', before the value */
	CS_EXT_TOK,
	CS_EXT_QS,      /* in a quoted string */
	CS_EXT_QP,      /* after a backslash in it */
	CS_EXT_QS_END,  /* after the closing quote */
	CS_EXT_VAL_BWS,
	CS_LINE_LF,     /* the chunk line's CR was seen */
	/* chunk data and its CRLF */
	CS_DATA,
	CS_DATA_CR,
	CS_DATA_LF,
	/* the trailer section */
	CS_TR_START,    /* at the start of a line */
	CS_TR_NAME,
	CS_TR_VALUE,
	CS_TR_LF,
	CS_TR_END_LF,   /* the blank line's CR was seen */
};

/* A chunk line (size and extensions) longer than this is refused: nothing
 * legitimate comes close, and it bounds the work a hostile one costs. */
#define CHUNK_LINE_MAX 4096

static bool is_hex(unsigned char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		*v = (c | 0x20) - 'a' + 10;
	else
		return false;
	return true;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
static bool is_qdtext(unsigned char c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	       (c >= 0x5d && c != 0x7f);
}

/* field-vchar, SP and HTAB: what a field value may hold */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static long body_error(struct http_msg *m, uint16_t status, const char *why)
{
	m->status = m->kind == HTTP_REQUEST ? status : 502;
	m->why = why;
	m->cs_failed = true;
	return -1;
}

/* The chunk size is complete: data follows, or the trailers. */
static long size_done(struct http_msg *m)
{
	if (m->max_body && m->left > m->max_body)
		return body_error(m, 413, "chunk larger than the body limit");
	return 0;
}

/* One byte of a chunk line or of the trailer section. Returns 0, or -1 on a
 * framing error (m->why says which). */
static long chunk_byte(struct http_msg *m, unsigned char c)
{
	unsigned v;

	switch (m->cs) {
	case CS_SIZE0:
		if (!is_hex(c, &v))
			return body_error(m, 400, "invalid chunk size");
		m->left = v;
		m->cs = CS_SIZE;
		return 0;
	case CS_SIZE:
		if (is_hex(c, &v)) {
			if (m->left > (HTTP_MAX_BODY - v) / 16)
				return body_error(m, 400, "chunk size too large");
			m->left = m->left * 16 + v;
		} else if (is_blank(c)) {
			m->cs = CS_SIZE_BWS;
		} else if (c == ';') {
			m->cs = CS_EXT_PRE;
		} else if (c == '\r') {
			m->cs = CS_LINE_LF;
		} else {
			return body_error(m, 400, "invalid chunk size");
		}
		return c == ';' || c == '\r' || is_blank(c) ? size_done(m) : 0;
	case CS_SIZE_BWS:
	case CS_EXT_VAL_BWS:
		if (c == ';')
			m->cs = CS_EXT_PRE;
		else if (!is_blank(c))
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_PRE:
		if (http_is_tchar(c))
			m->cs = CS_EXT_NAME;
		else if (!is_blank(c))
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_NAME:
	case CS_EXT_NAME_BWS:
		if (c == '=')
			m->cs = CS_EXT_EQ;
		else if (c == ';')
			m->cs = CS_EXT_PRE;
		else if (is_blank(c))
			m->cs = CS_EXT_NAME_BWS;
		else if (c == '\r' && m->cs == CS_EXT_NAME)
			m->cs = CS_LINE_LF;
		else if (!http_is_tchar(c) || m->cs == CS_EXT_NAME_BWS)
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_EQ:
		if (c == '"')
			m->cs = CS_EXT_QS;
		else if (http_is_tchar(c))
			m->cs = CS_EXT_TOK;
		else if (!is_blank(c))
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_TOK:
	case CS_EXT_QS_END:
		if (c == ';')
			m->cs = CS_EXT_PRE;
		else if (is_blank(c))
			m->cs = CS_EXT_VAL_BWS;
		else if (c == '\r')
			m->cs = CS_LINE_LF;
		else if (!http_is_tchar(c) || m->cs == CS_EXT_QS_END)
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_QS:
		if (c == '"')
			m->cs = CS_EXT_QS_END;
		else if (c == '\\')
			m->cs = CS_EXT_QP;
		else if (!is_qdtext(c))
			return body_error(m, 400, "invalid chunk extension");
		return 0;
	case CS_EXT_QP:
		if (!is_value_char(c))
			return body_error(m, 400, "invalid chunk extension");
		m->cs = CS_EXT_QS;
		return 0;
	case CS_LINE_LF:
		if (c != '\n')
			return body_error(m, 400, "CR not followed by LF in a chunk line");
		m->cs = m->left ? CS_DATA : CS_TR_START;
		m->line_len = 0;
		return 0;
	case CS_DATA_CR:
		if (c != '\r')
			return body_error(m, 400, "chunk data not followed by CRLF");
		m->cs = CS_DATA_LF;
		return 0;
	case CS_DATA_LF:
		if (c != '\n')
			return body_error(m, 400, "chunk data not followed by CRLF");
		m->cs = CS_SIZE0;
		return 0;
	case CS_TR_START:
		if (c == '\r')
			m->cs = CS_TR_END_LF;
		else if (http_is_tchar(c))
			m->cs = CS_TR_NAME;
		else
			return body_error(m, 400, "malformed trailer section");
		return 0;
	case CS_TR_NAME:
		if (c == ':')
			m->cs = CS_TR_VALUE;
		else if (!http_is_tchar(c))
			return body_error(m, 400, "invalid trailer name");
		return 0;
	case CS_TR_VALUE:
		if (c == '\r')
			m->cs = CS_TR_LF;
		else if (!is_value_char(c))
			return body_error(m, 400, "invalid trailer value");
		return 0;
	case CS_TR_LF:
		if (c != '\n')
			return body_error(m, 400, "malformed trailer section");
		m->cs = CS_TR_START; /* a line starting with a blank is folding: refused there */
		return 0;
	case CS_TR_END_LF:
		if (c != '\n')
			return body_error(m, 400, "malformed trailer section");
		m->complete = true;
		return 0;
	}
	return body_error(m, 400, "chunked framing");
}

/* A chunked body: data in bulk, lines byte by byte. With <data>, stops
 * after the first run of chunk data and says where it was. */
static long scan_chunked(struct http_msg *m, const char *buf, size_t len,
			 struct http_span *data)
{
	size_t i = 0;

	while (i < len && !m->complete) {
		if (m->cs == CS_DATA) {
			size_t k = len - i < m->left ? len - i : (size_t)m->left;

			if (data)
				*data = (struct http_span){ (uint32_t)i, (uint32_t)k };
			i += k;
			m->left -= k;
			if (!m->left)
				m->cs = CS_DATA_CR;
			if (data)
				break;
			continue;
		}
		if (++m->line_len > (m->cs >= CS_TR_START ? m->max_head : CHUNK_LINE_MAX))
			return body_error(m, m->cs >= CS_TR_START ? 431 : 400,
					  m->cs >= CS_TR_START ? "trailer section too large" :
								 "chunk line too long");
		if (chunk_byte(m, (unsigned char)buf[i++]) != 0)
			return -1;
	}
	return (long)i;
}

void http_body_start(struct http_msg *m, const struct http_head *h)
{
	if (m->complete)
		return;
	if (h->chunked) {
		m->body = HTTP_BODY_CHUNKED;
		m->cs = CS_SIZE0;
	} else if (h->has_length) {
		m->body = HTTP_BODY_LENGTH;
		m->left = h->length;
	} else {
		m->body = HTTP_BODY_EOF; /* a response that runs until close */
	}
}

long http_body_scan(struct http_msg *m, const char *buf, size_t len)
{
	size_t k;

	if (m->cs_failed)
		return -1;
	if (m->complete || len == 0)
		return 0;
	switch (m->body) {
	case HTTP_BODY_CHUNKED:
		return scan_chunked(m, buf, len, NULL);
	case HTTP_BODY_LENGTH:
		k = len < m->left ? len : (size_t)m->left;
		m->left -= k;
		m->complete = m->left == 0;
		return (long)k;
	case HTTP_BODY_EOF:
		return (long)len;
	}
	return body_error(m, 400, "no body expected");
}

long http_body_data(struct http_msg *m, const char *buf, size_t len, struct http_span *data)
{
	long k;

	*data = (struct http_span){ 0, 0 };
	if (len > UINT32_MAX)
		len = UINT32_MAX; /* spans are 32-bit; the rest comes next call */
	if (m->body != HTTP_BODY_CHUNKED || m->cs_failed || m->complete || !len) {
		k = http_body_scan(m, buf, len);
		if (k > 0)
			data->len = (uint32_t)k;
		return k;
	}
	return scan_chunked(m, buf, len, data);
}

void http_msg_eof(struct http_msg *m)
{
	if (m->head_done && !m->complete && m->body == HTTP_BODY_EOF)
		m->complete = true;
}
