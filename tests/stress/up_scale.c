/*
 * up_scale: the whole market, small. barbus-gen makes 10,000 symbols over
 * two 30-minute sessions (deriving 5m,15m,30m), and 50,000 symbols over
 * two 10-minute sessions (2m,5m,10m), from a calendar file of short
 * sessions, with missing minutes; the upkeep starts first and the coordinator replays with a
 * max-symbols large enough. Then, for every symbol: every derived bar of
 * the last session and of the one before (history) equals a recomputation
 * from the store, and its quality counts the minutes the store has.
 * Prints "N passed, N failed".
 */
#include <libgen.h>
#include <limits.h>
#include <math.h>

#include "stress.h"

#define NIV 3

/* The intervals derived: a session must be at least as long as each. */
static uint32_t iv[NIV];
static char ivs[32], dir[64], bin[PATH_MAX];

/* Bars of interval k minutes of sym in session s, from the store. */
static size_t recompute(bb_store *st, uint32_t sym, const bb_session *s,
                        uint32_t k, bb_bar *out)
{
	bb_bar m[64];
	size_t n = 0, nb = 0;

	if (bb_store_range(st, sym, s->open, s->close, m, 64, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int64_t start = s->open + (m[i].time - s->open) / (k * 60) * (k * 60);
		if (nb == 0 || out[nb - 1].time != start) {
			out[nb] = m[i];
			out[nb].time = start;
			nb++;
			continue;
		}
		bb_bar *d = &out[nb - 1];
		d->high = fmax(d->high, m[i].high);
		d->low = fmin(d->low, m[i].low);
		d->close = m[i].close;
		d->volume += m[i].volume;
	}
	return nb;
}

static int same(const bb_bar *a, const bb_bar *b)
{
	return a->time == b->time && a->open == b->open && a->high == b->high &&
	       a->low == b->low && a->close == b->close && a->volume == b->volume &&
	       a->flags == 0;
}

/* Derived bars of sym, session s (back 0: the current one), against the
 * store: the number of bars that differ (or are missing). */
static int check_sym(bb_bus *b, bb_upkeep *u, bb_store *st, uint32_t sym,
                     const bb_session *s, uint32_t back)
{
	bb_bar got[64], exp[64];
	size_t n, m;
	int32_t date;
	int bad = 0;

	for (size_t i = 0; i < NIV; i++) {
		int rc = back == 0
		         ? bb_bars(b, u, sym, iv[i], got, 64, &n)
		         : bb_bars_history(b, u, back, sym, iv[i], got, 64, &n,
		                           &date);
		if (rc != 0 || (back > 0 && date != s->date)) {
			bad++;
			continue;
		}
		m = recompute(st, sym, s, iv[i], exp);
		bad += n != m;
		for (size_t j = 0; j < n && j < m; j++)
			bad += !same(&got[j], &exp[j]);
	}
	return bad;
}

/* nsym symbols over two sessions of `minutes` each: gen, replay, check. */
static void scale(const char *tag, uint32_t nsym, uint32_t minutes,
                  const char *max_syms, uint32_t i0, uint32_t i1, uint32_t i2)
{
	char cal[96], db[96];
	const char *bus = stress_bus(tag);
	bb_session s[2];

	iv[0] = i0, iv[1] = i1, iv[2] = i2;
	snprintf(ivs, sizeof(ivs), "%um,%um,%um", i0, i1, i2);
	snprintf(cal, sizeof(cal), "%s/%s.cal", dir, tag);
	snprintf(db, sizeof(db), "%s/%s", dir, tag);
	FILE *f = fopen(cal, "w");
	if (f == NULL)
		stress_fatal("%s", cal);
	unsigned close = 13 * 60 + 30 + minutes; /* minutes of the UTC day */
	fprintf(f, "2024-07-01 13:30Z %02u:%02uZ\n2024-07-02 13:30Z %02u:%02uZ\n",
	        close / 60, close % 60, close / 60, close % 60);
	fclose(f);
	CHECK(stress_sh("%s/barbus-gen -q --db %s --calendar %s --symbols %u "
	                "--from 2024-07-01 --to 2024-07-02 --seed 3 "
	                "--missing-rate 0.02 2>/dev/null", bin, db, cal, nsym) == 0,
	      "%s: barbus-gen made %u symbols", tag, nsym);
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s --intervals "
	                "%s 2>%s/%s-up.err & up=$!; sleep 0.2; "
	                "%s/barbus-coordinator --bus %s --db %s --calendar %s "
	                "--max-symbols %s --history-days 1 backtest --from "
	                "2024-07-01 --to 2024-07-02 2>%s/%s-co.err && wait $up",
	                bin, bus, db, ivs, dir, tag, bin, bus, db, cal, max_syms,
	                dir, tag) == 0,
	      "%s: coordinator and upkeep both exit 0", tag);

	bb_bus *b = NULL;
	bb_upkeep *u = NULL;
	bb_store *st = NULL;
	bb_calendar *c = NULL;
	if (bb_bus_open(&b, bus) || bb_upkeep_open(&u, bus) ||
	    bb_store_open(&st, db, BB_STORE_RDONLY) ||
	    bb_calendar_load(&c, cal, NULL, 0) ||
	    bb_calendar_next(c, 20240701, &s[0]) ||
	    bb_calendar_next(c, 20240702, &s[1])) {
		CHECK(0, "%s: open bus, upkeep, store, calendar", tag);
		goto out;
	}
	CHECK(bb_symbol_count(b) == nsym, "%s: the bus names %u symbols",
	      tag, nsym);
	int bad = 0, hbad = 0, qbad = 0;
	uint64_t bars = 0;
	for (uint32_t sym = 0; sym < nsym; sym++) {
		bb_bar one[64];
		bb_quality q;
		size_t real = 0, prev = 0;
		bad += check_sym(b, u, st, sym, &s[1], 0);
		hbad += check_sym(b, u, st, sym, &s[0], 1);
		bb_store_range(st, sym, s[0].open, s[0].close, one, 64, &prev);
		bb_store_range(st, sym, s[1].open, s[1].close, one, 64, &real);
		bars += prev + real;
		qbad += !(bb_upkeep_quality(u, sym, &q) == 0 &&
		          q.expected == minutes && q.real == real &&
		          q.filled + q.unfillable == minutes - real);
	}
	CHECK(bad == 0, "%s: every derived bar of the last session equals the "
	      "store's recomputation (%d differ)", tag, bad);
	CHECK(hbad == 0, "%s: every derived bar of the session before, in the "
	      "history, equals the store's recomputation (%d differ)", tag, hbad);
	CHECK(qbad == 0, "%s: quality counts the minutes of every symbol (%d "
	      "differ)", tag, qbad);
	CHECK(bb_bus_counter(b, BB_CTR_BARS) == bars, "%s: %llu bars replayed, "
	      "%llu stored", tag, (unsigned long long)bb_bus_counter(b, BB_CTR_BARS),
	      (unsigned long long)bars);
out:
	bb_calendar_free(c);
	if (st != NULL)
		bb_store_close(st);
	bb_upkeep_close(u);
	bb_bus_close(b);
	stress_unlink_bus_all(bus);
	stress_sh("rm -rf %s", db);
}

int main(int argc, char **argv)
{
	(void)argc;

	stress_init("up-scale", 240);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-upscale-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	scale("10k", 10000, 30, "16384", 5, 15, 30);
	scale("50k", 50000, 10, "65536", 2, 5, 10);
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
