/*
 * udp_int.h - the UDP proxy's inside, shared by udp.c (sessions, the two
 * directions, the mode) and udp_pool.c (the worker's upstream sockets,
 * server slots and hash tables). Not for other files. Everything here
 * belongs to one worker's thread.
 */
#ifndef WEIR_UDP_INT_H
#define WEIR_UDP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "core/table.h"
#include "proxy/dgram.h"
#include "proxy/pworker.h"

#define UDP_BATCH DGRAM_BATCH_MAX
#define UDP_SLOT 65536u             /* reply arena: one slot per datagram */
#define UDP_ROUNDS 16               /* recvmmsg() per socket wake-up */
#define UDP_QUARANTINE_MS 2000u
#define UDP_GC_MS 10000u
#define UDP_FREE_MAX 4096u          /* sessions kept for reuse */
#define UDP_SOCKS_MAX 65536u        /* upstream sockets per worker */
#define UDP_PP_MAX 56               /* a PROXY v2 header without TLVs */
#define LOG_EVERY_MS 10000u
#define UDP_GSO_BYTES 65000u       /* payload of one GSO send at most */
#define UDP_RCVBUF (4u << 20)       /* receive buffers asked for */

enum end_why { END_DONE, END_IDLE, END_SENT, END_REFUSED, END_EVICTED, END_MOVED, END_GONE };

struct udp_worker;
struct udp_lst;

/* A pooled upstream socket: slot <idx> of family <fam> (0 IPv4, 1 IPv6). */
struct udp_up {
	struct loop_io io;
	struct udp_worker *uw;
	struct timer more;           /* budget spent: go on after other events */
	uint32_t idx;
	uint8_t fam;
	uint32_t users;              /* sessions on it */
	uint64_t last_used;          /* ms */
	int staged;                  /* first staged datagram (stage_in), -1 */
	int staged_tail;
	struct udp_up *dirty_next;   /* sockets with staged datagrams */
};

/* A server address's slots: which sockets its live sessions use. */
struct udp_dest {
	struct udp_dest *next;       /* hash chain */
	struct weir_addr addr;
	uint64_t hash;
	uint8_t fam;
	uint32_t inuse;
	uint32_t nfresh;             /* slots 0..nfresh-1 were handed out */
	uint32_t *clean;             /* free slots, reusable at once (stack) */
	uint32_t nclean, capclean;
	struct qent { uint32_t idx; uint64_t until; } *q; /* quarantined (FIFO) */
	uint32_t qhead, qlen, qcap;
	uint64_t last_used;
};

struct udp_sess {
	struct session_link link;
	struct udp_sess *fnext;      /* flow table chain */
	struct udp_sess *unext;      /* upstream table chain */
	struct udp_sess *prev, *next; /* the listener's LRU, oldest first */
	struct udp_lst *lst;
	struct real_server *rs;      /* reference from svc_schedule */
	struct udp_dest *dest;
	struct udp_up *up;
	struct weir_addr client, local;
	int ifindex;
	uint64_t fhash, uhash;
	uint64_t last;               /* ms of the last datagram either way */
	uint64_t sent_ns;            /* first datagram sent (response time) */
	uint32_t nreq, nresp;
	unsigned gen;                /* svc->gen when rs was last seen usable */
	bool in_flows;               /* takes the client's next datagrams */
	bool answered;
	uint8_t pplen;
	uint8_t pp[UDP_PP_MAX];
};

/* A listener's state on its worker (dgram_listener.priv): the service's
 * sessions there, oldest first, and their idle timer. */
struct udp_lst {
	struct dgram_listener *dl;
	struct virtual_service *svc; /* the listener's (dl->ctx, held) */
	struct udp_worker *uw;
	struct udp_sess lru;         /* list head */
	size_t nsess;
	struct timer idle;
	struct vs_runtime rt;        /* refreshed for every batch */
};

/* A client datagram waiting for the end of its batch. */
struct stage_in {
	struct udp_up *up;
	int next;
	struct weir_addr dst;
	struct iovec iov[2];         /* PROXY header, payload */
	struct virtual_service *svc; /* for drop counts; held by the listener */
	uint8_t pp[UDP_PP_MAX];
};

