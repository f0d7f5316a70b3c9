/*
 * dgram_echo.c - a UDP echo server built on weir's datagram listener
 * (src/proxy/dgram.c), for the integration tests: real UDP clients
 * (socat, python) against the library's workers.
 *
 *   dgram-echo ADDR [--workers N] [--max-len N]
 *
 * Answers every datagram with its own bytes, from the address it was sent
 * to. Prints "ready" once listening; on SIGTERM/SIGINT prints the
 * counters ("rx N truncated N batches N multi N tx N dropped N") and
 * exits 0. Exits 1 with the reason when ADDR cannot be bound.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/worker.h"
#include "proxy/dgram.h"
#include "proxy/lsock.h"
#include "proxy/pworker.h"

static void echo(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	dgram_send(dl, msgs, n);
}

static const struct dgram_ops echo_ops = { .recv = echo };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "max-len", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct dgram_conf conf = { 0 };
	struct dgram_counters c;
	struct dgram_set *set;
	struct weir_addr a;
	char why[LSOCK_WHY_MAX];
	int n = 2, opt, sig;
	sigset_t stop;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'w')
			n = atoi(optarg);
		else if (opt == 'm')
			conf.max_len = (size_t)atol(optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || addr_parse(argv[optind], false, &a) != 0 || n < 1) {
		fprintf(stderr, "usage: dgram-echo ADDR [--workers N] [--max-len N]\n");
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	pworker_setup();
	if (workers_start(n) != 0) {
		fprintf(stderr, "dgram-echo: cannot start workers\n");
		return 1;
	}
	if (dgram_prepare(&a, &conf, &set, why) != 0) {
		fprintf(stderr, "dgram-echo: udp %s: %s\n", argv[optind], why);
		workers_stop();
		workers_join();
		return 1;
	}
	dgram_start(set, &echo_ops, NULL);
	printf("ready\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	/* the workers first: a worker counts a reply after sendmmsg() returns,
	 * maybe after the client has it and sent the signal */
	workers_stop();
	while (!workers_done())
		usleep(10000);
	workers_join();
	dgram_counters(set, &c);
	dgram_stop(set);
	printf("rx %llu truncated %llu batches %llu multi %llu tx %llu dropped %llu\n",
	       (unsigned long long)c.rx, (unsigned long long)c.truncated,
	       (unsigned long long)c.rx_batches, (unsigned long long)c.rx_multi,
	       (unsigned long long)c.tx, (unsigned long long)c.tx_dropped);
	return 0;
}
