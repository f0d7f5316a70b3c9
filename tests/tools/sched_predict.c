/*
 * sched_predict.c - the oracle of the scheduler integration tests.
 *
 *   sched-predict CONFIG < PICKS
 *
 * Loads the same config file the daemon runs, builds the same live table
 * (proxy services turned into packet-mode ones, so nothing listens), and
 * answers, for each input line "pick SRC_IP[:PORT] hold|close", which real
 * server the table's svc_schedule() chooses for a connection from SRC_IP to
 * the first service. "hold" keeps the connection open (it counts as active),
 * "close" ends it at once. One output line per pick: the server's address
 * or "none". The tests drive the real proxy with the same picks and compare.
 */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/table.h"
#include "core/util.h"
#include "register.h"

#define MAX_HELD 65536

static void unproxy(struct weir_config *cfg)
{
	for (size_t i = 0; i < cfg->nservices; i++) {
		cfg->services[i].proxy = NULL;
		for (size_t k = 0; k < cfg->services[i].nservers; k++)
			cfg->services[i].servers[k].fwd = FWD_MASQ; /* keep their ports */
	}
}

int main(int argc, char **argv)
{
	static struct real_server *held[MAX_HELD];
	static struct weir_addr held_from[MAX_HELD];
	struct weir_config cfg;
	struct vs_table t;
	char err[CONFIG_ERR_MAX], line[256];
	size_t nheld = 0;
	uint64_t now = 1000;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: sched-predict CONFIG < PICKS\n");
		return 2;
	}
	weir_register(); /* the modes the config names, health's server states */
	if (config_load(argv[1], &cfg, err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	unproxy(&cfg);
	table_init(&t, 1);
	if (cfg.nservices == 0 || table_apply(&t, &cfg, err) != 0) {
		fprintf(stderr, "sched-predict: %s\n", cfg.nservices ? err : "no service");
		rc = 1;
		goto out;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char src[128], mode[16], a[ADDR_STRLEN];
		struct vs_runtime rt;
		struct weir_addr from;
		struct real_server *rs;

		if (sscanf(line, "pick %127s %15s", src, mode) != 2 ||
		    addr_parse(src, true, &from) != 0) {
			fprintf(stderr, "sched-predict: bad line: %s", line);
			rc = 1;
			break;
		}
		now += 10;
		rs = svc_schedule(t.head, &from, now, NULL, 0, &rt);
		printf("%s\n", rs ? addr_str(&rs->addr, a) : "none");
		if (!rs)
			continue;
		if (strcmp(mode, "hold") == 0 && nheld < MAX_HELD) {
			held_from[nheld] = from;
			held[nheld++] = rs;
		} else {
			svc_conn_close(rs, true, &from, now);
		}
	}
	for (size_t i = 0; i < nheld; i++)
		svc_conn_close(held[i], true, &held_from[i], now);
out:
	table_fini(&t);
	spec_free(&cfg);
	return rc;
}
