/* test_backup.c - failover order (backup servers) and the load a server
 * has elsewhere (ext_active), for every algorithm of the registry. */
#include "fixture.h"

/* A pick for request number <k>: a varying client and locality key, so
 * that the hashing algorithms look at many slots. */
static int pick_k(struct fx *f, uint32_t k)
{
	uint8_t a[4] = { 192, 0, (uint8_t)(k >> 8), (uint8_t)k };
	char key[16];
	struct sched_req req = { .src = a, .src_len = 4, .src_port = (uint16_t)k,
				 .lkey = key, .now_ms = 1000 + k };

	snprintf(key, sizeof(key), "k%u", k);
	req.lkey_len = strlen(key);
	return sched_pick(f->s, &req);
}

/* How many of <n> picks went to each server (counts[FX_MAX]), -1s apart. */
static uint32_t picks(struct fx *f, uint32_t n, uint32_t *counts, bool open)
{
	uint32_t none = 0;

	memset(counts, 0, sizeof(uint32_t) * f->n);
	for (uint32_t k = 0; k < n; k++) {
		int i = pick_k(f, k);

		if (i < 0) {
			none++;
			continue;
		}
		counts[i]++;
		if (open) {
			sched_conn_open(f->s, f->ptr[i]);
			sched_conn_close(f->s, f->ptr[i], true);
		}
	}
	return none;
}

static void set_flags(struct fx *f, size_t i, uint32_t flags)
{
	f->srv[i].flags = (f->srv[i].flags & SCHED_SRV_LIBRARY) | flags;
	CHECK_EQ(sched_server_changed(f->s, &f->srv[i]), 0);
}

static void one_algorithm(const struct sched_ops *ops, void *arg)
{
	struct sched_params p = { .flags = ops->takes_flags ? SCHED_F_FALLBACK : 0,
				  .mh_table_size = 251 };
	uint32_t c[4];
	struct fx f;

	if (!fx_open(&f, ops->name, NULL, 0, &p))
		return;
	f.n = 4;
	for (size_t i = 0; i < 4; i++) {
		fx_server_init(&f.srv[i], i, 1);
		f.ptr[i] = &f.srv[i];
	}
	f.srv[2].backup = f.srv[3].backup = true;
	CHECK_EQ(sched_set_servers(f.s, f.ptr, 4), 0);
	/* primaries up: the backups never, whatever the key */
	picks(&f, 600, c, true);
	if (c[2] || c[3] || !c[0])
		unit_fail(__FILE__, __LINE__, "%s: primaries up: %u %u %u %u", ops->name,
			  c[0], c[1], c[2], c[3]);
	CHECK(f.srv[2].flags & SCHED_SRV_STANDBY);
	CHECK(!(f.srv[0].flags & SCHED_SRV_STANDBY));
	/* one primary down: still not the backups */
	set_flags(&f, 0, SCHED_SRV_DOWN);
	picks(&f, 600, c, true);
	if (c[0] || c[2] || c[3] || !c[1])
		unit_fail(__FILE__, __LINE__, "%s: one primary: %u %u %u %u", ops->name,
			  c[0], c[1], c[2], c[3]);
	/* both down (one drained): the backups take everything, even for
	 * a hashing algorithm without a fallback (its table is theirs now) */
	set_flags(&f, 1, SCHED_SRV_DRAIN);
	if (picks(&f, 600, c, true) || c[0] || c[1] || c[2] + c[3] != 600)
		unit_fail(__FILE__, __LINE__, "%s: primaries out: %u %u %u %u", ops->name,
			  c[0], c[1], c[2], c[3]);
	CHECK(!(f.srv[2].flags & SCHED_SRV_STANDBY));
	/* a primary back: the backups stop at once */
	set_flags(&f, 1, 0);
	picks(&f, 600, c, true);
	if (c[0] || c[2] || c[3] || !c[1])
		unit_fail(__FILE__, __LINE__, "%s: primary back: %u %u %u %u", ops->name,
			  c[0], c[1], c[2], c[3]);
	fx_close(&f);
	CHECK(!(f.srv[2].flags & SCHED_SRV_STANDBY)); /* out of a set: no tier */
	(void)arg;
}

TEST(sched_backup_every_algorithm)
{
	sched_foreach(one_algorithm, NULL);
}

/* An overloaded primary (-x) hands new work to the backup until its
 * connections fall below the lower threshold. */
