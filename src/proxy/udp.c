/*
 * udp.c - the layer-4 UDP proxy (--proxy udp): sessions, both directions
 * of their datagrams, and the mode's ops. Over 800 lines because the two
 * directions share the session's life (a reply can end it, a request can
 * move it) and are read together; what is not about a session (the
 * worker's sockets, server slots and tables) is in udp_pool.c.
 *
 * A session is a flow: a client's address and port and the local address
 * it sent to, on one service. Its first datagram picks a server (the
 * scheduler, persistence); later ones follow it. Replies go back through
 * the service's datagram listener (dgram.h) from the address the client
 * sent to. Everything of a session runs on the worker whose listener
 * received its first datagram (SO_REUSEPORT keeps a client on one).
 *
 * Upstream sockets: shared and unconnected, not one connected socket per
 * session. A worker keeps a pool of UDP sockets per address family, each
 * bound to an ephemeral port; a session to server S takes a socket no
 * other live session to S uses, so a reply from S on socket K names its
 * session: the demultiplexing table is keyed by (K, S). Measured on this
 * machine (bench/RESULTS.md, issue 12): socket() + connect() + epoll_ctl()
 * + close() for each session cost ~10 us of CPU more than a send on a
 * pooled socket, which is what a DNS-like service (one exchange per
 * session) pays for every query; with pooled sockets the datagrams of one
 * batch going to one socket leave in one sendmmsg(), and the kernel work
 * per session is none. The cost: weir, not the kernel, drops replies from
 * anyone else (the table has no entry: counted), and a socket freed by one
 * session and taken by the next session to the same server could hand the
 * new client a late reply meant for the old one. Hence the reuse rule: a
 * session that ended cleanly (its expected responses all came, it was
 * idle for the whole timeout, no answer expected) frees its socket for
 * the same server at once; one that ended early (evicted, moved off a
 * failed server) quarantines it for that server for UDP_QUARANTINE_MS.
 * Idle sockets are closed after UDP_GC_MS; a socket made later for the
 * same slot has a new port.
 *
 * Sessions end: when the server sent `responses` datagrams per client
 * datagram (and the `requests` limit, if any, was reached), after
 * idle_timeout without a datagram either way, when evicted (max_conn: the
 * service's oldest idle session on this worker makes room), when the
 * server answers ICMP unreachable (a passive failure, as a refused TCP
 * connect), when its server is down, in maintenance or removed (its next
 * datagram goes to another server), or when the listener closes. A
 * drained server keeps its sessions until they end. `requests N` (and
 * ops, = requests 1) takes a session out of the flow table after N
 * datagrams: it lives on for the replies, and the client's next datagram
 * starts a new session.
 *
 * Memory: sessions come from a per-worker free list (allocation only when
 * it is empty); the receive buffers are the listener's and one per-worker
 * reply arena; the hash tables grow by doubling. Nothing is allocated per
 * datagram. Sessions per service are bounded by max_conn and per worker
 * by the upstream socket budget (a share of RLIMIT_NOFILE).
 *
 * Threads: everything here belongs to one worker's thread, except the
 * mode's ops (control thread), which only bind and hand over listeners.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/conns.h"
#include "core/log.h"
#include "core/table.h"
#include "health/state.h"
#include "proto/proxy_proto.h"
#include "proxy/proxy.h"
#include "proxy/udp.h"
#include "proxy/udp_int.h"
#include "proxy/udp_opts.h"

static void sess_end(struct udp_sess *s, enum end_why why);

/* --- sessions ---------------------------------------------------------------------- */

static void lru_unlink(struct udp_sess *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->prev = s->next = s;
}

static void lru_append(struct udp_lst *lst, struct udp_sess *s)
{
	s->prev = lst->lru.prev;
	s->next = &lst->lru;
	lst->lru.prev->next = s;
	lst->lru.prev = s;
}

static void touch(struct udp_sess *s, uint64_t now)
{
	s->last = now;
	if (s->next != &s->lst->lru) {
		lru_unlink(s);
		lru_append(s->lst, s);
	}
}

