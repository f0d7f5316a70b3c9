/*
 * lbl.h - what lblc and lblcr share (lbl.c): the table of locality keys
 * with IPVS's periodic collection, the wlc order they fall back on, and
 * IPVS's "is this server overloaded while another sits half idle" test.
 * Private to src/sched/.
 */
#ifndef WEIR_SCHED_LBL_H
#define WEIR_SCHED_LBL_H

#include "sched/sched_int.h"

/* IPVS ip_vs_lblc.c / ip_vs_lblcr.c constants, in milliseconds. */
#define LBL_CHECK_INTERVAL  (60 * 1000)          /* collection timer */
#define LBL_ENTRY_TIMEOUT   (6 * 60 * 1000)      /* idle, when over size */
#define LBL_DEFAULT_EXPIRE  (24 * 60 * 60 * 1000u) /* lblc(r)_expiration */
#define LBL_FULL_EVERY      30                   /* checks per full check */
#define LBL_MAX_SIZE        (1024 * 16)          /* TAB_SIZE * 16 */

struct lbl {
	struct ktab tab;
	struct ltree wlc;     /* wlc over the whole set: the fallback */
	uint8_t *half;        /* [n] 2*active < weight: a half-idle server */
	uint32_t nhalf;       /* how many are */
	bool gc_started;
	uint64_t gc_next;     /* when the collection timer fires next */
	uint32_t gc_counter;  /* IPVS tbl->counter */
	uint32_t expire_ms;
	/* frees one entry (the owner's structure around the ktab_ent) */
	void (*drop)(struct lbl *l, struct ktab_ent *e);
};

int  lbl_init(struct lbl *l, const struct sched *s,
	      void (*drop)(struct lbl *l, struct ktab_ent *e));
void lbl_fini(struct lbl *l);
/* Rebuilds the wlc tree and the half-idle flags; 0 or -ENOMEM. */
int  lbl_update(struct lbl *l, const struct sched *s);
void lbl_conn_changed(struct lbl *l, const struct sched *s,
		      const struct sched_server *srv);
/* Runs the collection timer's work due by <now>. */
void lbl_gc(struct lbl *l, uint64_t now);
/* IPVS is_overloaded(): <srv> has more active connections than its weight
 * while some server has fewer than half its weight. */
bool lbl_overloaded(const struct lbl *l, const struct sched_server *srv);
/* The wlc choice among the usable servers, or -1. */
int  lbl_wlc(struct lbl *l, const struct sched *s, const struct sched_req *req);
/* Looks <req>'s key up; NULL if absent. Marks it used at now. */
struct ktab_ent *lbl_lookup(struct lbl *l, const struct sched_req *req);

#endif
