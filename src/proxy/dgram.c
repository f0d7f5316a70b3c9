/* dgram.c - datagram listeners; see dgram.h. */
#include <errno.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/table.h"
#include "core/util.h"
#include "proxy/dgram.h"
#include "proxy/lsock.h"
#include "proxy/pworker.h"

/* recvmmsg() calls per wake-up before the other events of the loop get a
 * turn (then a timer goes on where it stopped). */
#define DGRAM_ROUNDS 16
/* room for the one control message asked for, with some to spare */
#define CTL_ROOM (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))
/* payload of one GSO send at most (a UDP datagram's limit, with room) */
#define DGRAM_GSO_BYTES 65000u

/* A listening address: the sockets (until handed to the workers) and the
 * counters. Shared by the control thread and the listeners; freed when the
 * last of them lets go (refs). */
struct dgram_set {
	atomic_int refs;
	int n;                       /* sockets, one per worker */
	int *fds;                    /* [n]; -1 once handed to a worker */
	int family;
	uint16_t port;               /* network order */
	size_t max_len;
	unsigned batch;
	bool started;
	struct ctr_slot *ctr;        /* [n]: worker i writes ctr[i] only */
};

struct ctr_slot {
	_Alignas(CACHELINE) struct dgram_counters c;
};

union ctl_buf {
	char buf[CTL_ROOM];
	struct cmsghdr align;
};

/* The receive side of a listener: what recvmmsg() fills. */
struct dgram_rx {
	struct mmsghdr *hdr;         /* [batch] */
	struct iovec *iov;
	struct weir_addr *name;
	union ctl_buf *ctl;
	struct dgram_msg *msgs;
	uint8_t *data;               /* batch * max_len */
};

static void set_put(struct dgram_set *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	lsock_close_group(s->fds, s->n);
	free(s->fds);
	free(s->ctr);
	free(s);
}

int dgram_prepare(const struct weir_addr *a, const struct dgram_conf *conf,
		  struct dgram_set **out, char *why)
{
	struct dgram_set *s = calloc(1, sizeof(*s));
	size_t max_len = conf && conf->max_len ? MIN(conf->max_len, 65535u) : DGRAM_DEFAULT_MAX_LEN;
	unsigned batch = conf && conf->batch ? conf->batch : (unsigned)(DGRAM_RX_BYTES / max_len);
	int rc;

	if (!s)
		goto out_nomem;
	s->n = nworkers > 0 ? nworkers : 1;
	s->fds = calloc((size_t)s->n, sizeof(int));
	s->ctr = aligned_alloc(CACHELINE, (size_t)s->n * sizeof(*s->ctr));
	if (!s->fds || !s->ctr)
		goto out_free;
	memset(s->ctr, 0, (size_t)s->n * sizeof(*s->ctr));
	s->family = addr_family(a);
	s->port = htons(addr_port(a));
	s->max_len = max_len;
	s->batch = MAX(1u, MIN(batch, DGRAM_BATCH_MAX));
	if ((rc = lsock_open_group(a, SOCK_DGRAM, s->n, s->fds, why)) != 0) {
		free(s->fds);
		free(s->ctr);
		free(s);
		return rc;
	}
	for (int i = 0; conf && conf->rcvbuf && i < s->n; i++)
		lsock_rcvbuf(s->fds[i], conf->rcvbuf);
	atomic_init(&s->refs, 1);
	*out = s;
	return 0;

out_free:
	free(s->fds);
	free(s->ctr);
	free(s);
out_nomem:
	snprintf(why, LSOCK_WHY_MAX, "Memory allocation problem");
	return -ENOMEM;
}

void dgram_counters(const struct dgram_set *s, struct dgram_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < s->n; i++) {
		const struct dgram_counters *c = &s->ctr[i].c;

		out->rx += counter_read(&c->rx);
		out->rx_bytes += counter_read(&c->rx_bytes);
		out->truncated += counter_read(&c->truncated);
		out->rx_batches += counter_read(&c->rx_batches);
		out->rx_multi += counter_read(&c->rx_multi);
		out->tx += counter_read(&c->tx);
		out->tx_bytes += counter_read(&c->tx_bytes);
		out->tx_dropped += counter_read(&c->tx_dropped);
	}
}

/* --- receiving (worker thread) ----------------------------------------------- */

static void rx_arm(struct dgram_listener *dl, unsigned i)
{
	struct dgram_rx *rx = dl->rx;

	rx->iov[i] = (struct iovec){ rx->data + (size_t)i * dl->max_len, dl->max_len };
	rx->hdr[i].msg_hdr = (struct msghdr){
		.msg_name = &rx->name[i].u, .msg_namelen = sizeof(rx->name[i].u),
		.msg_iov = &rx->iov[i], .msg_iovlen = 1,
		.msg_control = rx->ctl[i].buf, .msg_controllen = sizeof(rx->ctl[i].buf),
	};
}

