/* option.c - the option registry and the parsers and printers of each
 * option type (see option.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/option.h"
#include "core/util.h"

extern struct opt_block spec_service_block, spec_server_block; /* core/spec_opts.c */

static struct opt_block *blocks[OPT_BLOCKS_MAX];
static size_t nblocks;
static struct opt_ref refs[OPT_ROWS_MAX], saved[OPT_ROWS_MAX];
static size_t nrefs;
static size_t area_used;

static void add_block(struct opt_block *b)
{
	if (nblocks == OPT_BLOCKS_MAX || nrefs + b->nrows > OPT_ROWS_MAX)
		fatalx("too many option blocks or rows (%s)", b->name);
	if (b->size) {
		size_t align = b->align ? b->align : 8;
		size_t off = (area_used + align - 1) / align * align;

		if (b->scope != OPT_SVC || off + b->size > SPEC_OPTS_MAX)
			fatalx("block %s does not fit the service option area", b->name);
		b->off = off;
		area_used = off + b->size;
	}
	for (size_t i = 0; i < b->nrows; i++) {
		const struct opt_row *o = &b->rows[i];

		for (size_t k = 0; k < nrefs; k++) {
			const struct opt_row *q = refs[k].row;

			if (!(q->scope & o->scope))
				continue;
			if ((o->key && q->key && strcmp(o->key, q->key) == 0) ||
			    (o->flag && q->flag && strcmp(o->flag, q->flag) == 0 &&
			     o->scope == q->scope))
				fatalx("option %s registered twice", o->key ? o->key : o->flag);
		}
		refs[nrefs++] = (struct opt_ref){ .block = b, .row = o };
	}
	blocks[nblocks++] = b;
}

/* ipvsadm's rows by their order, then the others as registered. */
static void sort_saved(void)
{
	size_t n = 0;

	for (unsigned ord = 1; ord < 256; ord++)
		for (size_t i = 0; i < nrefs; i++)
			if ((refs[i].row->flags & OPT_F_IPVSADM) && refs[i].row->order == ord)
				saved[n++] = refs[i];
	for (size_t i = 0; i < nrefs; i++)
		if (!(refs[i].row->flags & OPT_F_IPVSADM) || !refs[i].row->order)
			saved[n++] = refs[i];
}

/* The core's blocks are always there, before any other. */
static void core_blocks(void)
{
	if (nblocks)
		return;
	add_block(&spec_service_block);
	add_block(&spec_server_block);
	sort_saved();
}

void opt_register(struct opt_block *b)
{
	core_blocks();
	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i] == b)
			return;
	add_block(b);
	sort_saved();
}

const struct opt_ref *opt_rows(size_t *n)
{
	core_blocks();
	*n = nrefs;
	return refs;
}

const struct opt_ref *opt_rows_saved(size_t *n)
{
	core_blocks();
	*n = nrefs;
	return saved;
}

size_t opt_area_used(void)
{
	return area_used;
}

const struct opt_ref *opt_find_key(uint8_t scope, const char *key)
{
	core_blocks();
	for (size_t i = 0; i < nrefs; i++)
		if ((refs[i].row->scope & scope) && refs[i].row->key &&
		    strcmp(refs[i].row->key, key) == 0)
			return &refs[i];
	return NULL;
}

void *opt_base(const struct opt_ref *r, void *obj)
{
	if (r->block->size)
		return ((struct service_spec *)obj)->opts + r->block->off;
	return obj;
}

const void *opt_cbase(const struct opt_ref *r, const void *obj)
{
	return opt_base(r, (void *)obj);
}

void opt_area_defaults(struct service_spec *s)
{
	core_blocks();
	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i]->size && blocks[i]->defaults)
			blocks[i]->defaults(s->opts + blocks[i]->off);
}

void opt_nargs(const struct opt_row *o, int *min, int *max)
{
	if (o->type == OPT_WORDS || o->type == OPT_CUSTOM) {
		*min = o->min_args;
		*max = o->max_args;
	} else {
		*min = (o->flags & OPT_F_OPTARG) ? 0 : 1;
		*max = 1;
	}
}

bool opt_takes_words(const struct opt_row *o)
{
	int min, max;

	opt_nargs(o, &min, &max);
	return max != 1;
}

