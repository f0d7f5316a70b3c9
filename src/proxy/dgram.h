/*
 * dgram.h - datagram listeners: the UDP side of listener.c, for the UDP
 * proxy and the DNS answers.
 *
 * A dgram_set is one listening address: one SO_REUSEPORT UDP socket per
 * worker (lsock.h: nobody else may share the port), each on its worker's
 * event loop, so the kernel spreads clients over the workers by their
 * address. A worker receives with recvmmsg() and hands each batch to the
 * user's recv callback; replies go out in batches with sendmmsg(). Every
 * datagram carries the address it was sent to and the interface it came
 * in on (IP_PKTINFO / IPV6_RECVPKTINFO), and a reply is sent from that
 * address by that interface: a listener bound to 0.0.0.0 or :: on a host
 * with many addresses answers from the one each client talked to.
 * The source address is always the one given. The interface is binding
 * for IPv4 (the route lookup keeps to it) and for IPv6 link-local and
 * multicast peers; for other IPv6 peers Linux takes it as a preference
 * only when a source address is given too (ip6_route_output: a strict
 * interface lookup needs an unspecified source), so the routes to the
 * client decide.
 *
 * Life, like the stream listeners (proxy.h): dgram_prepare() binds on the
 * control thread, dgram_start() hands the sockets to the workers,
 * dgram_stop() closes them (asynchronously, each on its worker). A worker
 * that stops (its on_stop hook) closes its datagram listeners too.
 */
#ifndef WEIR_DGRAM_H
#define WEIR_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/loop.h"
#include "core/worker.h"

/* Datagrams taken by one recvmmsg() at most, and sent by one sendmmsg(). */
#define DGRAM_BATCH_MAX 64
/* Receive buffers per listener: batch * max_len stays under this. */
#define DGRAM_RX_BYTES (256u * 1024)
#define DGRAM_DEFAULT_MAX_LEN 65535u

/* One datagram, received or to send.
 * Received: <data> points into the listener's receive buffer; it and the
 * array the callback gets are valid until the callback returns (copy what
 * must live longer). The callback may rewrite them in place (up to the
 * listener's max_len) and pass them to dgram_send(), e.g. to echo.
 * To send: the caller owns everything; dgram_send() copies nothing and
 * keeps no pointer after it returns. */
struct dgram_msg {
	void *data;
	size_t len;
	struct weir_addr peer;   /* the client: received from / send to */
	struct weir_addr local;  /* the address the client sent to / send from;
	                          * family 0 on send = let the kernel choose */
	int ifindex;             /* interface it came in on / leaves by (IPv6:
	                          * see above); 0 = any */
};

struct dgram_listener;

/* What a user of datagram listeners provides. <recv> runs on the
 * listener's worker thread. <hold>/<release> (optional) keep <ctx> alive
 * while a listener points at it: hold on the control thread at
 * dgram_start(), release on any thread when the listener is gone. */
struct dgram_ops {
	void (*recv)(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n);
	void (*hold)(void *ctx);
	void (*release)(void *ctx);
	/* optional: <dl> is closing on its worker; its socket still works
	 * (last sends) and <priv> is the user's to free. */
	void (*closing)(struct dgram_listener *dl);
};

/* hold/release for a <ctx> that is a struct virtual_service: a reference
 * (svc_get/svc_put). */
void dgram_hold_svc(void *ctx);
void dgram_release_svc(void *ctx);

struct dgram_conf {
	size_t max_len;          /* longest datagram delivered; a longer one is
	                          * counted (truncated) and dropped. 0 = 65535 */
	unsigned batch;          /* per recvmmsg(); 0 = as many as DGRAM_RX_BYTES
	                          * holds, at most DGRAM_BATCH_MAX */
	int rcvbuf;              /* socket receive buffer, bytes; 0 = the system's */
};

/* Counters of a set, summed over its listeners. */
struct dgram_counters {
	uint64_t rx, rx_bytes;   /* datagrams delivered to recv */
	uint64_t truncated;      /* longer than max_len: dropped */
	uint64_t rx_batches;     /* recvmmsg() calls that returned datagrams */
	uint64_t rx_multi;       /* ... of which with more than one */
	uint64_t tx, tx_bytes;   /* sent by dgram_send() */
	uint64_t tx_dropped;     /* refused by the kernel (buffer full, bad source) */
};

/* One worker's socket of a set. Belongs to its worker's thread; freed
 * after the batch of events that closed it. The user reads <ctx>, <w> and <set>, keeps <priv>,
 * and passes it to dgram_send(); nothing else. */
struct dgram_listener {
	struct loop_io io;
	struct worker *w;
	void *ctx;                   /* the user's, held (dgram_ops.hold) */
	void *priv;                  /* the user's per-listener state (worker
	                              * thread); NULL at start */
	const struct dgram_ops *ops;
	struct dgram_set *set;       /* holds a reference */
	struct dgram_counters *ctr;  /* this worker's slot in the set */
	struct timer more;           /* budget spent: go on after other events */
	bool closed;
	bool no_gso;                 /* the kernel refused UDP GSO on it */
	unsigned batch;
	size_t max_len;
	struct dgram_rx *rx;         /* receive buffers (dgram.c) */
	struct dgram_listener *next; /* the worker's list */
};

/* Binds one socket per worker to <a> (control thread). *<out> gets the
 * set; 0, or -errno with the reason in <why> (LSOCK_WHY_MAX). */
int dgram_prepare(const struct weir_addr *a, const struct dgram_conf *conf,
		  struct dgram_set **out, char *why);
/* Hands the sockets to the workers: datagrams flow to <ops>->recv with
 * <ctx>. Control thread; cannot fail. */
void dgram_start(struct dgram_set *s, const struct dgram_ops *ops, void *ctx);
/* Closes the listeners (each on its worker, soon) and lets go of <s>;
 * also undoes a dgram_prepare() never started. Control thread. */
void dgram_stop(struct dgram_set *s);
/* Sums the set's counters (any thread, while <s> is not stopped). A
 * worker counts a batch after the syscall returns: a client may have its
 * answer a moment before the answer is counted. */
void dgram_counters(const struct dgram_set *s, struct dgram_counters *out);

/* Sends msgs[0..n) from <dl>'s socket, each from its <local> address by
 * its <ifindex>. What the kernel refuses is counted in tx_dropped and
 * skipped (datagrams may be lost). Returns how many were sent. Worker
 * thread of <dl>. */
size_t dgram_send(struct dgram_listener *dl, const struct dgram_msg *msgs, size_t n);

/* Closes every datagram listener of worker <w> (its on_stop). */
void dgram_close_all(struct worker *w);

#endif