/* The destination and interface of a datagram from its IP_PKTINFO or
 * IPV6_PKTINFO. For IPv4 the kernel's ipi_spec_dst: the destination for
 * a unicast datagram, the interface's address for a broadcast one (a
 * reply cannot leave from a broadcast address). */
static void rx_local(struct msghdr *mh, uint16_t port, struct dgram_msg *m)
{
	memset(&m->local, 0, sizeof(m->local));
	m->ifindex = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			m->local.u.in.sin_family = AF_INET;
			m->local.u.in.sin_port = port;
			m->local.u.in.sin_addr = pi.ipi_spec_dst;
			m->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			m->local.u.in6.sin6_family = AF_INET6;
			m->local.u.in6.sin6_port = port;
			m->local.u.in6.sin6_addr = pi.ipi6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				m->local.u.in6.sin6_scope_id = pi.ipi6_ifindex;
			m->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

/* Turns the <got> datagrams received into dl->rx->msgs; returns how many
 * are whole. */
static size_t rx_collect(struct dgram_listener *dl, unsigned got)
{
	struct dgram_rx *rx = dl->rx;
	uint64_t bytes = 0, trunc = 0;
	size_t k = 0;

	for (unsigned i = 0; i < got; i++) {
		struct msghdr *mh = &rx->hdr[i].msg_hdr;
		struct dgram_msg *m = &rx->msgs[k];

		if (mh->msg_flags & MSG_TRUNC) {
			trunc++;
			continue;
		}
		m->data = rx->iov[i].iov_base;
		m->len = rx->hdr[i].msg_len;
		addr_from_sockaddr(&m->peer, mh->msg_name, mh->msg_namelen);
		rx_local(mh, dl->set->port, m);
		bytes += m->len;
		k++;
	}
	counter_add(&dl->ctr->rx, k);
	counter_add(&dl->ctr->rx_bytes, bytes);
	if (trunc)
		counter_add(&dl->ctr->truncated, trunc);
	counter_add(&dl->ctr->rx_batches, 1);
	if (got > 1)
		counter_add(&dl->ctr->rx_multi, 1);
	return k;
}

/* Reads until the socket is empty or the budget is spent. A short batch
 * means the queue was empty: a datagram arriving after that wakes the
 * (edge-triggered) loop again. */
static void rx_drain(struct dgram_listener *dl)
{
	for (int round = 0; round < DGRAM_ROUNDS; round++) {
		int got = recvmmsg(dl->io.fd, dl->rx->hdr, dl->batch, MSG_DONTWAIT, NULL);
		size_t k;

		if (got <= 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && errno != EAGAIN)
				log_warn("recvmmsg: %s", strerror(errno));
			return;
		}
		k = rx_collect(dl, (unsigned)got);
		if (k)
			dl->ops->recv(dl, dl->rx->msgs, k);
		for (int i = 0; i < got; i++)
			rx_arm(dl, (unsigned)i);
		if (dl->closed || (unsigned)got < dl->batch)
			return;
	}
	timer_arm(dl->w->loop, &dl->more, loop_now(dl->w->loop));
}

static void rx_cb(struct loop_io *io, uint32_t events)
{
	struct dgram_listener *dl = container_of(io, struct dgram_listener, io);

	if (!dl->closed)
		rx_drain(dl);
}

static void more_cb(struct timer *t)
{
	struct dgram_listener *dl = container_of(t, struct dgram_listener, more);

	if (!dl->closed)
		rx_drain(dl);
}

/* --- sending (worker thread) ------------------------------------------------- */

static size_t put_cmsg(union ctl_buf *cb, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *c = &cb->align;

	memset(cb, 0, sizeof(*cb));
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return CMSG_SPACE(len);
}

/* The control message choosing the source address and interface of <m>
 * on a socket of <family>; 0 bytes when the kernel may choose. */
