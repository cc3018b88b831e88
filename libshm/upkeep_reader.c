/*
 * upkeep_reader.c: the reader's view of barbus-upkeep's segments (tables
 * up.status, up.quality, up.fills, up.<N>m; docs/upkeep.md), read-only,
 * and bb_bars(), which puts the session table and the upkeep together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barbus.h"

_Static_assert(sizeof(bb_quality) == sizeof(bb_bar), "quality is a record");
_Static_assert(sizeof(bb_upkeep_info) == sizeof(bb_bar), "status is a record");

struct bb_upkeep {
	bb_table *status, *quality, *fills;
	bb_table *iv[BB_UPKEEP_MAX_INTERVALS];
	uint32_t  min[BB_UPKEEP_MAX_INTERVALS];
	uint32_t  n;
};

/* The interval list: symbol 1 of up.status, minutes, 0-terminated. */
static int open_intervals(bb_upkeep *u, const char *bus)
{
	uint32_t list[BB_UPKEEP_MAX_INTERVALS];
	char role[16];
	bb_bar b;
	int rc = bb_table_latest(u->status, 1, &b);

	if (rc != 0)
		return rc == BB_EEMPTY ? BB_ENOTREADY : rc;
	memcpy(list, &b, sizeof(list));
	for (uint32_t k = 0; k < BB_UPKEEP_MAX_INTERVALS && list[k] != 0; k++) {
		snprintf(role, sizeof(role), "up.%um", list[k]);
		if ((rc = bb_table_open(&u->iv[u->n], bus, role)) != 0)
			return rc;
		u->min[u->n++] = list[k];
	}
	return 0;
}

int bb_upkeep_open(bb_upkeep **out, const char *bus)
{
	bb_upkeep *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return ENOMEM;
	int rc = bb_table_open(&u->status, bus, "up.status");
	if (rc == 0 && bb_table_symbols(u->status) < 2)
		rc = BB_EGEOMETRY;
	if (rc == 0)
		rc = bb_table_open(&u->quality, bus, "up.quality");
	if (rc == 0)
		rc = bb_table_open(&u->fills, bus, "up.fills");
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
	for (uint32_t k = 0; k < u->n; k++)
		bb_table_close(u->iv[k]);
	bb_table_close(u->fills);
	bb_table_close(u->quality);
	bb_table_close(u->status);
	free(u);
}

int bb_upkeep_status(const bb_upkeep *u, bb_upkeep_info *out)
{
	bb_bar b;
	int rc = bb_table_latest(u->status, 0, &b);

	if (rc == 0)
		memcpy(out, &b, sizeof(*out));
	return rc;
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
	bb_bar b;
	int rc = bb_table_latest(u->quality, sym, &b);

	if (rc == 0)
		memcpy(out, &b, sizeof(*out));
	return rc;
}

/* Fills are appended as made: a retried one may follow later minutes. */
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

/* The last n of the session table merged with the session's fills. */
static int bars_1m(const bb_bus *b, const bb_upkeep *u, uint32_t sym,
                   bb_bar *out, size_t n, size_t *got)
{
	bb_status st;
	size_t nr = 0, nf = 0, k = 0;

	if (u == NULL)
		return bb_last_n(b, sym, out, n, got);
	int rc = bb_bus_status(b, &st);
	bb_bar *tmp = rc == 0 ? malloc(2 * n * sizeof(*tmp)) : NULL;
	if (rc == 0 && tmp == NULL)
		rc = ENOMEM;
	if (rc == 0)
		rc = bb_last_n(b, sym, tmp, n, &nr);
	bb_bar *fl = tmp + n;
	if (rc == 0 && sym < bb_table_symbols(u->fills))
		rc = bb_table_last_n(u->fills, sym, fl, n, &nf);
	if (rc != 0) {
		free(tmp);
		return rc;
	}
	size_t keep = 0; /* this session's fills only (the upkeep resets late) */
	for (size_t i = 0; i < nf; i++)
		if (fl[i].time >= st.open && fl[i].time < st.close)
			fl[keep++] = fl[i];
	nf = keep;
	sort_by_time(fl, nf);
	/* Merge backwards, newest first, until n are taken; a minute held by
	 * both (cannot happen from one upkeep run) keeps the real bar. */
	size_t i = nr, j = nf;
	while (k < n && (i > 0 || j > 0)) {
		if (j == 0 || (i > 0 && tmp[i - 1].time >= fl[j - 1].time)) {
			if (j > 0 && tmp[i - 1].time == fl[j - 1].time)
				j--;
			out[n - 1 - k++] = tmp[--i];
		} else {
			out[n - 1 - k++] = fl[--j];
		}
	}
	memmove(out, out + (n - k), k * sizeof(*out));
	*got = k;
	free(tmp);
	return 0;
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
			return bb_table_last_n(u->iv[k], sym, out, n, got);
	return BB_ENOINTERVAL;
}