static void arm_idle(struct udp_lst *lst)
{
	struct udp_sess *head = lst->lru.next;

	if (head != &lst->lru && !timer_armed(&lst->idle))
		timer_arm(lst->uw->w->loop, &lst->idle, head->last + lst->rt.idle_timeout_ms);
}

static void flow_unlink(struct udp_sess *s)
{
	if (!s->in_flows)
		return;
	udp_htab_del(&s->lst->uw->flows, s, s->fhash, FLOWS);
	s->in_flows = false;
}

static void force_close(struct session_link *l)
{
	sess_end(container_of(l, struct udp_sess, link), END_GONE);
}

/* The session as a line of -L -c: ends idle_timeout after its last datagram. */
static bool describe(struct session_link *l, uint64_t now, struct conn_entry *e)
{
	struct udp_sess *s = container_of(l, struct udp_sess, link);

	e->proto = IPPROTO_UDP;
	e->state = CONN_UDP;
	e->src = s->client;
	e->vip = s->lst->svc->addr;
	if (s->rs)
		e->dst = s->rs->addr;
	e->expire_s = conn_expire_s(now, s->last + s->lst->rt.idle_timeout_ms, 1000);
	return true;
}

static struct udp_sess *sess_alloc(struct udp_worker *uw)
{
	struct udp_sess *s = uw->free;

	if (s) {
		uw->free = s->next;
		uw->nfree--;
		memset(s, 0, sizeof(*s));
		return s;
	}
	return calloc(1, sizeof(*s));
}

static void sess_release(struct udp_worker *uw, struct udp_sess *s)
{
	if (uw->nfree >= UDP_FREE_MAX) {
		free(s);
		return;
	}
	s->next = uw->free;
	uw->free = s;
	uw->nfree++;
}

static void count_drop(struct virtual_service *svc, uint64_t n)
{
	counter_add(&stats_mine(&svc->stats)->drops, n);
}

/* The session's server still takes its datagrams: not removed, down or in
 * maintenance (draining is fine). Looked at again only when the service's
 * generation moved. */
static bool sess_usable(struct udp_sess *s)
{
	struct virtual_service *svc = s->lst->svc;
	unsigned g = atomic_load_explicit(&svc->gen, memory_order_acquire);
	bool ok;

	if (g == s->gen)
		return true;
	pthread_mutex_lock(&svc->lock);
	ok = s->rs->ss.idx >= 0 &&
	     !(s->rs->ss.flags & (SCHED_SRV_DOWN | SCHED_SRV_MAINT));
	pthread_mutex_unlock(&svc->lock);
	if (ok)
		s->gen = g;
	return ok;
}

/* Takes a place under max_conn for a new session: the place is counted
 * in svc->active at once (workers race for the last one; a check, then a
 * count later, would let each of them in), and the service's oldest idle
 * session on this worker goes while the count is above the bound. The
 * caller gives the place back with unreserve() once session_begin() has
 * counted the session, or when it fails. false: no room (the other
 * workers' sessions hold the bound).
 *
 * Each worker also keeps to its share of the bound (max_conn / workers,
 * the remainder to the first ones) by evicting its own oldest first: a
 * worker can evict only its own sessions, so without shares a flood
 * landing unevenly let one worker hold the whole bound and every new
 * client of the other was dropped until those sessions timed out. */
static void evict_oldest(struct udp_lst *lst)
{
	struct udp_sess *old = lst->lru.next;

	counter_add(&stats_mine(&lst->svc->stats)->evictions, 1);
	counter_add(&stats_mine(&old->rs->stats)->evictions, 1);
	sess_end(old, END_EVICTED);
}

