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
		'B', 'B', 'F', 'R', 1, BR_MINUTE, 0, 0,
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

	buf[4] = 2;
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

	cr_assert_eq(br_sub_minute(open, open), 2);
	cr_assert_eq(br_sub_minute(open, open + 389 * 60), 391);
	cr_assert(br_pos(5, BR_SUB_END) < br_pos(6, BR_SUB_HISTORY));
	cr_assert(br_pos(6, BR_SUB_START) < br_pos(6, br_sub_minute(open, open)));
}
