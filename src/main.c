/*
 * main.c - the weir daemon: options, the control thread, signals.
 *
 *   weir [-c FILE] [--socket PATH]   run in the foreground
 *   weir -t -c FILE                  check a config and exit
 *
 * The main thread is the control thread: it owns the virtual-service table,
 * the admin socket and the signals (signalfd), and reloads the config. The
 * workers (core/worker.c) carry the traffic.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/memtrim.h"
#include "core/table.h"
#include "core/worker.h"
#include "ctl/admin.h"
#include "ctl/cmd.h"
#include "ctl/exec.h"
#include "ctl/metrics_http.h"
#include "dns/dns.h"
#include "register.h"
#include "version.h"
#include "health/check.h"
#include "health/state.h"
#include "xdp/rs.h"
#include "xdp/xdp.h"
#include "proxy/portown.h"
#include "proxy/accesslog.h"
#include "proxy/pworker.h"

struct daemon {
	struct loop *loop;
	struct vs_table table;
	struct ctl_ctx ctl;
	struct admin *admin;
	struct admin *metrics;    /* the admin HTTP listener, if configured */
	struct weir_addr metrics_addr;
	struct loop_io sig;
	struct timer tick;        /* rates and persistence, every 2 s */
	struct memtrim trim;      /* ... and freed memory back to the kernel */
	struct timer health_tick; /* slow starts and ejections */
	struct timer stop_check;  /* while stopping */
	uint64_t stop_deadline;
	bool stopping, forced;
	const char *config_path;
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: weir [-c FILE] [--socket PATH]   run the daemon in the foreground\n"
		   "       weir -t -c FILE                  check FILE and exit\n"
		   "       weir rs add|del VIP [--mode dr|tun]   prepare a real server (see weir rs)\n"
		   "options:\n"
		   "  -c, --config FILE   the config file (without it weir starts with no services)\n"
		   "  -t, --test          check the config and exit: 0 if valid, 1 with FILE:LINE: reason\n"
		   "  -s, --socket PATH   admin socket (default $WEIR_SOCKET, else %s)\n"
		   "  -h, --help          this help\n"
		   "      --version       print the version and exit\n", ADMIN_DEFAULT_SOCKET);
}

static int worker_count(const struct weir_config *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg->workers > 0)
		return cfg->workers;
	return n > 0 ? (int)n : 1;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-files limit: %s", strerror(errno));
	}
}

/* --- reload ------------------------------------------------------------------ */

/* Opens the metrics listener <cfg> asks for into *<next> (NULL = none, or
 * the current one when unchanged). 0, or -1 with <err>. */
static int metrics_prepare(struct daemon *d, const struct weir_config *cfg,
			   struct admin **next, char *err)
{
	*next = d->metrics;
	if (addr_equal(&cfg->metrics, &d->metrics_addr))
		return 0;
	*next = NULL;
	if (addr_port(&cfg->metrics) == 0)
		return 0;
	*next = admin_open_tcp(d->loop, &cfg->metrics, &metrics_http_proto, &d->ctl, err);
	return *next ? 0 : -1;
}

static void metrics_commit(struct daemon *d, const struct weir_config *cfg, struct admin *next)
{
	char a[ADDR_STRLEN];

	if (next == d->metrics)
		return;
	admin_close(d->metrics);
	d->metrics = next;
	d->metrics_addr = cfg->metrics;
	if (next)
		log_info("metrics listener on http://%s/metrics", addr_str(&cfg->metrics, a));
}

