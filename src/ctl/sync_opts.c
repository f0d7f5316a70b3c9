/*
 * sync_opts.c - ipvsadm's connection sync daemon options in weirctl's
 * grammar (--start-daemon, --stop-daemon and their --syncid, --mcast-*,
 * --sync-maxlen), read with ipvsadm's checks and messages into
 * struct ctl_sync. weir has no sync between directors yet: ctl_parse
 * refuses the commands after reading them; the sync to come takes these
 * over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/grammar.h"

/* ipvsadm's string_to_number: all of <s> a decimal in min..max, else -1. */
static int number(const char *s, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno == ERANGE || v < min || v > max)
		return -1;
	return (int)v;
}

/* *<v> = <arg> in min..max, else ipvsadm's <msg>. */
static int set_number(int *v, const char *arg, int min, int max, const char *msg, char *err)
{
	if ((*v = number(arg, min, max)) < 0)
		return ctl_fail(err, "%s", msg);
	return 0;
}

static int set_sync_state(struct ctl_cmd *c, const char *arg, const char *msg, char *err)
{
	if (strcmp(arg, "master") == 0)
		c->sync.state = SYNC_MASTER;
	else if (strcmp(arg, "backup") == 0)
		c->sync.state = SYNC_BACKUP;
	else
		return ctl_fail(err, "%s", msg);
	return 0;
}

int set_start_daemon(struct ctl_cmd *c, const char *arg, char *err)
{
	snprintf(c->sync.mcast_ifn, sizeof(c->sync.mcast_ifn), "eth0"); /* ipvsadm's default */
	return set_sync_state(c, arg, "illegal start-daemon parameter specified", err);
}

int set_stop_daemon(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_sync_state(c, arg, "illegal start_daemon specified", err); /* sic, ipvsadm */
}

int set_mcast_ifn(struct ctl_cmd *c, const char *arg, char *err)
{
	snprintf(c->sync.mcast_ifn, sizeof(c->sync.mcast_ifn), "%s", arg); /* cut, as ipvsadm */
	return 0;
}

int set_syncid(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_number(&c->sync.syncid, arg, 0, 255, "illegal syncid specified", err);
}

int set_sync_maxlen(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_number(&c->sync.sync_maxlen, arg, 1, 65535 - 20 - 8, "illegal sync-maxlen specified", err);
}

int set_mcast_group(struct ctl_cmd *c, const char *arg, char *err)
{
	uint8_t *g = c->sync.mcast_group;

	if (strchr(arg, ':')) {
		if (inet_pton(AF_INET6, arg, g) <= 0 || g[0] != 0xff)
			return ctl_fail(err, "invalid IPv6 mcast-group `%s'", arg);
		c->sync.mcast_af = AF_INET6;
	} else {
		if (inet_pton(AF_INET, arg, g) <= 0 || (g[0] & 0xf0) != 0xe0)
			return ctl_fail(err, "invalid IPv4 mcast-group `%s'", arg);
		c->sync.mcast_af = AF_INET;
	}
	return 0;
}

int set_mcast_port(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_number(&c->sync.mcast_port, arg, 1, 65535, "illegal mcast-port specified", err);
}

int set_mcast_ttl(struct ctl_cmd *c, const char *arg, char *err)
{
	return set_number(&c->sync.mcast_ttl, arg, 1, 255, "illegal mcast-ttl specified", err);
}
