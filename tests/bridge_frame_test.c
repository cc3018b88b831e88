/* bridge_frame_test: the bridge's frame format (docs/bridge.md), byte by
 * byte, and every way a decoder refuses a damaged frame. */
#include <criterion/criterion.h>
#include <string.h>

#include "../readers/bridge/frame.h"

static const bb_bar bar1 = { 3, 0, 1720013400, 10.5, 11.25, 10.0, 11.0, 1200 };
static const bb_bar late = { 7, BB_BAR_LATE | BB_BAR_FILLED, 1720013280,
                             1, 2, 0.5, 1.5, 7 };

/* A MINUTE frame of the two bars above, into buf; its length. */
static size_t minute(uint8_t *buf)
{
	struct br_frame f = { .type = BR_MINUTE, .count = 2, .date = 20240703,
	                      .time = 1720013400, .pos = br_pos(5, 9) };

	br_frame_put(buf, &f);
	br_rec_put(buf, &f, 0, &bar1);
	br_rec_put(buf, &f, 1, &late);
	return br_frame_bytes(BR_MINUTE, 2, 0);
}

Test(frame, minute_header_bytes)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	static const uint8_t hdr[32] = {
		'B', 'B', 'F', 'R', 2, BR_MINUTE, 0, 0,
		2, 0, 0, 0,                     /* count */
		0x3f, 0xd9, 0x34, 0x01,         /* 20240703 */
		0x58, 0x52, 0x85, 0x66, 0, 0, 0, 0, /* 1720013400 */
		9, 0, 0, 0, 5, 0, 0, 0,         /* pos 5 << 32 | 9 */
	};

	cr_assert_eq(n, 32 + 2 * 52);
	cr_assert_eq(memcmp(buf, hdr, 32), 0);
}

Test(frame, record_bytes)
{
	uint8_t buf[256];
	double v = 10.5;
	uint8_t d[8];

	minute(buf);
	memcpy(d, &v, 8);
	cr_assert_eq(buf[32], 3);                  /* symbol */
	cr_assert_eq(buf[32 + 52 + 4], BB_BAR_LATE | BB_BAR_FILLED);
	/* time offset of the late bar: -120 s, little-endian */
	cr_assert_eq(buf[32 + 52 + 8], 0x88);
	cr_assert_eq(buf[32 + 52 + 11], 0xff);
	cr_assert_eq(memcmp(buf + 32 + 12, d, 8), 0); /* open, IEEE-754 LE */
}

Test(frame, minute_roundtrip)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;
	bb_bar b;

	cr_assert_eq(br_frame_get(buf, n, &f, NULL), 0);
	cr_assert_eq(f.type, BR_MINUTE);
	cr_assert_eq(f.count, 2);
	cr_assert_eq(f.date, 20240703);
	cr_assert_eq(f.pos, (5ull << 32) | 9);
	br_rec_get(&f, 0, &b);
	cr_assert_eq(memcmp(&b, &bar1, sizeof(b)), 0);
	br_rec_get(&f, 1, &b);
	cr_assert_eq(memcmp(&b, &late, sizeof(b)), 0);
}

Test(frame, session_roundtrip)
{
	uint8_t buf[64];
	struct br_frame f = { .type = BR_SESSION_END, .date = 20240703,
	                      .time = 1720013400, .pos = br_pos(5, BR_SUB_END),
	                      .session = { .close = 1720022400,
	                                   .flags = BB_SESSION_EARLY_CLOSE },
	                      .reason = BB_END_DATA }, g;

	cr_assert_eq(br_frame_bytes(BR_SESSION_END, 0, 0), 48);
	br_frame_put(buf, &f);
	cr_assert_eq(br_frame_get(buf, 48, &g, NULL), 0);
	cr_assert_eq(g.session.date, 20240703);
	cr_assert_eq(g.session.open, 1720013400);
	cr_assert_eq(g.session.close, 1720022400);
	cr_assert_eq(g.session.flags, BB_SESSION_EARLY_CLOSE);
	cr_assert_eq(g.reason, BB_END_DATA);
}

