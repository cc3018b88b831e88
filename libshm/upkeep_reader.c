/*
 * upkeep_reader.c: the reader's view of barbus-upkeep's segments (tables
 * up.status, up.quality, up.fills, up.<N>m and their histories up.fills.h,
 * up.<N>m.h; docs/upkeep.md), read-only, and bb_bars() and
 * bb_bars_history(), which put the bus's tables and the upkeep's together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barbus.h"
#include "control.h"
#include "upkeep_status.h"

_Static_assert(sizeof(bb_quality) == sizeof(bb_bar), "quality is a record");

struct bb_upkeep {
	bb_table *status, *quality, *fills;
	bb_table *iv[BB_UPKEEP_MAX_INTERVALS];
	uint32_t  min[BB_UPKEEP_MAX_INTERVALS];
	uint32_t  n;
	/* History: nblocks blocks of nsym table symbols each (0: none). */
	bb_table *hfills, *hiv[BB_UPKEEP_MAX_INTERVALS];
	uint32_t  nblocks, nsym;
};

/* A history table holds exactly nblocks x nsym symbols. */
static int history_fits(const bb_upkeep *u, const bb_table *t)
{
	return (uint64_t)bb_table_symbols(t) == (uint64_t)u->nblocks * u->nsym;
}

/* The interval list of up.status: minutes, 0-terminated. */
static int open_intervals(bb_upkeep *u, const char *bus)
{
	uint32_t list[BB_UPKEEP_MAX_INTERVALS];
	char role[24];
	bb_bar b;
	int rc = bb_table_latest(u->status, BB__UP_ROW_INTERVALS, &b);

	if (rc != 0)
		return rc == BB_EEMPTY ? BB_ENOTREADY : rc;
	memcpy(list, &b, sizeof(list));
	for (uint32_t k = 0; k < BB_UPKEEP_MAX_INTERVALS && list[k] != 0; k++) {
		snprintf(role, sizeof(role), "up.%um", list[k]);
		if ((rc = bb_table_open(&u->iv[u->n], bus, role)) != 0)
			return rc;
		/* Counted at once: bb_upkeep_close() frees it if its
		 * history below fails to open. */
		u->min[u->n++] = list[k];
		snprintf(role, sizeof(role), "up.%um.h", list[k]);
		if (u->nblocks &&
		    (rc = bb_table_open(&u->hiv[u->n - 1], bus, role)) != 0)
			return rc;
		if (bb_table_symbols(u->iv[u->n - 1]) != u->nsym ||
		    (u->nblocks && !history_fits(u, u->hiv[u->n - 1])))
			return BB_EGEOMETRY;
	}
	return 0;
}

int bb_upkeep_open(bb_upkeep **out, const char *bus)
{
	bb_upkeep *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return ENOMEM;
	int rc = bb_table_open(&u->status, bus, BB__UP_STATUS_ROLE);
	if (rc == 0 && bb_table_symbols(u->status) < bb__up_status_symbols(0))
		rc = BB_EGEOMETRY;
	if (rc == 0)
		rc = bb_table_open(&u->quality, bus, "up.quality");
	if (rc == 0)
		rc = bb_table_open(&u->fills, bus, "up.fills");
	if (rc == 0) {
		u->nblocks = bb__up_status_blocks(bb_table_symbols(u->status));
		u->nsym = bb_table_symbols(u->fills);
	}
	/* Every count below comes from here: block loops use arrays of
	 * BB_CTL_MAX_BLOCKS (block_back() sorts their dates in one), and
	 * history symbols are block x nsym. */
	if (rc == 0 && (u->nblocks > BB_CTL_MAX_BLOCKS ||
	                bb_table_symbols(u->quality) != u->nsym))
		rc = BB_EGEOMETRY;
	if (rc == 0 && u->nblocks)
		rc = bb_table_open(&u->hfills, bus, "up.fills.h");
	if (rc == 0 && u->nblocks && !history_fits(u, u->hfills))
		rc = BB_EGEOMETRY;
	if (rc == 0)
		rc = open_intervals(u, bus);
	if (rc != 0) {
		bb_upkeep_close(u);
		return rc;
	}
	*out = u;
	return 0;
}

void bb_upkeep_close(bb_upkeep *u)
{
	if (u == NULL)
		return;
	for (uint32_t k = 0; k < BB_UPKEEP_MAX_INTERVALS; k++) {
		bb_table_close(u->iv[k]); /* NULL past what was opened */
		bb_table_close(u->hiv[k]);
	}
	bb_table_close(u->hfills);
	bb_table_close(u->fills);
	bb_table_close(u->quality);
	bb_table_close(u->status);
	free(u);
}

