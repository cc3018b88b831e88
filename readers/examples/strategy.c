/*
 * strategy.c: a complete small strategy on the public API (barbus.h) only.
 *
 *   cc strategy.c $(pkg-config --cflags --libs barbus) -o strategy
 *   ./strategy BUS
 *
 * It takes the current session's bars and then follows the ring
 * (snapshot, then follow: no bar missed, none twice), keeps a fast and a
 * slow moving average of each symbol's closes and prints a line each time
 * they cross. At a backtest's end of data, or when the coordinator has
 * gone, it prints a summary and exits 0; on any error it says which call
 * failed and exits 1. Every return code is checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <barbus.h>

#define FAST 5
#define SLOW 20

struct sym {
	double   closes[SLOW]; /* the last SLOW closes, a ring */
	uint64_t n;            /* closes seen */
	int      side;         /* +1 fast above slow, -1 below, 0 not yet */
};

struct strategy {
	bb_bus     *bus;
	struct sym *syms;
	uint32_t    nsyms;
	uint64_t    bars, crosses, lost;
};

static double mean(const struct sym *s, int k)
{
	double sum = 0;

	for (int i = 1; i <= k; i++)
		sum += s->closes[(s->n - (uint64_t)i) % SLOW];
	return sum / k;
}

static int on_bar(struct strategy *st, const bb_bar *b)
{
	char name[BB_SYMBOL_MAX + 1], when[24];

	if (b->symbol >= st->nsyms) { /* a symbol added since we started */
		uint32_t n = b->symbol + 64;
		struct sym *p = realloc(st->syms, n * sizeof(*p));
		if (p == NULL)
			return -1;
		memset(p + st->nsyms, 0, (n - st->nsyms) * sizeof(*p));
		st->syms = p;
		st->nsyms = n;
	}
	struct sym *s = &st->syms[b->symbol];
	s->closes[s->n++ % SLOW] = b->close;
	st->bars++;
	if (s->n < SLOW)
		return 0;
	int side = mean(s, FAST) > mean(s, SLOW) ? 1 : -1;
	if (s->side != 0 && side != s->side) {
		int rc = bb_symbol_name(st->bus, b->symbol, name, sizeof(name));
		if (rc != 0) {
			fprintf(stderr, "strategy: bb_symbol_name: %s\n",
			        bb_strerror(rc));
			return -1;
		}
		bb_time_format(b->time, when);
		printf("%s %s %s at %.4f\n", when, name, side > 0 ? "BUY" : "SELL",
		       b->close);
		st->crosses++;
	}
	s->side = side;
	return 0;
}

/* Bars of the snapshot (the session so far, or what a lap made us miss). */
static int on_snapshot(struct strategy *st, const bb_follow *f)
{
	size_t n;
	const bb_bar *bars = bb_follow_snapshot(f, &n);

	for (size_t i = 0; i < n; i++)
		if (on_bar(st, &bars[i]) != 0)
			return -1;
	return 0;
}

/* Until the end of data: 0, or -1 after saying what failed. */
static int run(struct strategy *st, bb_follow *f)
{
	bb_bar rec;
	uint64_t lost;
	int reason;
	bb_session s;

	if (on_snapshot(st, f) != 0)
		return -1;
	for (;;) {
		int rc = bb_follow_next(f, &rec, &lost, -1);
		if (rc == BB_ENOWRITER)
			return 0; /* the coordinator has gone */
		if (rc == BB_ELAPPED) {
			st->lost += lost;
			if (on_snapshot(st, f) != 0)
				return -1;
			continue;
		}
		if (rc != 0) {
			fprintf(stderr, "strategy: bb_follow_next: %s\n",
			        bb_strerror(rc));
			return -1;
		}
		switch (BB_KIND(rec.flags)) {
		case BB_KIND_BAR:
			if (on_bar(st, &rec) != 0)
				return -1;
			break;
		case BB_KIND_SESSION_END:
			rc = bb_event_session_get(&rec, &s, &reason);
			if (rc != 0) {
				fprintf(stderr, "strategy: bb_event_session_get: %s\n",
				        bb_strerror(rc));
				return -1;
			}
			if (reason == BB_END_DATA)
				return 0;
			break;
		default:
			break;
		}
	}
}

int main(int argc, char **argv)
{
	struct strategy st = { 0 };
	bb_follow *f = NULL;
	int rc, status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: strategy BUS\n");
		return 2;
	}
	if ((rc = bb_bus_open(&st.bus, argv[1])) != 0) {
		fprintf(stderr, "strategy: bb_bus_open %s: %s\n", argv[1],
		        bb_strerror(rc));
		return 1;
	}
	if ((rc = bb_follow_open(&f, argv[1], BB_WAIT_BLOCK, 0)) != 0) {
		fprintf(stderr, "strategy: bb_follow_open %s: %s\n", argv[1],
		        bb_strerror(rc));
		goto out;
	}
	if (run(&st, f) == 0) {
		printf("bars %llu crosses %llu lost %llu (libbarbus %s)\n",
		       (unsigned long long)st.bars, (unsigned long long)st.crosses,
		       (unsigned long long)st.lost, bb_version());
		status = 0;
	}
out:
	bb_follow_close(f);
	bb_bus_close(st.bus);
	free(st.syms);
	return status;
}