static int reload(struct ctl_ctx *ctx, char *err)
{
	struct daemon *d = container_of(ctx, struct daemon, ctl);
	struct weir_config cfg;
	struct admin *metrics;
	char msg[CONFIG_ERR_MAX];
	int rc;

	accesslog_reopen_all(); /* whatever becomes of the config: logrotate */
	if ((rc = config_load(d->config_path, &cfg, msg)) != 0) {
		log_err("reload refused: %s", msg);
		snprintf(err, CTL_ERR_MAX, "reload refused: %.490s", msg);
		return rc;
	}
	if (worker_count(&cfg) != nworkers)
		log_warn("reload: 'workers' changes only at restart (running %d)", nworkers);
	if (cfg.socket_path && (!d->table.cfg.socket_path ||
				strcmp(cfg.socket_path, d->table.cfg.socket_path) != 0))
		log_warn("reload: 'socket' changes only at restart");
	spec_keep_admin_state(&cfg, &d->table.cfg);
	if ((rc = xdp_configure(&cfg.xdp, msg)) == 0 &&
	    (rc = metrics_prepare(d, &cfg, &metrics, msg)) == 0 &&
	    (rc = table_apply(&d->table, &cfg, msg)) != 0 && metrics != d->metrics)
		admin_close(metrics);
	if (rc) {
		log_err("reload refused: %s", msg);
		snprintf(err, CTL_ERR_MAX, "reload refused: %.490s", msg);
	} else {
		metrics_commit(d, &cfg, metrics);
		log_threshold = (enum log_level)cfg.log_level;
		log_info("reloaded %s: %zu services", d->config_path, cfg.nservices);
	}
	spec_free(&cfg);
	return rc;
}

/* --- stopping ---------------------------------------------------------------- */

static void stop_check_cb(struct timer *t)
{
	struct daemon *d = container_of(t, struct daemon, stop_check);

	if (workers_done()) {
		loop_stop(d->loop);
		return;
	}
	if (!d->forced && loop_now(d->loop) >= d->stop_deadline) {
		log_warn("grace time over: closing the remaining connections");
		d->forced = true;
		workers_force();
	}
	timer_arm(d->loop, t, loop_now(d->loop) + 50);
}

static void begin_stop(struct daemon *d, const char *why)
{
	if (d->stopping) {
		log_warn("%s again: closing every connection now", why);
		d->forced = true;
		workers_force();
		return;
	}
	d->stopping = true;
	d->stop_deadline = loop_now(d->loop) + d->table.cfg.grace_ms;
	log_info("%s: no new connections; open ones have %u ms to finish", why,
		 d->table.cfg.grace_ms);
	workers_stop();
	timer_arm(d->loop, &d->stop_check, loop_now(d->loop) + 10);
}

static void signal_cb(struct loop_io *io, uint32_t events)
{
	struct daemon *d = container_of(io, struct daemon, sig);
	struct signalfd_siginfo si;
	char err[CTL_ERR_MAX];

	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (!d->config_path) {
				log_warn("SIGHUP: started without -c, nothing to reload");
				accesslog_reopen_all();
			} else {
				reload(&d->ctl, err);
			}
			break;
		case SIGINT:
			begin_stop(d, "SIGINT");
			break;
		case SIGTERM:
			begin_stop(d, "SIGTERM");
			break;
		}
	}
}

static void tick_cb(struct timer *t)
{
	struct daemon *d = container_of(t, struct daemon, tick);

	xdp_fold_counters();
	dns_xdp_fold(&d->table);
	table_tick(&d->table, loop_now(d->loop));
	memtrim_tick(&d->trim);
	timer_arm(d->loop, t, loop_now(d->loop) + RATE_INTERVAL_MS);
}

static void health_tick_cb(struct timer *t)
{
	struct daemon *d = container_of(t, struct daemon, health_tick);

	health_tick(&d->table, loop_now(d->loop));
	xdp_tick(loop_now(d->loop));
	dns_xdp_tick(&d->table, loop_now(d->loop));
	timer_arm(d->loop, t, loop_now(d->loop) + HEALTH_TICK_MS);
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->sig.cb = signal_cb;
	if (d->sig.fd < 0)
		return -errno;
	return loop_add(d->loop, &d->sig, EPOLLIN);
}

/* --- main ---------------------------------------------------------------------- */