static bool reserve(struct udp_lst *lst)
{
	struct virtual_service *svc = lst->svc;
	unsigned max = atomic_load_explicit(&svc->maxconn, memory_order_relaxed);
	unsigned n = nworkers > 0 ? (unsigned)nworkers : 1, id = (unsigned)lst->uw->w->id;
	unsigned share = max / n + (id < max % n);

	while (share && lst->nsess >= share && lst->lru.next != &lst->lru)
		evict_oldest(lst);
	atomic_fetch_add_explicit(&svc->active, 1, memory_order_relaxed);
	while (max && atomic_load_explicit(&svc->active, memory_order_relaxed) > max) {
		if (lst->lru.next == &lst->lru) {
			atomic_fetch_sub_explicit(&svc->active, 1, memory_order_relaxed);
			return false;
		}
		evict_oldest(lst);
	}
	return true;
}

static void unreserve(struct virtual_service *svc)
{
	atomic_fetch_sub_explicit(&svc->active, 1, memory_order_relaxed);
}

/* Gives back slot <idx> of <d> that never got a socket. */
static void slot_unused(struct udp_dest *d, uint32_t idx, uint64_t now)
{
	if (idx + 1 == d->nfresh) {
		d->nfresh--;
		d->inuse--;
	} else {
		udp_dest_give(d, idx, true, now);
	}
}

/* A slot of <d> and its socket. Out of the socket budget, the oldest idle
 * session of this listener to the same server (among the 16 oldest) makes
 * room, as max_conn would: a flood of new flows cannot lock out the next
 * client until its sessions time out. NULL: none. */
static struct udp_up *take_slot(struct udp_lst *lst, struct udp_dest *d, uint64_t now,
				uint32_t *idx)
{
	struct udp_worker *uw = lst->uw;
	struct udp_up *up;
	int n = 0;

	udp_dest_take(uw, d, now, idx);
	if ((up = udp_up_get(uw, d->fam, *idx)))
		return up;
	slot_unused(d, *idx, now);
	if (uw->nsocks < uw->budget)
		return NULL; /* out of fds or memory: errno says */
	for (struct udp_sess *s = lst->lru.next; s != &lst->lru && n < 16; s = s->next, n++)
		if (s->dest == d) {
			counter_add(&stats_mine(&lst->svc->stats)->evictions, 1);
			counter_add(&stats_mine(&s->rs->stats)->evictions, 1);
			sess_end(s, END_EVICTED);
			udp_dest_take(uw, d, now, idx); /* crowded: its slot at once */
			if ((up = udp_up_get(uw, d->fam, *idx)))
				return up;
			slot_unused(d, *idx, now);
			break;
		}
	return NULL;
}

static struct udp_sess *sess_new(struct udp_lst *lst, const struct dgram_msg *m, uint64_t h,
				 uint64_t now)
{
	struct udp_worker *uw = lst->uw;
	struct virtual_service *svc = lst->svc;
	struct real_server *rs;
	struct udp_dest *d;
	struct udp_sess *s;
	uint32_t idx;
	char a[ADDR_STRLEN];

	if (!reserve(lst))
		return NULL;
	rs = svc_schedule(svc, &m->peer, now, NULL, 0, NULL);
	if (!rs) {
		unreserve(svc);
		if (udp_may_log(uw))
			log_info("udp %s: no real server available", addr_str(&svc->addr, a));
		return NULL;
	}
	/* IPVS counts UDP connections inactive: there is no established state */
	svc_conn_deactivate(rs);
	d = udp_dest_get(uw, &rs->addr);
	s = d ? sess_alloc(uw) : NULL;
	if (!s)
		goto fail;
	s->up = take_slot(lst, d, now, &idx);
	if (!s->up) {
		sess_release(uw, s);
		if (udp_may_log(uw))
			log_warn("udp: no upstream socket (%u of %u per worker in use): %s",
				 uw->nsocks, uw->budget, uw->nsocks >= uw->budget ?
				 "raise the open-file limit" : strerror(errno));
		goto fail;
	}
	s->lst = lst;
	s->rs = rs;
	s->dest = d;
	s->client = m->peer;
	s->local = m->local;
	s->ifindex = m->ifindex;
	s->fhash = h;
	s->uhash = udp_up_hash(uw, d->fam, idx, &rs->addr);
	s->last = now;
	s->gen = atomic_load_explicit(&svc->gen, memory_order_acquire);
	if (udp_htab_add(&uw->flows, s, h, FLOWS) != 0 || udp_htab_add(&uw->upt, s, s->uhash, UPS) != 0) {
		if (uw->flows.b)
			udp_htab_del(&uw->flows, s, h, FLOWS);
		udp_dest_give(d, idx, true, now);
		sess_release(uw, s);
		goto fail;
	}
	s->in_flows = true;
	s->up->users++;
	s->up->last_used = now;
	if (lst->rt.send_proxy) {
		/* the address the client sent to: the listener's when the kernel
		 * gave none (a datagram always has one) */
		const struct weir_addr *dst = m->local.u.sa.sa_family ? &m->local : &svc->addr;
		int n = pp_build_v2(s->pp, sizeof(s->pp), &m->peer, dst, SOCK_DGRAM);

		s->pplen = n > 0 ? (uint8_t)n : 0;
	}
	session_begin(uw->w, &s->link, svc);
	unreserve(svc); /* session_begin() counted it */
	s->link.force_close = force_close;
	s->link.describe = describe;
	counter_add(&stats_mine(&rs->stats)->conns, 1);
	lru_append(lst, s);
	lst->nsess++;
	arm_idle(lst);
	udp_gc_arm(uw, now);
	return s;

fail:
	unreserve(svc);
	svc_conn_close(rs, false, &m->peer, now);
	return NULL;
}