TEST(sched_backup_overload)
{
	struct fx f;

	if (!fx_open(&f, "rr", NULL, 0, NULL))
		return;
	f.n = 2;
	for (size_t i = 0; i < 2; i++) {
		fx_server_init(&f.srv[i], i, 1);
		f.ptr[i] = &f.srv[i];
	}
	f.srv[0].upper = 2;
	f.srv[1].backup = true;
	CHECK_EQ(sched_set_servers(f.s, f.ptr, 2), 0);
	CHECK_EQ(fx_pick(&f, 1), 0);
	sched_conn_open(f.s, &f.srv[0]);
	CHECK_EQ(fx_pick(&f, 1), 0);
	sched_conn_open(f.s, &f.srv[0]);     /* 2: overloaded */
	CHECK_EQ(fx_pick(&f, 1), 1);
	CHECK_EQ(fx_pick(&f, 1), 1);
	sched_conn_close(f.s, &f.srv[0], true); /* 1 < 3/4 x 2: back */
	CHECK_EQ(fx_pick(&f, 1), 0);
	CHECK(f.srv[1].flags & SCHED_SRV_STANDBY);
	fx_close(&f);
}

/* Only backups: they serve. No backups: nothing in standby. */
TEST(sched_backup_only_backups)
{
	struct fx f;

	if (!fx_open(&f, "wrr", NULL, 2, NULL))
		return;
	CHECK(!(f.srv[0].flags & SCHED_SRV_STANDBY));
	f.srv[0].backup = f.srv[1].backup = true;
	CHECK_EQ(sched_server_changed(f.s, &f.srv[0]), 0);
	CHECK(fx_pick(&f, 1) >= 0);
	CHECK(!(f.srv[0].flags & SCHED_SRV_STANDBY));
	/* a backup made primary again (weirctl -e --backup off) */
	f.srv[0].backup = false;
	CHECK_EQ(sched_server_changed(f.s, &f.srv[0]), 0);
	for (int k = 0; k < 10; k++)
		CHECK_EQ(fx_pick(&f, 1), 0);
	fx_close(&f);
}

/* The XDP table builder's simulation sees the tiers too. */
TEST(sched_backup_sequence)
{
	struct sched_server srv[3], *ptr[3];
	int32_t out[64];
	int made;

	for (size_t i = 0; i < 3; i++) {
		fx_server_init(&srv[i], i, 1);
		ptr[i] = &srv[i];
	}
	srv[2].backup = true;
	made = sched_sequence(sched_find("wlc"), NULL, ptr, 3, NULL, out, 64);
	CHECK_EQ(made, 64);
	for (int k = 0; k < made; k++)
		CHECK(out[k] != 2);
	srv[0].flags = srv[1].flags = SCHED_SRV_DOWN;
	made = sched_sequence(sched_find("rr"), NULL, ptr, 3, NULL, out, 8);
	CHECK_EQ(made, 8);
	for (int k = 0; k < made; k++)
		CHECK_EQ(out[k], 2);
}

/* Load elsewhere: the lc family and p2c count it with the set's own. */
static void ext_one(const char *name)
{
	struct fx f;
	uint32_t c[2];

	if (!fx_open(&f, name, NULL, 2, NULL))
		return;
	sched_server_load(f.s, &f.srv[0], 50);
	picks(&f, 200, c, true);
	if (c[0] || c[1] != 200)
		unit_fail(__FILE__, __LINE__, "%s: 0 loaded: %u %u", name, c[0], c[1]);
	sched_server_load(f.s, &f.srv[0], 0);
	sched_server_load(f.s, &f.srv[1], 50);
	picks(&f, 200, c, true);
	if (c[1] || c[0] != 200)
		unit_fail(__FILE__, __LINE__, "%s: 1 loaded: %u %u", name, c[0], c[1]);
	fx_close(&f);
}

TEST(sched_external_load)
{
	static const char *const names[] = { "lc", "wlc", "sed", "nq", "p2c", "lblc",
					     "lblcr" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ext_one(names[i]);
}

/* The XDP table builder copies the servers into sched_sequence(): the
 * load elsewhere comes with them. */
TEST(sched_external_load_in_a_sequence)
{
	struct sched_server srv[2], *ptr[2];
	int32_t out[16];
	int made;

	for (size_t i = 0; i < 2; i++) {
		fx_server_init(&srv[i], i, 1);
		ptr[i] = &srv[i];
	}
	srv[0].ext_active = 10;
	made = sched_sequence(sched_find("wlc"), NULL, ptr, 2, NULL, out, 16);
	CHECK_EQ(made, 16);
	/* server 1 takes the first 10, then they alternate */
	for (int k = 0; k < 10; k++)
		CHECK_EQ(out[k], 1);
	CHECK(out[10] == 0 || out[11] == 0);
}
