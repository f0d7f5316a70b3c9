/*
 * dgram_echo.c - a UDP echo server built on weir's datagram listener
 * (src/proxy/dgram.c), for the integration tests: real UDP clients
 * (socat, python) against the library's workers.
 *
 *   dgram-echo ADDR [--workers N] [--max-len N] [--dns | --sink]
 *
 * Answers every datagram with its own bytes, from the address it was sent
 * to. Two other modes, for the benchmarks (bench/udp_proxy.sh):
 *   --dns   a fast DNS responder: the reply is the query (id, question)
 *           with QR and AA set, rcode 0 and one answer, an A record
 *           127.0.0.1 for the question's name (a compression pointer to
 *           it); what followed the question (EDNS) is dropped. A
 *           datagram that is no query (shorter than a header, QR set) is
 *           not answered; a query whose question cannot be read gets
 *           FORMERR. Nothing is allocated per datagram.
 *   --sink  counts and never answers.
 * Prints "ready" once listening; on SIGTERM/SIGINT prints the counters
 * ("rx N truncated N batches N multi N tx N dropped N", rx counts what
 * arrived, tx what was answered) and exits 0. Exits 1 with the reason
 * when ADDR cannot be bound.
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* DNS header offsets and flags (RFC 1035 4.1.1) */
enum { DNS_HDR = 12, DNS_QR = 0x80, DNS_AA = 0x04, DNS_FORMERR = 1 };

/* The answer --dns appends: name = pointer to the question's name (offset
 * 12), type A, class IN, TTL 60, 4 bytes of data: 127.0.0.1. */
static const uint8_t dns_answer[] = {
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04,
	127, 0, 0, 1,
};

/* Length of the header and the one question of the query <q> (<len>
 * bytes), or 0 when it has not exactly one readable question. */
static size_t dns_question_end(const uint8_t *q, size_t len)
{
	size_t off = DNS_HDR;

	if (q[4] != 0 || q[5] != 1)
		return 0;
	while (off < len && q[off] != 0) {
		if (q[off] > 63)     /* a pointer or a reserved label type */
			return 0;
		off += 1u + q[off];
	}
	/* the root label, then QTYPE and QCLASS */
	return off + 5 <= len ? off + 5 : 0;
}

/* Rewrites the query <m> into its answer in place (the listener's
 * buffer has room for <max_len> bytes). Returns false when <m> gets no
 * answer. */
static bool dns_answer_in_place(struct dgram_msg *m, size_t max_len)
{
	uint8_t *q = m->data;
	size_t end;

	if (m->len < DNS_HDR || (q[2] & DNS_QR))
		return false;
	end = dns_question_end(q, m->len);
	q[2] = (uint8_t)((q[2] & 0x79) | DNS_QR | DNS_AA); /* keep opcode, RD */
	q[3] = 0;                                          /* RA 0, rcode 0 */
	memset(q + 6, 0, 6);                               /* AN, NS, AR */
	if (end == 0 || end + sizeof(dns_answer) > max_len) {
		q[3] = DNS_FORMERR;
		memset(q + 4, 0, 2);
		m->len = DNS_HDR;
		return true;
	}
	q[7] = 1;
	memcpy(q + end, dns_answer, sizeof(dns_answer));
	m->len = end + sizeof(dns_answer);
	return true;
}

static void dns(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!dns_answer_in_place(&msgs[i], dl->max_len))
			continue;
		if (k != i)
			msgs[k] = msgs[i];
		k++;
	}
	dgram_send(dl, msgs, k);
}

static void sink(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	(void)dl;
	(void)msgs;
	(void)n;
}

static const struct dgram_ops dns_ops = { .recv = dns };
static const struct dgram_ops sink_ops = { .recv = sink };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "max-len", required_argument, NULL, 'm' },
		{ "dns", no_argument, NULL, 'd' },
		{ "sink", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const struct dgram_ops *ops = &echo_ops;
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
		else if (opt == 'd')
			ops = &dns_ops;
		else if (opt == 's')
			ops = &sink_ops;
		else
			return 2;
	}
	if (optind != argc - 1 || addr_parse(argv[optind], false, &a) != 0 || n < 1) {
		fprintf(stderr, "usage: dgram-echo ADDR [--workers N] [--max-len N] [--dns | --sink]\n");
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
	dgram_start(set, ops, NULL);
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