static bool end_is_clean(enum end_why why)
{
	return why != END_EVICTED && why != END_MOVED;
}

static void sess_end(struct udp_sess *s, enum end_why why)
{
	struct udp_lst *lst = s->lst;
	struct udp_worker *uw = lst->uw;
	uint64_t now = loop_now(uw->w->loop);
	const struct udp_opts *o = udp_opts_rt(&lst->rt);

	if (why == END_IDLE && o->responses != UDP_UNLIMITED &&
	    (uint64_t)s->nresp < (uint64_t)s->nreq * o->responses) {
		/* an answer was due and never came */
		counter_add(&stats_mine(&lst->svc->stats)->timeouts, 1);
		counter_add(&stats_mine(&s->rs->stats)->timeouts, 1);
		health_passive(s->rs, false);
	}
	flow_unlink(s);
	udp_htab_del(&uw->upt, s, s->uhash, UPS);
	lru_unlink(s);
	lst->nsess--;
	s->up->users--;
	s->up->last_used = now;
	udp_dest_give(s->dest, s->up->idx, end_is_clean(why), now);
	svc_conn_close(s->rs, false, &s->client, now);
	session_end(uw->w, &s->link, lst->svc);
	sess_release(uw, s);
}

static void idle_cb(struct timer *t)
{
	struct udp_lst *lst = container_of(t, struct udp_lst, idle);
	uint64_t now = loop_now(lst->uw->w->loop);

	while (lst->lru.next != &lst->lru && lst->lru.next->last + lst->rt.idle_timeout_ms <= now)
		sess_end(lst->lru.next, END_IDLE);
	arm_idle(lst);
}

/* --- client -> server ------------------------------------------------------------- */

/* Queues <m> for <s>'s server, to leave with the batch. */
static void stage_in(struct udp_worker *uw, struct udp_sess *s, const struct dgram_msg *m)
{
	struct stage_in *e = &uw->in[uw->nin];
	struct udp_up *up = s->up;
	int i = (int)uw->nin++;

	e->up = up;
	e->next = -1;
	e->dst = s->rs->addr;
	e->svc = s->lst->svc;
	memcpy(e->pp, s->pp, s->pplen);
	e->iov[0] = (struct iovec){ e->pp, s->pplen };
	e->iov[1] = (struct iovec){ m->data, m->len };
	if (up->staged < 0) {
		up->staged = i;
		up->dirty_next = uw->dirty;
		uw->dirty = up;
	} else {
		uw->in[up->staged_tail].next = i;
	}
	up->staged_tail = i;
}