/* --- words ------------------------------------------------------------------ */

void opt_put_word(char *out, size_t len, const char *w)
{
	size_t n = strlen(out);
	bool quote = !*w || strpbrk(w, " \t\r\n\"\\;{}#'") != NULL;

#define PUT(c) do { if (n + 1 < len) out[n++] = (c); } while (0)
	if (n)
		PUT(' ');
	if (quote)
		PUT('"');
	for (; *w; w++) {
		if (quote && (*w == '"' || *w == '\\'))
			PUT('\\');
		PUT(*w);
	}
	if (quote)
		PUT('"');
#undef PUT
	out[n] = '\0';
}

int opt_fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, SPEC_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* --- numbers in fields of 1, 2, 4 or 8 bytes -------------------------------- */

static uint64_t get_num(const void *f, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)f;
	case 2: return *(const uint16_t *)f;
	case 4: return *(const uint32_t *)f;
	default: return *(const uint64_t *)f;
	}
}

static void set_num(void *f, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)f = (uint8_t)v; break;
	case 2: *(uint16_t *)f = (uint16_t)v; break;
	case 4: *(uint32_t *)f = (uint32_t)v; break;
	default: *(uint64_t *)f = v; break;
	}
}

static void size_str(uint64_t v, char *out, size_t len)
{
	static const struct { unsigned shift; char unit; } units[] = {
		{ 30, 'g' }, { 20, 'm' }, { 10, 'k' },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (v && v % (1ull << units[i].shift) == 0) {
			snprintf(out, len, "%" PRIu64 "%c", v >> units[i].shift, units[i].unit);
			return;
		}
	snprintf(out, len, "%" PRIu64, v);
}

/* --- the types' parsers ------------------------------------------------------- */

/* "'x' is not a, b or c" / "one of a, b, c, d" for an ENUM row. */
static void enum_why(const struct opt_row *o, const char *arg, char *why)
{
	char list[256] = "";
	size_t n = 0, len = 0;

	for (size_t i = 0; o->words[i].word; i++) {
		bool alias = false;

		for (size_t k = 0; k < i; k++)
			alias |= o->words[k].value == o->words[i].value;
		if (!alias)
			n++;
	}
	for (size_t i = 0, k = 0; o->words[i].word; i++) {
		bool alias = false;

		for (size_t j = 0; j < i; j++)
			alias |= o->words[j].value == o->words[i].value;
		if (alias)
			continue;
		k++;
		len += (size_t)snprintf(list + len, sizeof(list) - MIN(len, sizeof(list)), "%s%s",
					k == 1 ? "" : (n <= 3 && k == n) ? " or " : ", ",
					o->words[i].word);
	}
	snprintf(why, SPEC_ERR_MAX, "'%s' is not %s%s", arg, n > 3 ? "one of " : "", list);
}

static int parse_type(const struct opt_row *o, const char *s, void *f, char *why)
{
	uint32_t v32;
	uint64_t v64;

	switch (o->type) {
	case OPT_BOOL:
		if (strcmp(s, "on") != 0 && strcmp(s, "off") != 0)
			return opt_fail(why, "'%s' is not on or off", s);
		*(bool *)f = s[1] == 'n';
		return 0;
	case OPT_U32:
		if (parse_u32(s, (uint32_t)o->max, &v32) != 0 || v32 < o->min)
			return opt_fail(why, "'%s' is not a number in %" PRIu64 "..%" PRIu64, s,
					o->min, o->max);
		set_num(f, o->size, v32);
		return 0;
	case OPT_DURATION:
		if ((o->flags & OPT_F_OFF) && strcmp(s, "off") == 0) {
			*(uint32_t *)f = 0;
			return 0;
		}
		if (parse_duration_ms(s, 1000, &v32) != 0)
			return opt_fail(why, "'%s' is not a duration (e.g. 500ms, 2s, 5m)", s);
		*(uint32_t *)f = v32;
		return 0;
	case OPT_SIZE:
		if (parse_size(s, o->max, &v64) != 0)
			return opt_fail(why, "'%s' is not a size (e.g. 512, 16k, 10m) up to %" PRIu64,
					s, o->max);
		if (v64 < o->min) {
			char min[32];

			size_str(o->min, min, sizeof(min));
			return opt_fail(why, "at least %s", min);
		}
		set_num(f, o->size, v64);
		return 0;
	case OPT_ENUM:
		for (size_t i = 0; o->words[i].word; i++)
			if (strcmp(s, o->words[i].word) == 0) {
				set_num(f, o->size, o->words[i].value);
				return 0;
			}
		enum_why(o, s, why);
		return -EINVAL;
	case OPT_STRING:
		if ((o->flags & OPT_F_OFF) && strcmp(s, "off") == 0)
			s = "";
		if (strlen(s) >= o->size)
			return opt_fail(why, "'%s' is longer than %zu bytes", s, o->size - 1);
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return opt_fail(why, "control characters are not allowed");
		memset(f, 0, o->size);
		memcpy(f, s, strlen(s));
		return 0;
	default:
		return opt_fail(why, "no parser");
	}
}

int opt_parse(const struct opt_ref *r, char *const *w, int n, void *obj, char *why)
{
	const struct opt_row *o = r->row;
	void *base = opt_base(r, obj);
	int min, max;

	opt_nargs(o, &min, &max);
	if (n < min)
		return opt_fail(why, "a value is missing");
	if (max >= 0 && n > max)
		return opt_fail(why, "takes at most %d value%s, not %d", max, max == 1 ? "" : "s", n);
	if (o->parse)
		return o->parse(o, w, n, base, why);
	if (n == 0)
		return 0;
	return parse_type(o, w[0], (char *)base + o->off, why);
}

/* --- the types' printers ---------------------------------------------------- */

static void format_type(const struct opt_row *o, const void *f, char *out, size_t len)
{
	char tmp[64];
	uint64_t v;

	out[0] = '\0';
	switch (o->type) {
	case OPT_BOOL:
		snprintf(out, len, "%s", *(const bool *)f ? "on" : "off");
		return;
	case OPT_U32:
		snprintf(out, len, "%" PRIu64, get_num(f, o->size));
		return;
	case OPT_DURATION:
		v = *(const uint32_t *)f;
		if (!v && (o->flags & OPT_F_OFF))
			snprintf(out, len, "off");
		else
			snprintf(out, len, "%" PRIu64 "ms", v);
		return;
	case OPT_SIZE:
		size_str(get_num(f, o->size), out, len);
		return;
	case OPT_ENUM:
		v = get_num(f, o->size);
		for (size_t i = 0; o->words[i].word; i++)
			if (o->words[i].value == v) {
				snprintf(out, len, "%s", o->words[i].word);
				return;
			}
		snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
		opt_put_word(out, len, tmp);
		return;
	case OPT_STRING:
		if (!*(const char *)f && (o->flags & OPT_F_OFF))
			snprintf(out, len, "off");
		else
			opt_put_word(out, len, f);
		return;
	default:
		return;
	}
}

void opt_format(const struct opt_ref *r, const void *obj, char *out, size_t len)
{
	const struct opt_row *o = r->row;
	const void *base = opt_cbase(r, obj);

	out[0] = '\0';
	if (o->format)
		o->format(o, base, out, len);
	else
		format_type(o, (const char *)base + o->off, out, len);
}

bool opt_equal(const struct opt_ref *r, const void *a, const void *b)
{
	const struct opt_row *o = r->row;

	return memcmp((const char *)opt_cbase(r, a) + o->off,
		      (const char *)opt_cbase(r, b) + o->off, o->size) == 0;
}

void opt_copy(const struct opt_ref *r, void *dst, const void *src)
{
	const struct opt_row *o = r->row;

	memcpy((char *)opt_base(r, dst) + o->off, (const char *)opt_cbase(r, src) + o->off,
	       o->size);
}

void opt_copy_scope(uint8_t scope, struct service_spec *dst, const struct service_spec *src)
{
	size_t n;
	const struct opt_ref *all = opt_rows(&n);

	for (size_t i = 0; i < n; i++)
		if ((all[i].row->scope & scope) && !(all[i].block->scope & OPT_SRV))
			opt_copy(&all[i], dst, src);
}
