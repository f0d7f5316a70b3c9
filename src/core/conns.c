/* conns.c - see conns.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/conns.h"

static int reserve(struct conn_list *l, size_t more)
{
	size_t cap = l->cap ? l->cap : 64;
	struct conn_entry *v;

	if (l->n + more <= l->cap)
		return 0;
	while (cap < l->n + more)
		cap *= 2;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

int conn_list_add(struct conn_list *l, const struct conn_entry *e)
{
	if (reserve(l, 1) != 0)
		return -ENOMEM;
	l->v[l->n++] = *e;
	return 0;
}

int conn_list_move(struct conn_list *to, struct conn_list *from)
{
	if (!from->n)
		return 0;
	if (reserve(to, from->n) != 0)
		return -ENOMEM;
	memcpy(to->v + to->n, from->v, from->n * sizeof(*from->v));
	to->n += from->n;
	from->n = 0;
	return 0;
}

void conn_list_free(struct conn_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