/* A send refused for a reason of an earlier datagram: an ICMP error left
 * on the (unconnected) socket fails the next send once. */
static bool async_error(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EHOSTDOWN || err == ENONET;
}

/* Lays out the datagrams staged for <up> as messages: a run of datagrams
 * of one size to one server (the last may be shorter), without PROXY
 * headers, goes as one buffer the kernel cuts (UDP GSO): one trip down
 * the stack for the run. Returns the number of messages. */
static unsigned tx_layout_from(struct udp_worker *uw, int e, unsigned k0)
{
	unsigned k = k0, niov = 0;

	while (e >= 0) {
		struct stage_in *x = &uw->in[e];
		struct msghdr *mh = &uw->txhdr[k].msg_hdr;
		size_t seg = x->iov[1].iov_len, total = 0;
		unsigned n = 0;

		*mh = (struct msghdr){ .msg_name = &x->dst.u, .msg_namelen = addr_len(&x->dst) };
		uw->txfirst[k] = e;
		if (x->iov[0].iov_len || uw->no_gso || !seg) {
			mh->msg_iov = x->iov[0].iov_len ? &x->iov[0] : &x->iov[1];
			mh->msg_iovlen = x->iov[0].iov_len ? 2 : 1;
			n = 1;
			e = x->next;
		} else {
			mh->msg_iov = &uw->txiov[niov];
			/* the run: same server, same size, room left in one send */
			for (; e >= 0; e = uw->in[e].next) {
				struct stage_in *y = &uw->in[e];
				size_t len = y->iov[1].iov_len;

				if (n && (y->iov[0].iov_len || len > seg || !len ||
					  total + len > UDP_GSO_BYTES || !addr_same(&y->dst, &x->dst) ||
					  uw->txiov[niov - 1].iov_len < seg))
					break;
				uw->txiov[niov++] = y->iov[1];
				total += len;
				n++;
			}
			mh->msg_iovlen = n;
			if (n > 1) {
				struct cmsghdr *c = &uw->txctl[k].align;
				uint16_t gso = (uint16_t)seg;

				memset(&uw->txctl[k], 0, sizeof(uw->txctl[k]));
				c->cmsg_level = IPPROTO_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(gso));
				memcpy(CMSG_DATA(c), &gso, sizeof(gso));
				mh->msg_control = uw->txctl[k].buf;
				mh->msg_controllen = sizeof(uw->txctl[k].buf);
			}
		}
		uw->txcount[k++] = (uint8_t)n;
	}
	return k - k0;
}

static void in_flush_up(struct udp_worker *uw, struct udp_up *up)
{
	unsigned k = tx_layout_from(uw, up->staged, 0), i = 0;
	bool retried = false;

	while (i < k) {
		int r = sendmmsg(up->io.fd, uw->txhdr + i, k - i, 0);
		struct virtual_service *svc = uw->in[uw->txfirst[i]].svc;
		int e;

		if (r > 0) {
			i += (unsigned)r;
			retried = false;
			continue;
		}
		if (errno == EINTR)
			continue;
		e = errno;
		if (async_error(e) && !retried) {
			retried = true;
			continue;
		}
		if (uw->txcount[i] > 1 && (e == EIO || e == EINVAL || e == ENOPROTOOPT) &&
		    !uw->no_gso) {
			/* no GSO on this path (no checksum offload): without */
			log_info("udp: UDP GSO refused (%s): datagrams go one by one", strerror(e));
			uw->no_gso = true;
			k = i + tx_layout_from(uw, uw->txfirst[i], i);
			continue;
		}
		if (e == EAGAIN || e == ENOBUFS) {
			for (unsigned n = i; n < k; n++)
				count_drop(uw->in[uw->txfirst[n]].svc, uw->txcount[n]);
			break; /* the socket buffer is full */
		}
		count_drop(svc, uw->txcount[i]); /* too large, no route: this one */
		if (udp_may_log(uw))
			log_info("udp: send to a server: %s", strerror(e));
		i++;
		retried = false;
	}
	up->staged = up->staged_tail = -1;
}