static const char *socket_path(const char *opt, const struct weir_config *cfg)
{
	const char *env = getenv("WEIR_SOCKET");

	if (opt)
		return opt;
	if (env && *env)
		return env;
	if (cfg->socket_path)
		return cfg->socket_path;
	return ADMIN_DEFAULT_SOCKET;
}

static int run(struct daemon *d, struct weir_config *cfg, const char *sock_opt)
{
	struct admin *metrics;
	char err[CONFIG_ERR_MAX];
	int n = worker_count(cfg), rc;

	log_threshold = (enum log_level)cfg->log_level;
	raise_fd_limit();
	if (!(d->loop = loop_new()) || setup_signals(d) != 0) {
		log_err("cannot set up the control loop: %s", strerror(errno));
		return 1;
	}
	table_init(&d->table, n + 1);
	weir_thread_id = n;
	d->ctl = (struct ctl_ctx){ .table = &d->table, .config_path = d->config_path,
				   .started_ms = now_ms(), .nworkers = n, .reload = reload };
	pworker_setup();
	if ((rc = workers_start(n)) != 0 || (rc = health_start(n)) != 0) {
		log_err("cannot start workers: %s", strerror(-rc));
		return 1;
	}
	if (xdp_configure(&cfg->xdp, err) != 0 || table_apply(&d->table, cfg, err) != 0) {
		log_err("%s", err);
		d->exit_code = 1;
		goto out_stop;
	}
	d->admin = admin_open(d->loop, socket_path(sock_opt, cfg), &d->ctl, err);
	if (!d->admin || metrics_prepare(d, cfg, &metrics, err) != 0) {
		log_err("%s", err);
		d->exit_code = 1;
		goto out_stop;
	}
	metrics_commit(d, cfg, metrics);
	d->tick.cb = tick_cb;
	d->health_tick.cb = health_tick_cb;
	d->stop_check.cb = stop_check_cb;
	timer_arm(d->loop, &d->tick, now_ms() + RATE_INTERVAL_MS);
	timer_arm(d->loop, &d->health_tick, now_ms() + HEALTH_TICK_MS);
	log_info("weir started: %d workers, %zu services, admin socket %s", n,
		 cfg->nservices, socket_path(sock_opt, cfg));
	if ((rc = loop_run(d->loop)) != 0)
		log_err("control loop: %s", strerror(-rc));
	log_info("stopped");
	goto out_join;

out_stop:
	workers_stop();
	workers_force();
out_join:
	xdp_stop();
	health_shutdown();
	workers_join();
	admin_close(d->metrics);
	admin_close(d->admin);
	table_fini(&d->table);
	close(d->sig.fd);
	loop_free(d->loop);
	return d->exit_code;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .exit_code = 0 };
	struct weir_config cfg;
	const char *sock_opt = NULL;
	char err[CONFIG_ERR_MAX];
	bool test = false;
	int opt, rc;

	weir_register();

	if (argc > 1 && strcmp(argv[1], "rs") == 0)
		return rs_main(argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "c:ts:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 't': test = true; break;
		case 's': sock_opt = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("weir v%s %s\n", WEIR_VERSION, WEIR_SPEAKS); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weir: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (test && !d.config_path) {
		fprintf(stderr, "weir: -t needs -c FILE\n");
		return 2;
	}
	if (d.config_path) {
		if (config_load(d.config_path, &cfg, err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	} else {
		spec_init(&cfg);
	}
	if (test) {
		/* a port another program holds would stop the start (proxy/portown.h) */
		rc = port_check_config(&cfg, d.config_path, stderr);
		if (rc == 0)
			printf("%s: configuration is valid (%zu services)\n", d.config_path,
			       cfg.nservices);
		spec_free(&cfg);
		return rc ? 1 : 0;
	}
	memtrim_init();
	rc = run(&d, &cfg, sock_opt);
	spec_free(&cfg);
	return rc;
}