/* A reply waiting for the end of the loop's batch (its data in the arena). */
struct stage_out {
	struct dgram_listener *dl;
	struct dgram_msg m;
};

struct htab {
	struct udp_sess **b;
	uint32_t mask, n;
};

struct udp_worker {
	struct worker *w;
	uint64_t seed;
	struct udp_up **ups[2];
	uint32_t nups[2];            /* slots (some may be NULL) */
	uint32_t nsocks, budget;
	struct htab flows, upt;
	struct udp_dest **dests;
	uint32_t dmask, ndests;
	struct udp_sess *free;
	uint32_t nfree;
	struct timer gc;
	uint64_t last_log;
	/* client -> server, within one listener batch */
	struct stage_in in[UDP_BATCH];
	unsigned nin;
	struct udp_up *dirty;
	/* server -> client, until the end of the loop's batch */
	struct stage_out out[UDP_BATCH];
	unsigned nout, arena_used;
	uint8_t *arena;
	struct loop_flush flush;
	/* upstream receive: slot i of the arena is rxhdr[i], set up once */
	struct mmsghdr rxhdr[UDP_BATCH];
	struct iovec rxiov[UDP_BATCH];
	struct weir_addr rxname[UDP_BATCH];
	/* upstream send: one message per datagram, or per run of datagrams
	 * of one size to one server sent as one GSO buffer */
	struct mmsghdr txhdr[UDP_BATCH];
	struct iovec txiov[UDP_BATCH];
	union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } txctl[UDP_BATCH];
	uint8_t txcount[UDP_BATCH];  /* datagrams in txhdr[i] */
	int txfirst[UDP_BATCH];      /* its first stage_in */
	bool no_gso;                 /* the kernel refused UDP_SEGMENT */
};

/* udp_pool.c: the worker's state, made on first use (NULL: out of memory). */
struct udp_worker *udp_worker_get(struct worker *w);
/* Rate-limited warnings: true once per LOG_EVERY_MS per worker. */
bool udp_may_log(struct udp_worker *uw);

/* The upstream socket of slot <idx> of family <fam>, made when missing;
 * NULL: out of the budget or of fds (errno). */
struct udp_up *udp_up_get(struct udp_worker *uw, uint8_t fam, uint32_t idx);
void udp_up_close(struct udp_up *up);

/* A server address's slots (NULL: out of memory). udp_dest_take() gives a
 * slot no live session to <d> uses; udp_dest_give() returns one, for
 * reuse at once (<clean>) or after UDP_QUARANTINE_MS. */
struct udp_dest *udp_dest_get(struct udp_worker *uw, const struct weir_addr *a);
void udp_dest_take(struct udp_worker *uw, struct udp_dest *d, uint64_t now, uint32_t *idx);
void udp_dest_give(struct udp_dest *d, uint32_t idx, bool clean, uint64_t now);
/* Arms the worker's collector of idle slots and sockets. */
void udp_gc_arm(struct udp_worker *uw, uint64_t now);

/* The tables: sessions by flow (<off> FLOWS) and by (socket, server) (UPS). */
#define FLOWS offsetof(struct udp_sess, fnext)
#define UPS offsetof(struct udp_sess, unext)
uint64_t udp_flow_hash(const struct udp_worker *uw, const struct udp_lst *lst,
		       const struct weir_addr *client, const struct weir_addr *local);
uint64_t udp_up_hash(const struct udp_worker *uw, uint8_t fam, uint32_t idx,
		     const struct weir_addr *srv);
int udp_htab_add(struct htab *t, struct udp_sess *s, uint64_t h, size_t off);
void udp_htab_del(struct htab *t, struct udp_sess *s, uint64_t h, size_t off);
struct udp_sess *udp_flow_find(struct udp_worker *uw, struct udp_lst *lst,
			       const struct dgram_msg *m, uint64_t h);
struct udp_sess *udp_up_find(struct udp_worker *uw, const struct udp_up *up,
			     const struct weir_addr *from);

/* udp.c: the events of an upstream socket, and the replies' flush. */
void udp_up_cb(struct loop_io *io, uint32_t events);
void udp_up_more_cb(struct timer *t);
void udp_out_flush(struct udp_worker *uw);

#endif