static void in_flush(struct udp_worker *uw)
{
	while (uw->dirty) {
		struct udp_up *up = uw->dirty;

		uw->dirty = up->dirty_next;
		up->dirty_next = NULL;
		in_flush_up(uw, up);
	}
	uw->nin = 0;
}

static struct udp_lst *lst_new(struct dgram_listener *dl, struct udp_worker *uw)
{
	struct udp_lst *lst = calloc(1, sizeof(*lst));

	if (!lst)
		return NULL;
	lst->dl = dl;
	lst->svc = dl->ctx;
	lst->uw = uw;
	lst->lru.prev = lst->lru.next = &lst->lru;
	lst->idle.cb = idle_cb;
	dl->priv = lst;
	return lst;
}

/* The session of client datagram <m>: its flow's, or a new one. NULL: it
 * is dropped (no server, no room). */
static struct udp_sess *session_of(struct udp_lst *lst, const struct dgram_msg *m,
				   uint64_t now)
{
	struct udp_worker *uw = lst->uw;
	uint64_t h = udp_flow_hash(uw, lst, &m->peer, &m->local);
	struct udp_sess *s = udp_flow_find(uw, lst, m, h);

	if (s && !sess_usable(s)) {
		sess_end(s, END_MOVED);
		s = NULL;
	}
	return s ? s : sess_new(lst, m, h, now);
}

/* The client datagrams a session takes: ops is `requests 1`. */
static uint32_t requests_of(const struct udp_lst *lst)
{
	return lst->rt.ops ? 1 : udp_opts_rt(&lst->rt)->requests;
}

/* Everything expected has been said: the client sent its last datagram
 * (or has no limit) and the server its responses to each. */
static bool sess_done(const struct udp_sess *s)
{
	uint32_t responses = udp_opts_rt(&s->lst->rt)->responses;
	uint32_t requests = requests_of(s->lst);

	return responses != UDP_UNLIMITED &&
	       (uint64_t)s->nresp >= (uint64_t)s->nreq * responses &&
	       (requests == UDP_UNLIMITED || s->nreq >= requests);
}

static void udp_recv(struct dgram_listener *dl, struct dgram_msg *msgs, size_t n)
{
	struct udp_worker *uw = udp_worker_get(dl->w);
	struct udp_lst *lst = dl->priv;
	struct virtual_service *svc = dl->ctx;
	uint64_t now = loop_now(dl->w->loop);
	struct udp_sess *prev = NULL;
	uint32_t requests, idle;

	if (!lst && (!uw || !(lst = lst_new(dl, uw)))) {
		count_drop(svc, n);
		return;
	}
	idle = lst->rt.idle_timeout_ms;
	svc_runtime(svc, &lst->rt);
	if (lst->rt.idle_timeout_ms < idle && timer_armed(&lst->idle)) {
		/* shorter now (weirctl --set, -E): the oldest session's end moved up */
		timer_cancel(dl->w->loop, &lst->idle);
		arm_idle(lst);
	}
	requests = requests_of(lst);
	for (size_t i = 0; i < n; i++) {
		struct dgram_msg *m = &msgs[i];
		struct vs_counters *cs = stats_mine(&svc->stats), *cr;
		struct udp_sess *s;

		/* a flow's datagrams come in runs: the previous one's session
		 * first (<prev> is forgotten whenever a session may have ended) */
		if (prev && prev->in_flows && addr_same(&prev->client, &m->peer) &&
		    addr_same(&prev->local, &m->local) && sess_usable(prev))
			s = prev;
		else
			s = prev = session_of(lst, m, now);
		if (!s) {
			count_drop(svc, 1);
			continue;
		}
		cr = stats_mine(&s->rs->stats);
		counter_add(&cs->inpkts, 1);
		counter_add(&cs->inbytes, m->len);
		counter_add(&cr->inpkts, 1);
		counter_add(&cr->inbytes, m->len);
		if (!s->nreq++)
			s->sent_ns = now_ns();
		touch(s, now);
		stage_in(uw, s, m);
		if (requests != UDP_UNLIMITED && s->nreq >= requests)
			flow_unlink(s); /* its next datagram starts a new session */
		if (sess_done(s)) {
			sess_end(s, END_SENT); /* no answer expected (responses 0) */
			prev = NULL;
		}
		if (uw->nin == UDP_BATCH)
			in_flush(uw);
	}
	in_flush(uw);
}