Test(frame, history_roundtrip)
{
	uint8_t buf[256];
	struct br_frame f = { .type = BR_HISTORY, .count = 2, .date = 20240702,
	                      .time = 1719927000, .first = 3, .nsym = 2,
	                      .session = { .close = 1719950400 } }, g;
	bb_bar b;

	br_frame_put(buf, &f);
	br_count_put(buf, 0, 1);
	br_count_put(buf, 1, 1);
	br_rec_put(buf, &f, 0, &bar1);
	br_rec_put(buf, &f, 1, &late);
	size_t n = br_frame_bytes(BR_HISTORY, 2, 2);
	cr_assert_eq(n, 32 + 24 + 8 + 104);
	cr_assert_eq(br_frame_get(buf, n, &g, NULL), 0);
	cr_assert_eq(g.first, 3);
	cr_assert_eq(g.nsym, 2);
	cr_assert_eq(br_count_get(&g, 1), 1);
	br_rec_get(&g, 1, &b);
	cr_assert_eq(memcmp(&b, &late, sizeof(b)), 0);
}

Test(frame, hello_roundtrip)
{
	uint8_t buf[256];
	char name[BR_NAME_BYTES + 1];
	struct br_frame f = { .type = BR_HELLO, .count = 2,
	                      .geom = { 64, 64, 480, 2, 1u << 16,
	                                BB_MODE_BACKTEST } }, g;

	br_frame_put(buf, &f);
	br_name_put(buf, 0, "AAPL");
	br_name_put(buf, 1, "BRK.B");
	cr_assert_eq(br_frame_get(buf, br_frame_bytes(BR_HELLO, 2, 0), &g, NULL), 0);
	cr_assert_eq(g.geom.rows, 480);
	cr_assert_eq(g.geom.ring_capacity, 65536);
	cr_assert_eq(g.geom.mode, BB_MODE_BACKTEST);
	br_name_get(&g, 1, name);
	cr_assert_str_eq(name, "BRK.B");
}

Test(frame, bad_magic)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;
	const char *why;

	buf[0] = 'X';
	cr_assert_eq(br_frame_get(buf, n, &f, &why), BB_EBADMAGIC);
	cr_assert_str_eq(why, "magic");
}

Test(frame, other_version)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;

	buf[4] = 1; /* version 1 positions differ: refused */
	cr_assert_eq(br_frame_get(buf, n, &f, NULL), BB_EVERSION);
	buf[4] = 3;
	cr_assert_eq(br_frame_get(buf, n, &f, NULL), BB_EVERSION);
}

Test(frame, truncated_record)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;
	const char *why;

	cr_assert_eq(br_frame_get(buf, n - 1, &f, &why), BB_ETRUNCATED);
	cr_assert_str_eq(why, "records");
	cr_assert_eq(br_frame_get(buf, 20, &f, &why), BB_ETRUNCATED);
	cr_assert_str_eq(why, "header");
}

Test(frame, trailing_bytes)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;
	const char *why;

	cr_assert_eq(br_frame_get(buf, n + 1, &f, &why), BB_ECORRUPT);
	cr_assert_str_eq(why, "trailing bytes");
}

Test(frame, unknown_type)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;

	buf[5] = 99;
	cr_assert_eq(br_frame_get(buf, n, &f, NULL), BB_ECORRUPT);
}

Test(frame, huge_count_is_truncated)
{
	uint8_t buf[256];
	size_t n = minute(buf);
	struct br_frame f;

	buf[11] = 0xff; /* count 0xff000002 */
	cr_assert_eq(br_frame_get(buf, n, &f, NULL), BB_ETRUNCATED);
}

Test(frame, history_counts_must_sum)
{
	uint8_t buf[256];
	struct br_frame f = { .type = BR_HISTORY, .count = 1, .first = 0,
	                      .nsym = 2 }, g;
	const char *why;

	br_frame_put(buf, &f);
	br_count_put(buf, 0, 1);
	br_count_put(buf, 1, 1);
	br_rec_put(buf, &f, 0, &bar1);
	cr_assert_eq(br_frame_get(buf, br_frame_bytes(BR_HISTORY, 1, 2), &g, &why),
	             BB_ECORRUPT);
	cr_assert_eq(strncmp(why, "per-symbol counts", 17), 0);
}