int bb_upkeep_status(const bb_upkeep *u, bb_upkeep_info *out)
{
	return bb_table_record(u->status, BB__UP_ROW_INFO, out);
}

int bb_upkeep_writer_state(const bb_upkeep *u, pid_t *pid)
{
	return bb_table_writer_state(u->status, pid);
}

size_t bb_upkeep_intervals(const bb_upkeep *u, uint32_t *out, size_t max)
{
	for (size_t k = 0; k < u->n && k < max; k++)
		out[k] = u->min[k];
	return u->n;
}

int bb_upkeep_quality(const bb_upkeep *u, uint32_t sym, bb_quality *out)
{
	return bb_table_record(u->quality, sym, out);
}

/* Fills are appended as made: a retried one may follow later minutes;
 * a late real bar follows later minutes in the session table. */
static void sort_by_time(bb_bar *b, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		bb_bar x = b[i];
		size_t j = i;
		for (; j > 0 && b[j - 1].time > x.time; j--)
			b[j] = b[j - 1];
		b[j] = x;
	}
}

/*
 * The last n of real bars r[0..nr) and fills fl[0..nf) (this session's
 * only), both in any order (a late real bar follows later minutes), merged
 * in time order into out; returns how many. A minute held by both (a late
 * real bar that came after its minute was filled) keeps the real bar.
 */
static size_t merge(bb_bar *r, size_t nr, bb_bar *fl, size_t nf,
                    int64_t open, int64_t close, bb_bar *out, size_t n)
{
	size_t keep = 0, k = 0;

	for (size_t i = 0; i < nf; i++)
		if (fl[i].time >= open && fl[i].time < close)
			fl[keep++] = fl[i];
	nf = keep;
	sort_by_time(fl, nf);
	sort_by_time(r, nr);
	size_t i = nr, j = nf; /* backwards, newest first, until n are taken */
	while (k < n && (i > 0 || j > 0)) {
		if (j == 0 || (i > 0 && r[i - 1].time >= fl[j - 1].time)) {
			while (j > 0 && r[i - 1].time == fl[j - 1].time)
				j--;
			out[n - 1 - k++] = r[--i];
		} else {
			out[n - 1 - k++] = fl[--j];
		}
	}
	memmove(out, out + (n - k), k * sizeof(*out));
	return k;
}

/* The last n of the session table merged with the session's fills. Out
 * of line: inlined, its frame would be set up by every bb_bars() call,
 * the latest derived bar's too. */
static __attribute__((noinline))
int bars_1m(const bb_bus *b, const bb_upkeep *u, uint32_t sym, bb_bar *out,
            size_t n, size_t *got)
{
	bb_status st;
	size_t nr = 0, nf = 0;

	if (u == NULL) {
		int rc = bb_last_n(b, sym, out, n, got);
		if (rc == 0) /* a late bar comes in arrival order */
			sort_by_time(out, *got);
		return rc;
	}
	int rc = bb_bus_status(b, &st);
	bb_bar *tmp = rc == 0 ? malloc(2 * n * sizeof(*tmp)) : NULL;
	if (rc == 0 && tmp == NULL)
		rc = ENOMEM;
	if (rc == 0)
		rc = bb_last_n(b, sym, tmp, n, &nr);
	if (rc == 0 && sym < bb_table_symbols(u->fills))
		rc = bb_table_last_n(u->fills, sym, tmp + n, n, &nf);
	if (rc == 0) /* this session's fills only (the upkeep resets late) */
		*got = merge(tmp, nr, tmp + n, nf, st.open, st.close, out, n);
	free(tmp);
	return rc;
}

/* The last n bars of derived table t: the latest alone (a strategy's
 * most common read) by bb_table_latest(), which costs less than the
 * general copy of n rows; the same bar, errors and *got. */
static int bars_derived(const bb_table *t, uint32_t sym, bb_bar *out,
                        size_t n, size_t *got)
{
	if (n > 1)
		return bb_table_last_n(t, sym, out, n, got);
	int rc = bb_table_latest(t, sym, out);
	*got = rc == 0;
	return rc == BB_EEMPTY ? 0 : rc;
}

int bb_bars(const bb_bus *b, const bb_upkeep *u, uint32_t sym,
            uint32_t interval_min, bb_bar *out, size_t n, size_t *got)
{
	if (interval_min == 0 || (interval_min == 1 && b == NULL))
		return BB_EINVAL;
	*got = 0;
	if (n == 0)
		return 0;
	if (interval_min == 1)
		return bars_1m(b, u, sym, out, n, got);
	for (uint32_t k = 0; u != NULL && k < u->n; k++)
		if (u->min[k] == interval_min)
			return bars_derived(u->iv[k], sym, out, n, got);
	return BB_ENOINTERVAL;
}

/* ---- history ------------------------------------------------------------ */