/* --- server -> client -------------------------------------------------------------- */

void udp_out_flush(struct udp_worker *uw)
{
	struct dgram_msg msgs[UDP_BATCH];

	loop_flush_cancel(uw->w->loop, &uw->flush);
	for (unsigned i = 0; i < uw->nout; i++) {
		struct dgram_listener *dl = uw->out[i].dl;
		size_t k = 0, sent;

		if (!dl)
			continue;
		for (unsigned j = i; j < uw->nout; j++)
			if (uw->out[j].dl == dl) {
				msgs[k++] = uw->out[j].m;
				uw->out[j].dl = NULL;
			}
		sent = dgram_send(dl, msgs, k);
		if (sent < k)
			count_drop(dl->ctx, k - sent);
	}
	uw->nout = 0;
	uw->arena_used = 0;
}

static void reply(struct udp_up *up, const struct weir_addr *from, void *data, size_t len,
		  bool trunc)
{
	struct udp_worker *uw = up->uw;
	struct udp_sess *s = udp_up_find(uw, up, from);
	struct virtual_service *svc;
	struct vs_counters *cs, *cr;
	uint64_t now = loop_now(uw->w->loop);

	if (!s) {
		/* a late reply of a session that ended, or a stranger */
		log_debug("udp: a datagram from a server with no session: dropped");
		return;
	}
	svc = s->lst->svc;
	if (trunc) {
		count_drop(svc, 1);
		return;
	}
	cs = stats_mine(&svc->stats);
	cr = stats_mine(&s->rs->stats);
	counter_add(&cs->outpkts, 1);
	counter_add(&cs->outbytes, len);
	counter_add(&cr->outpkts, 1);
	counter_add(&cr->outbytes, len);
	if (!s->answered) {
		s->answered = true;
		svc_observe_rtt(s->rs, now_ns() - s->sent_ns, now);
		health_passive(s->rs, true);
	}
	s->nresp++;
	touch(s, now);
	uw->out[uw->nout++] = (struct stage_out){
		.dl = s->lst->dl,
		.m = { .data = data, .len = len, .peer = s->client, .local = s->local,
		       .ifindex = s->ifindex },
	};
	loop_flush_queue(uw->w->loop, &uw->flush);
	if (sess_done(s))
		sess_end(s, END_DONE);
}

/* ICMP errors about datagrams this socket sent: "port unreachable" from a
 * server is a refused connection. */
