/* check_tcp.c - the tcp check: the server accepts a connection. Nothing is
 * sent or read; connecting within the timeout is the check (check.c). */
#include "health/check_ops.h"

static const struct check_kind tcp_words = {
	.name = "tcp", /* the common keys only */
};

static bool tcp_want(const struct virtual_service *svc, const struct real_server *rs,
		     struct hc_conf *conf)
{
	return hc_active_want(&tcp_words, svc, rs, conf);
}

const struct hc_ops hc_tcp = {
	.name = "tcp",
	.words = &tcp_words,
	.slot = HC_SLOT_ACTIVE,
	.want = tcp_want,
	.done = hc_active_done,
	.forget = hc_active_forget,
};
