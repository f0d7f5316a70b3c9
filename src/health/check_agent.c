/*
 * check_agent.c - the agent check: a line read from a port of the server
 * ("up 75%", "drain", "weight 40"...), after sending the service's `send`
 * text if any. The line is advisory: an agent that cannot be reached or
 * says nothing readable changes nothing (health/state.c). Its words are the
 * service's `agent` option (core/healthspec.c), not a `check` kind.
 */
#include <stdio.h>
#include <string.h>

#include "health/check_ops.h"

#define AGENT_LINE 256      /* an agent's answer: one line */

_Static_assert(sizeof(struct agent_spec) <= HC_OWN_MAX, "agent_spec fits hc_conf.own");
_Static_assert(AGENT_LINE < HC_WHAT_MAX, "an agent's line fits a verdict");

static const struct agent_spec *agent_of(const struct hc_conf *conf)
{
	return (const struct agent_spec *)conf->own.bytes;
}

static bool agent_want(const struct virtual_service *svc, const struct real_server *rs,
		       struct hc_conf *conf)
{
	const struct agent_spec *a = &svc->spec.agent;

	if (!a->port)
		return false;
	conf->port = a->port;
	conf->jitter_pct = 10;
	conf->interval_ms = a->interval_ms;
	conf->timeout_ms = a->timeout_ms;
	memcpy(conf->own.bytes, a, sizeof(*a));
	return true;
}

static size_t agent_request(const struct hc_conf *conf, const struct weir_addr *to, char *out,
			    size_t size)
{
	/* newlines are real already (healthspec) */
	return (size_t)snprintf(out, size, "%s", agent_of(conf)->send) < size ?
	       strlen(out) : 0;
}

/* The first line, up to LF (a CR before it dropped), or all of it once the
 * agent closed or the line is as long as it may be. A line agent_parse()
 * cannot read is a failed check ("unreadable: ..."), which changes nothing
 * but what the listing shows. */
static int agent_answer(void *state, const struct hc_conf *conf, char *buf, size_t *len,
			bool eof, char *what)
{
	char *nl = memchr(buf, '\n', *len);
	size_t n = nl ? (size_t)(nl - buf) : *len;
	struct agent_answer ans;
	char why[128];

	if (!nl && !eof && *len < AGENT_LINE)
		return HC_MORE;
	while (n && buf[n - 1] == '\r')
		n--;
	if (!n) {
		snprintf(what, HC_WHAT_MAX, "closed without answering");
		return CHECK_FAIL;
	}
	if (agent_parse(buf, n, &ans, why) != 0) {
		snprintf(what, 64, "unreadable: %s", why);
		return CHECK_FAIL;
	}
	snprintf(what, HC_WHAT_MAX, "%.*s", (int)n, buf);
	return CHECK_PASS;
}

static uint32_t agent_done(struct real_server *rs, const struct hc_conf *conf,
			   enum check_result r, const char *what, uint32_t us)
{
	struct agent_answer ans;
	char why[128];

	/* a line that passed parses again, the same */
	if (r == CHECK_PASS && agent_parse(what, strlen(what), &ans, why) == 0)
		health_agent_done(rs, true, &ans, what);
	else
		health_agent_done(rs, false, NULL, what);
	return agent_of(conf)->interval_ms;
}

static void agent_forget(struct real_server *rs)
{
	struct rs_health *h = &health_rs(rs)->h;

	h->agent = AGENT_NONE;
	h->agent_pct = 100;
	h->agent_weight = 0;
	h->agent_last[0] = '\0';
}

const struct hc_ops hc_agent = {
	.name = "agent",
	.slot = HC_SLOT_AGENT,
	.answer_max = AGENT_LINE,
	.want = agent_want,
	.request = agent_request,
	.answer = agent_answer,
	.done = agent_done,
	.forget = agent_forget,
};