static void up_errors(struct udp_up *up)
{
	struct udp_worker *uw = up->uw;

	for (int i = 0; i < UDP_BATCH; i++) {
		union { char buf[512]; struct cmsghdr align; } ctl;
		struct weir_addr to;
		char byte;
		struct iovec iov = { &byte, 1 };
		struct msghdr mh = {
			.msg_name = &to.u, .msg_namelen = sizeof(to.u),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct udp_sess *s;
		int err = 0;

		memset(&to, 0, sizeof(to));
		if (recvmsg(up->io.fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				struct sock_extended_err ee;

				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				if (ee.ee_origin == SO_EE_ORIGIN_ICMP ||
				    ee.ee_origin == SO_EE_ORIGIN_ICMP6)
					err = (int)ee.ee_errno;
			}
		if (!err || !(s = udp_up_find(uw, up, &to)))
			continue;
		if (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) {
			char a[ADDR_STRLEN];

			if (udp_may_log(uw))
				log_info("udp: %s: %s", addr_str(&s->rs->addr, a), strerror(err));
			health_passive(s->rs, false);
			sess_end(s, END_REFUSED);
		}
	}
}

static void up_drain(struct udp_up *up)
{
	struct udp_worker *uw = up->uw;

	for (int round = 0; round < UDP_ROUNDS; round++) {
		unsigned room, base;
		int got;

		if (uw->arena_used == UDP_BATCH)
			udp_out_flush(uw);
		base = uw->arena_used;
		room = UDP_BATCH - base;
		got = recvmmsg(up->io.fd, uw->rxhdr + base, room, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR || async_error(errno))
				continue; /* the error queue says more */
			if (errno != EAGAIN)
				log_warn("udp: recvmmsg: %s", strerror(errno));
			return;
		}
		uw->arena_used += (unsigned)got;
		for (unsigned i = base; i < base + (unsigned)got; i++) {
			struct msghdr *mh = &uw->rxhdr[i].msg_hdr;

			/* the name is a weir_addr already: only its family's
			 * fields are read */
			reply(up, &uw->rxname[i], uw->rxiov[i].iov_base, uw->rxhdr[i].msg_len,
			      mh->msg_flags & MSG_TRUNC);
			mh->msg_namelen = sizeof(uw->rxname[i].u);
		}
		if ((unsigned)got < room)
			return;
	}
	timer_arm(uw->w->loop, &up->more, loop_now(uw->w->loop));
}

void udp_up_cb(struct loop_io *io, uint32_t events)
{
	struct udp_up *up = container_of(io, struct udp_up, io);

	if (events & EPOLLERR)
		up_errors(up);
	up_drain(up);
}

void udp_up_more_cb(struct timer *t)
{
	up_drain(container_of(t, struct udp_up, more));
}

/* --- listeners ---------------------------------------------------------------------- */

/* The listener closes (service removed or changed, worker stopping): its
 * replies still queued go, its sessions end. */
static void udp_closing(struct dgram_listener *dl)
{
	struct udp_lst *lst = dl->priv;

	if (!lst)
		return;
	udp_out_flush(lst->uw);
	while (lst->lru.next != &lst->lru)
		sess_end(lst->lru.next, END_GONE);
	timer_cancel(lst->uw->w->loop, &lst->idle);
	dl->priv = NULL;
	free(lst);
}


static const struct dgram_ops udp_dgram_ops = {
	.recv = udp_recv,
	.hold = dgram_hold_svc,
	.release = dgram_release_svc,
	.closing = udp_closing,
};

/* --- the mode's ops (control thread) ------------------------------------------------ */

static int udp_prepare(struct virtual_service *svc, char *err)
{
	/* a burst the worker cannot read at once waits in the socket */
	struct dgram_conf conf = { .max_len = 65535, .batch = UDP_BATCH, .rcvbuf = UDP_RCVBUF };
	struct dgram_set *set;
	int rc = dgram_prepare(&svc->addr, &conf, &set, err);

	if (rc == 0)
		svc->proxy_priv = set;
	return rc;
}

static void udp_start(struct virtual_service *svc)
{
	dgram_start(svc->proxy_priv, &udp_dgram_ops, svc);
}

static void udp_stop(struct virtual_service *svc)
{
	dgram_stop(svc->proxy_priv);
	svc->proxy_priv = NULL;
}

static int udp_check(const struct service_spec *sp, char *err)
{
	if (sp->send_proxy == 1) {
		snprintf(err, SPEC_ERR_MAX, "send_proxy v1 is a text header for streams: "
			 "a UDP service sends v2 (a header in front of each datagram)");
		return -EINVAL;
	}
	if (sp->naccept_proxy) {
		snprintf(err, SPEC_ERR_MAX, "accept_proxy: a UDP service does not read PROXY "
			 "headers from clients (it sends them to servers: send_proxy v2)");
		return -EINVAL;
	}
	return 0;
}

const struct svc_mode udp_mode = {
	.name = "udp",
	.proto = IPPROTO_UDP,
	.check = udp_check,
	.prepare = udp_prepare,
	.start = udp_start,
	.stop = udp_stop,
};