static int block_rec(const bb_upkeep *u, uint32_t k, struct bb__block *out)
{
	return bb_table_record(u->status, bb__up_block_row(k), out);
}

/* The finished block of session `date`, or -1. */
static int block_of_date(const bb_upkeep *u, int32_t date,
                         struct bb__block *blk)
{
	for (uint32_t k = 0; k < u->nblocks; k++)
		if (block_rec(u, k, blk) == 0 && blk->date == date && date != 0)
			return (int)k;
	return -1;
}

/* The block `back` finished sessions before session `date` (0: its own,
 * once finished), or -1. */
static int block_back(const bb_upkeep *u, int32_t date, uint32_t back,
                      struct bb__block *blk)
{
	int32_t dates[BB_CTL_MAX_BLOCKS];
	uint32_t n = 0;

	if (back == 0)
		return block_of_date(u, date, blk);
	for (uint32_t k = 0; k < u->nblocks; k++)
		if (block_rec(u, k, blk) == 0 && blk->date != 0 && blk->date < date)
			dates[n++] = blk->date;
	if (back > n)
		return -1;
	for (uint32_t i = 1; i < n; i++) /* newest first */
		for (uint32_t j = i; j > 0 && dates[j - 1] < dates[j]; j--) {
			int32_t x = dates[j];
			dates[j] = dates[j - 1], dates[j - 1] = x;
		}
	return block_of_date(u, dates[back - 1], blk);
}

/* Rows of sym in block k of table t, then a check that block k still
 * holds the same session (the upkeep may have reused it meanwhile). */
static int block_read(const bb_upkeep *u, const bb_table *t, int k,
                      const struct bb__block *blk, uint32_t sym, bb_bar *out,
                      size_t max, size_t *got)
{
	struct bb__block again;
	uint32_t ts = bb__up_hist_symbol((uint32_t)k, u->nsym, sym);
	uint32_t c = bb_table_count(t, ts);
	int rc = bb_table_last_n(t, ts, out, c < max ? c : max, got);

	if (rc == 0 && (block_rec(u, (uint32_t)k, &again) != 0 ||
	                again.date != blk->date))
		rc = BB_ERETRY;
	return rc;
}

/* 1-minute history: the bus's, with the fills of the same session. */
static int history_1m(const bb_bus *b, const bb_upkeep *u, uint32_t back,
                      uint32_t sym, bb_bar *out, size_t max, size_t *got,
                      int32_t *date)
{
	struct bb__block blk;
	size_t nf = 0;
	int rc = bb_history(b, back, sym, out, max, got, date);
	int k = rc == 0 && u != NULL ? block_of_date(u, *date, &blk) : -1;

	if (rc == 0) /* a late bar comes in arrival order */
		sort_by_time(out, *got);

	if (k < 0 || sym >= u->nsym)
		return rc;
	bb_bar *tmp = malloc(2 * max * sizeof(*tmp));
	if (tmp == NULL)
		return ENOMEM;
	memcpy(tmp, out, *got * sizeof(*tmp));
	rc = block_read(u, u->hfills, k, &blk, sym, tmp + max, max, &nf);
	if (rc == 0)
		*got = merge(tmp, *got, tmp + max, nf, blk.open, blk.close, out,
		             max);
	free(tmp);
	return rc;
}

int bb_bars_history(const bb_bus *b, const bb_upkeep *u, uint32_t back,
                    uint32_t sym, uint32_t interval_min, bb_bar *out,
                    size_t max, size_t *got, int32_t *date)
{
	struct bb__block blk;
	bb_upkeep_info st;

	*got = 0;
	if (interval_min == 0 || (interval_min == 1 && b == NULL))
		return BB_EINVAL;
	if (interval_min == 1)
		return history_1m(b, u, back, sym, out, max, got, date);
	uint32_t ki = 0;
	while (u != NULL && ki < u->n && u->min[ki] != interval_min)
		ki++;
	if (u == NULL || ki == u->n)
		return BB_ENOINTERVAL;
	if (sym >= u->nsym)
		return BB_EINVAL;
	int rc = bb_upkeep_status(u, &st);
	for (int tries = 0; rc == 0 && tries < 100; tries++) {
		int k = block_back(u, st.date, back, &blk);
		if (k < 0)
			return BB_ENOTFOUND;
		rc = block_read(u, u->hiv[ki], k, &blk, sym, out, max, got);
		if (rc == 0)
			*date = blk.date;
		if (rc != BB_ERETRY)
			return rc;
		rc = 0;
	}
	return rc == 0 ? BB_ERETRY : rc;
}

uint32_t bb_upkeep_history_days(const bb_upkeep *u)
{
	return u->nblocks ? u->nblocks - 1 : 0;
}