Test(frame, positions_order)
{
	int64_t open = 1720013400;

	cr_assert_eq(br_sub_minute(open, open), 0x10000);
	cr_assert_eq(br_sub_minute(open, open + 389 * 60), 390u << 16);
	cr_assert_eq(br_sub_up(open, open + 389 * 60, 0), (390u << 16) + 1);
	cr_assert(br_pos(5, BR_SUB_END) < br_pos(6, BR_SUB_HISTORY));
	cr_assert(br_pos(6, BR_SUB_START) < br_pos(6, br_sub_minute(open, open)));
	/* minute i, its UP frames, minute i + 1 */
	cr_assert(br_sub_minute(open, open + 60) < br_sub_up(open, open + 60, 0));
	cr_assert(br_sub_up(open, open + 60, BR_UP_CHUNKS - 1) <
	          br_sub_minute(open, open + 120));
	/* a day's last minute before the session end and the upkeep's */
	cr_assert(br_sub_up(open, open + 1439 * 60, BR_UP_CHUNKS - 1) <
	          BR_SUB_END);
	cr_assert(BR_SUB_END < BR_SUB_UP_END);
	cr_assert(BR_SUB_UP_END < BR_SUB_BLOCK);
	cr_assert(BR_SUB_BLOCK_MAX < BR_SUB_DONE);
}

static const bb_quality q1 = { 390, 370, 15, 2, 5, 0, 20240703, 3,
                               94.871794871794876, 98.717948717948715, 1, 0 };

/* An UP frame of minute 4: a derived bar (interval 1, row 0), a fill, and
 * one quality figure; its length. */
static size_t up(uint8_t *buf, int type)
{
	struct br_frame f = { .type = (uint8_t)type, .count = 3, .nqual = 1,
	                      .date = 20240703, .time = 1720013400,
	                      .pos = br_pos(5, br_sub_up(1720013400,
	                                                 1720013400 + 240, 0)),
	                      .session = { .close = 1720036800 },
	                      .info = { 20240702, BB_UPKEEP_FOLLOWING, 20240703,
	                                2, 7, 1000, 1, 40, 9 } };

	br_frame_put(buf, &f);
	br_item_put(buf, &f, 0, BR_TABLE_IV + 1, 0, &bar1);
	br_item_put(buf, &f, 1, BR_TABLE_FILLS, 12, &late);
	br_quality_put(buf, &f, 0, 3, &q1);
	return br_frame_bytes(type, 3, 0);
}

Test(frame, up_bytes)
{
	uint8_t buf[512];
	size_t n = up(buf, BR_UP);

	cr_assert_eq(n, 32 + 72 + 3 * 60);
	cr_assert_eq(buf[4], 2);
	cr_assert_eq(buf[5], 8);
	cr_assert_eq(buf[8], 3);                     /* count */
	cr_assert_eq(buf[24], 1);                    /* (4 + 1) << 16 | 1 */
	cr_assert_eq(buf[26], 5);
	cr_assert_eq(buf[32 + 8], 1);                /* nqual */
	cr_assert_eq(buf[32 + 20], BB_UPKEEP_FOLLOWING);
	cr_assert_eq(buf[32 + 40], 0xe8);            /* bars_seen 1000 */
	cr_assert_eq(buf[32 + 41], 0x03);
	cr_assert_eq(buf[104], 2);                   /* table 1 + 1 */
	cr_assert_eq(buf[104 + 8], 3);               /* symbol */
	cr_assert_eq(buf[164 + 4], 12);              /* row */
	cr_assert_eq(buf[164 + 16], 0x88);           /* -120 s */
	cr_assert_eq(buf[224], 3);                   /* quality's symbol */
	cr_assert_eq(buf[224 + 4] | buf[224 + 5] << 8, 390); /* expected */
}

Test(frame, up_roundtrip)
{
	uint8_t buf[512];
	size_t n = up(buf, BR_UP_END);
	struct br_frame f;
	uint32_t table, row, sym;
	bb_quality q;
	bb_bar b;

	cr_assert_eq(br_frame_get(buf, n, &f, NULL), 0);
	cr_assert_eq(f.type, BR_UP_END);
	cr_assert_eq(f.nqual, 1);
	cr_assert_eq(f.session.close, 1720036800);
	cr_assert_eq(f.info.done_date, 20240702);
	cr_assert_eq(f.info.unfillable, 9);
	br_item_get(&f, 1, &table, &row, &b);
	cr_assert_eq(table, BR_TABLE_FILLS);
	cr_assert_eq(row, 12);
	cr_assert_eq(memcmp(&b, &late, sizeof(b)), 0);
	br_item_get(&f, 0, &table, &row, &b);
	cr_assert_eq(table, 2);
	cr_assert_eq(memcmp(&b, &bar1, sizeof(b)), 0);
	br_quality_get(&f, 0, &sym, &q);
	cr_assert_eq(sym, 3);
	cr_assert_eq(memcmp(&q, &q1, sizeof(q)), 0);
}