static size_t tx_ctl(const struct dgram_msg *m, int family, union ctl_buf *cb)
{
	if (addr_family(&m->local) != family && !m->ifindex)
		return 0;
	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_ifindex = m->ifindex };

		if (addr_family(&m->local) == AF_INET)
			pi.ipi_spec_dst = m->local.u.in.sin_addr;
		return put_cmsg(cb, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	struct in6_pktinfo pi6 = { .ipi6_ifindex = (unsigned)m->ifindex };

	if (addr_family(&m->local) == AF_INET6)
		pi6.ipi6_addr = m->local.u.in6.sin6_addr;
	return put_cmsg(cb, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
}

/* Adds a UDP_SEGMENT control message after the <off> bytes in <cb>. */
static size_t add_gso(union ctl_buf *cb, size_t off, uint16_t seg)
{
	struct cmsghdr *c = (struct cmsghdr *)(void *)(cb->buf + off);

	memset(c, 0, CMSG_SPACE(sizeof(seg)));
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	return off + CMSG_SPACE(sizeof(seg));
}

/* The messages of one sendmmsg(): a datagram each, or a run of datagrams
 * of one size to one peer from one address as one buffer the kernel cuts
 * (UDP GSO): one trip down the stack for the run. */
struct tx_plan {
	struct mmsghdr hdr[DGRAM_BATCH_MAX];
	struct iovec iov[DGRAM_BATCH_MAX];
	union ctl_buf ctl[DGRAM_BATCH_MAX];
	uint8_t count[DGRAM_BATCH_MAX];  /* datagrams in hdr[i] */
	uint8_t first[DGRAM_BATCH_MAX];  /* its first message */
};

static bool same_route(const struct dgram_msg *a, const struct dgram_msg *b)
{
	return a->ifindex == b->ifindex && addr_same(&a->peer, &b->peer) &&
	       addr_same(&a->local, &b->local);
}

/* Lays out msgs[j..k) into <p> from message <h> on; returns the count. */
static size_t tx_layout(const struct dgram_listener *dl, const struct dgram_msg *msgs,
			size_t j, size_t k, int family, struct tx_plan *p, size_t h)
{
	size_t h0 = h;

	while (j < k) {
		const struct dgram_msg *m = &msgs[j];
		size_t seg = m->len, total = 0, n = 0, clen = tx_ctl(m, family, &p->ctl[h]);

		p->first[h] = (uint8_t)j;
		for (; j < k; j++) {
			if (n && (dl->no_gso || !seg || msgs[j].len > seg || !msgs[j].len ||
				  msgs[j - 1].len < seg || total + msgs[j].len > DGRAM_GSO_BYTES ||
				  !same_route(&msgs[j], m)))
				break;
			p->iov[j] = (struct iovec){ msgs[j].data, msgs[j].len };
			total += msgs[j].len;
			n++;
		}
		if (n > 1)
			clen = add_gso(&p->ctl[h], clen, (uint16_t)seg);
		p->hdr[h].msg_hdr = (struct msghdr){
			.msg_name = (void *)&m->peer.u, .msg_namelen = addr_len(&m->peer),
			.msg_iov = &p->iov[p->first[h]], .msg_iovlen = n,
			.msg_control = clen ? p->ctl[h].buf : NULL, .msg_controllen = clen,
		};
		p->count[h++] = (uint8_t)n;
	}
	return h - h0;
}

/* Sends msgs[0..k), k <= DGRAM_BATCH_MAX; returns how many went. */
static size_t tx_chunk(struct dgram_listener *dl, const struct dgram_msg *msgs, size_t k,
		       int family, bool *full)
{
	struct tx_plan p;
	size_t i = 0, sent = 0, nh = tx_layout(dl, msgs, 0, k, family, &p, 0);

	while (i < nh) {
		int r = sendmmsg(dl->io.fd, p.hdr + i, (unsigned)(nh - i), 0);

		if (r > 0) {
			for (size_t j = i; j < i + (size_t)r; j++) {
				counter_add(&dl->ctr->tx_bytes, p.hdr[j].msg_len);
				sent += p.count[j];
			}
			i += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			*full = true;
			break;
		} else if (p.count[i] > 1 && !dl->no_gso &&
			   (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) {
			/* no GSO on this path (no checksum offload): one by one */
			log_info("UDP GSO refused (%s): datagrams go one by one", strerror(errno));
			dl->no_gso = true;
			nh = i + tx_layout(dl, msgs, p.first[i], k, family, &p, i);
		} else {
			/* this one is refused (no route, address gone): skip it */
			log_debug("sendmmsg: %s", strerror(errno));
			i++;
		}
	}
	return sent;
}

size_t dgram_send(struct dgram_listener *dl, const struct dgram_msg *msgs, size_t n)
{
	size_t sent = 0;
	bool full = false;

	for (size_t base = 0; base < n && !full; base += DGRAM_BATCH_MAX)
		sent += tx_chunk(dl, msgs + base, MIN(n - base, (size_t)DGRAM_BATCH_MAX),
				 dl->set->family, &full);
	counter_add(&dl->ctr->tx, sent);
	if (sent < n)
		counter_add(&dl->ctr->tx_dropped, n - sent);
	return sent;
}

/* --- life of a listener -------------------------------------------------------- */

static void rx_free(struct dgram_rx *rx)
{
	if (!rx)
		return;
	free(rx->hdr);
	free(rx->iov);
	free(rx->name);
	free(rx->ctl);
	free(rx->msgs);
	free(rx->data);
	free(rx);
}

static struct dgram_rx *rx_new(unsigned batch, size_t max_len)
{
	struct dgram_rx *rx = calloc(1, sizeof(*rx));

	if (!rx)
		return NULL;
	rx->hdr = calloc(batch, sizeof(*rx->hdr));
	rx->iov = calloc(batch, sizeof(*rx->iov));
	rx->name = calloc(batch, sizeof(*rx->name));
	rx->ctl = calloc(batch, sizeof(*rx->ctl));
	rx->msgs = calloc(batch, sizeof(*rx->msgs));
	rx->data = malloc(batch * max_len);
	if (!rx->hdr || !rx->iov || !rx->name || !rx->ctl || !rx->msgs || !rx->data) {
		rx_free(rx);
		return NULL;
	}
	return rx;
}

/* Frees <dl> and lets go of what it holds; any thread. */
static void listener_free(void *arg)
{
	struct dgram_listener *dl = arg;

	if (dl->io.fd >= 0)
		close(dl->io.fd);
	if (dl->ops->release)
		dl->ops->release(dl->ctx);
	rx_free(dl->rx);
	set_put(dl->set);
	free(dl);
}

/* Closes <dl> on its worker; the memory goes after the current batch of
 * events, which may still point at it. */
static void listener_close(struct dgram_listener *dl)
{
	struct worker *w = dl->w;

	if (dl->ops->closing)
		dl->ops->closing(dl);
	loop_del(w->loop, &dl->io);
	close(dl->io.fd);
	dl->io.fd = -1;
	dl->closed = true;
	timer_cancel(w->loop, &dl->more);
	if (loop_defer(w->loop, listener_free, dl) != 0)
		fatalx("out of memory deferring a free");
}

static void attach_cb(void *arg)
{
	struct dgram_listener *dl = arg;
	struct worker *w = this_worker;
	int rc;

	if (!w || w->stopping) {
		/* run by loop_free after the worker exited, or stopping */
		listener_free(dl);
		return;
	}
	dl->w = w;
	if ((rc = loop_add(w->loop, &dl->io, EPOLLIN)) != 0) {
		log_err("cannot watch a datagram listener: %s", strerror(-rc));
		listener_free(dl);
		return;
	}
	dl->next = pworker(w)->dgrams;
	pworker(w)->dgrams = dl;
	rx_drain(dl);
}

void dgram_start(struct dgram_set *s, const struct dgram_ops *ops, void *ctx)
{
	for (int i = 0; i < s->n && i < nworkers; i++) {
		struct dgram_listener *dl = calloc(1, sizeof(*dl));

		if (!dl || !(dl->rx = rx_new(s->batch, s->max_len)))
			fatalx("out of memory");
		dl->io.fd = s->fds[i];
		dl->io.cb = rx_cb;
		dl->more.cb = more_cb;
		dl->ops = ops;
		dl->ctx = ctx;
		dl->set = s;
		dl->ctr = &s->ctr[i].c;
		dl->batch = s->batch;
		dl->max_len = s->max_len;
		for (unsigned k = 0; k < s->batch; k++)
			rx_arm(dl, k);
		if (ops->hold)
			ops->hold(ctx);
		atomic_fetch_add(&s->refs, 1);
		s->fds[i] = -1;
		loop_post(workers[i].loop, attach_cb, dl);
	}
	s->started = true;
}

static void detach_cb(void *arg)
{
	struct dgram_set *s = arg;
	struct worker *w = this_worker;

	if (w && w->proxy_priv) {
		for (struct dgram_listener **pp = &pworker(w)->dgrams; *pp;) {
			struct dgram_listener *dl = *pp;

			if (dl->set == s) {
				*pp = dl->next;
				listener_close(dl);
			} else {
				pp = &dl->next;
			}
		}
	}
	set_put(s);
}

void dgram_stop(struct dgram_set *s)
{
	if (!s)
		return;
	if (s->started) {
		for (int i = 0; i < nworkers; i++) {
			atomic_fetch_add(&s->refs, 1);
			loop_post(workers[i].loop, detach_cb, s);
		}
	}
	lsock_close_group(s->fds, s->n);
	set_put(s);
}

void dgram_close_all(struct worker *w)
{
	struct proxy_worker *pw = pworker(w);

	while (pw->dgrams) {
		struct dgram_listener *dl = pw->dgrams;

		pw->dgrams = dl->next;
		listener_close(dl);
	}
}

void dgram_hold_svc(void *ctx)
{
	svc_get(ctx);
}

void dgram_release_svc(void *ctx)
{
	svc_put(ctx);
}
