/* test_rr.c - round robin: IPVS's cursor. */
#include "fixture.h"

TEST(rr_rotates_from_the_cursor)
{
	struct fx f;
	static const int want[] = { 0, 1, 2, 3, 0, 1 };

	if (!fx_open(&f, "rr", NULL, 4, NULL))
		return;
	for (size_t k = 0; k < 6; k++)
		CHECK_EQ(fx_pick(&f, k), want[k]);
	fx_close(&f);
}

TEST(rr_skips_unavailable_and_keeps_its_place)
{
	struct fx f;

	if (!fx_open(&f, "rr", NULL, 4, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0);
	f.srv[1].weight = 0;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 2); /* the cursor stays on 0 across updates */
	CHECK_EQ(fx_pick(&f, 0), 3);
	CHECK_EQ(fx_pick(&f, 0), 0);
	f.srv[1].weight = 1;
	sched_server_changed(f.s, &f.srv[1]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

/* ip_vs_rr_del_dest: removing the server under the cursor moves the
 * cursor to the one before it, so the next pick is its successor. */
TEST(rr_removal_under_cursor)
{
	struct fx f;
	struct sched_server *rest[3];

	if (!fx_open(&f, "rr", NULL, 4, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0);
	CHECK_EQ(fx_pick(&f, 0), 1); /* cursor on b */
	rest[0] = &f.srv[0];
	rest[1] = &f.srv[2];
	rest[2] = &f.srv[3];
	CHECK_EQ(sched_set_servers(f.s, rest, 3), 0);
	CHECK_EQ(fx_pick(&f, 0), 1); /* c, now at index 1 */
	CHECK_EQ(f.srv[2].idx, 1);
	fx_close(&f);
}

TEST(rr_removal_of_the_first_under_cursor)
{
	struct fx f;

	if (!fx_open(&f, "rr", NULL, 3, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0);
	CHECK_EQ(sched_set_servers(f.s, &f.ptr[1], 2), 0);
	CHECK_EQ(fx_pick(&f, 0), 0); /* from the head again: b */
	CHECK_EQ(fx_pick(&f, 0), 1);
	fx_close(&f);
}

TEST(rr_skip_and_overload)
{
	struct fx f;
	uint64_t skip = 1u << 1;
	struct sched_req req = { .skip = &skip };

	if (!fx_open(&f, "rr", NULL, 3, NULL))
		return;
	CHECK_EQ(fx_pick(&f, 0), 0);
	CHECK_EQ(sched_pick(f.s, &req), 2);
	f.srv[0].upper = 1;
	sched_server_changed(f.s, &f.srv[0]);
	sched_conn_open(f.s, &f.srv[0]);
	CHECK_EQ(fx_pick(&f, 0), 1);
	CHECK_EQ(fx_pick(&f, 0), 2);
	CHECK_EQ(fx_pick(&f, 0), 1);
	sched_conn_close(f.s, &f.srv[0], true);
	CHECK_EQ(fx_pick(&f, 0), 2);
	CHECK_EQ(fx_pick(&f, 0), 0);
	fx_close(&f);
}

TEST(rr_even_at_scale)
{
	struct fx f;
	int count[200] = { 0 };

	if (!fx_open(&f, "rr", NULL, 200, NULL))
		return;
	for (int k = 0; k < 200 * 50; k++) {
		int i = fx_pick(&f, 0);

		REQUIRE(i >= 0);
		count[i]++;
	}
	for (int i = 0; i < 200; i++)
		CHECK_EQ(count[i], 50);
	fx_close(&f);
}