Test(frame, up_nqual_beyond_count)
{
	uint8_t buf[512];
	size_t n = up(buf, BR_UP);
	struct br_frame f;
	const char *why;

	buf[32 + 8] = 4;
	cr_assert_eq(br_frame_get(buf, n, &f, &why), BB_ECORRUPT);
	cr_assert_eq(strncmp(why, "nqual", 5), 0);
}

Test(frame, up_block_roundtrip)
{
	uint8_t buf[256];
	struct br_frame f = { .type = BR_UP_BLOCK, .count = 1, .date = 20240702,
	                      .time = 1719927000, .first = 2, .nsym = 3,
	                      .last = BR_BLOCK_LAST,
	                      .pos = br_pos(4, BR_SUB_BLOCK + 1),
	                      .session = { .close = 1719950400 } }, g;
	uint32_t table, row;
	bb_bar b;

	br_frame_put(buf, &f);
	br_item_put(buf, &f, 0, BR_TABLE_IV, 5, &late);
	cr_assert_eq(br_frame_bytes(BR_UP_BLOCK, 1, 0), 32 + 24 + 60);
	cr_assert_eq(br_frame_get(buf, 116, &g, NULL), 0);
	cr_assert_eq(g.first, 2);
	cr_assert_eq(g.nsym, 3);
	cr_assert_eq(g.last, BR_BLOCK_LAST);
	cr_assert_eq(g.session.open, 1719927000);
	cr_assert_eq(g.session.close, 1719950400);
	br_item_get(&g, 0, &table, &row, &b);
	cr_assert_eq(row, 5);
	cr_assert_eq(memcmp(&b, &late, sizeof(b)), 0);
}

Test(frame, up_hello_roundtrip)
{
	uint8_t buf[128];
	struct br_frame f = { .type = BR_UP_HELLO, .nintervals = 2,
	                      .history_days = 3, .minutes = { 5, 60 } }, g;

	br_frame_put(buf, &f);
	cr_assert_eq(br_frame_bytes(BR_UP_HELLO, 0, 0), 32 + 64);
	cr_assert_eq(buf[32 + 8 + 4], 60);
	cr_assert_eq(br_frame_get(buf, 96, &g, NULL), 0);
	cr_assert_eq(g.nintervals, 2);
	cr_assert_eq(g.history_days, 3);
	cr_assert_eq(g.minutes[1], 60);
	cr_assert_eq(g.minutes[2], 0);
}

Test(frame, up_hello_too_many_intervals)
{
	uint8_t buf[128];
	struct br_frame f = { .type = BR_UP_HELLO, .nintervals = 15 }, g;
	const char *why;

	br_frame_put(buf, &f);
	cr_assert_eq(br_frame_get(buf, 96, &g, &why), BB_ECORRUPT);
	cr_assert_eq(strncmp(why, "nintervals", 10), 0);
}

Test(frame, up_tag_names_the_layout)
{
	uint32_t a[] = { 5, 15, 60 }, b[] = { 5, 15, 30 }, c[] = { 15, 5, 60 };
	uint16_t t = br_up_tag(3, a, 2);

	cr_assert(t != 0);
	cr_assert_eq(br_up_tag(3, a, 2), t);
	cr_assert_neq(br_up_tag(3, b, 2), t);   /* another interval */
	cr_assert_neq(br_up_tag(3, c, 2), t);   /* another order */
	cr_assert_neq(br_up_tag(3, a, 1), t);   /* other history days */
	cr_assert_neq(br_up_tag(2, a, 2), t);   /* fewer intervals */
	cr_assert(br_up_tag(0, a, 0) != 0);
}

Test(frame, up_tag_travels_in_the_header)
{
	uint8_t buf[BR_HDR_BYTES + BR_UP_BYTES];
	struct br_frame f = { .type = BR_UP, .flags = 0xbeef, .date = 20240702,
	                      .pos = br_pos(3, 5) }, g;

	cr_assert_eq(br_frame_bytes(BR_UP, 0, 0), sizeof(buf));
	br_frame_put(buf, &f);
	cr_assert_eq(br_frame_get(buf, sizeof(buf), &g, NULL), 0);
	cr_assert_eq(g.flags, 0xbeef);
}
