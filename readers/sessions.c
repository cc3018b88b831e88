/*
 * barbus-sessions: follow a bus's ring and print one line per session:
 * bars, symbols, first and last bar time, and the transition into it.
 * Exits 0 after the end of data of a backtest, 1 when the writer dies.
 *
 * usage: barbus-sessions --bus NAME [--wait SEC]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "barbus.h"

struct sum {
	bb_session s;
	uint64_t   bars, number;
	int64_t    first, last;
	uint8_t   *seen;   /* per symbol id */
	uint32_t   nseen, cap;
	double     transition_ms;
};

#define SYMBOLS_MAX (1u << 20) /* the control segment's limit */

struct opts {
	char     bus[BB_NAME_MAX + 1];
	uint32_t wait_s;
};

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "bus name (required)" },
	{ .key = "wait", .type = BB__SETTING_UINT, F(wait_s),
	  .lim.u = { 0, 3600 }, .meta = "SEC", .def = "10",
	  .doc = "how long to wait for the bus to appear" },
};

static const struct bb__args args = {
	.prog = "barbus-sessions",
	.synopsis = "usage: barbus-sessions --bus NAME [--wait SEC]\n"
	            "Follows bus NAME and prints one line per session.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

/* Open ring and bus, waiting up to wait_s for a coordinator to make them. */
static int attach(const char *name, uint32_t wait_s, bb_ring_reader **r, bb_bus **b)
{
	int rc = ENOENT;

	for (uint32_t i = 0; i <= wait_s * 20; i++) {
		rc = bb_ring_reader_open(r, name, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST);
		if (rc == 0 && (rc = bb_bus_open(b, name)) == 0)
			return 0;
		if (rc == 0)
			bb_ring_reader_close(*r);
		usleep(50000);
	}
	return rc;
}

static void hm(int64_t t, char *buf)
{
	char iso[24];

	bb_time_format(t, iso);
	memcpy(buf, iso + 11, 5);
	strcpy(buf + 5, "Z");
}

static void print(const struct sum *m, int reason)
{
	static const char *why[] = { "close", "timeout", "end of data" };
	char d[12], f[8] = "-", l[8] = "-";

	bb_date_format(m->s.date, d);
	if (m->bars > 0) {
		hm(m->first, f);
		hm(m->last, l);
	}
	printf("%s  bars %8llu  symbols %5u  first %s  last %s  transition "
	       "%7.3f ms  (%s)\n", d, (unsigned long long)m->bars, m->nseen, f,
	       l, m->transition_ms, reason >= 0 && reason <= 2 ? why[reason] : "?");
	fflush(stdout);
}

static void on_bar(struct sum *m, const bb_bar *b)
{
	if (m->bars++ == 0)
		m->first = b->time;
	m->last = b->time;
	if (b->symbol >= SYMBOLS_MAX)
		return; /* no bus has that many: counted, not as a symbol */
	if (b->symbol >= m->cap) {
		uint32_t cap = b->symbol + 1024;
		uint8_t *q = realloc(m->seen, cap);
		if (q == NULL)
			return;
		memset(q + m->cap, 0, cap - m->cap);
		m->seen = q;
		m->cap = cap;
	}
	if (!m->seen[b->symbol]) {
		m->seen[b->symbol] = 1;
		m->nseen++;
	}
}

static void on_start(struct sum *m, const bb_bus *bus, const bb_bar *ev)
{
	bb_status st;

	bb_event_session_get(ev, &m->s, NULL);
	m->bars = m->nseen = 0;
	if (m->seen)
		memset(m->seen, 0, m->cap);
	m->transition_ms = 0;
	if (bb_bus_status(bus, &st) == 0 && st.date == m->s.date)
		m->transition_ms = bb_bus_transition_ns(bus, st.sessions) / 1e6;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *name = o.bus;
	int reason, rc = bb__args_parse(&args, &o, argc, argv, NULL);
	struct sum m = { 0 };
	bb_ring_reader *r;
	bb_bus *bus;
	bb_bar ev;
	uint64_t lost;

	if (rc != BB__ARGS_GO)
		return rc;
	if ((rc = attach(name, o.wait_s, &r, &bus)) != 0) {
		fprintf(stderr, "barbus-sessions: bus %s: %s\n", name, bb_strerror(rc));
		return 1;
	}
	for (;;) {
		rc = bb_ring_wait(r, &ev, &lost, -1);
		if (rc == BB_ELAPPED) {
			fprintf(stderr, "barbus-sessions: lapped, %llu records lost\n",
			        (unsigned long long)lost);
			continue;
		}
		if (rc != 0)
			break;
		switch (BB_KIND(ev.flags)) {
		case BB_KIND_BAR: on_bar(&m, &ev); break;
		case BB_KIND_SESSION_START: on_start(&m, bus, &ev); break;
		case BB_KIND_SESSION_END:
			bb_event_session_get(&ev, &m.s, &reason);
			print(&m, reason);
			if (reason == BB_END_DATA)
				goto done;
			break;
		}
	}
	fprintf(stderr, "barbus-sessions: bus %s: %s\n", name, bb_strerror(rc));
done:
	free(m.seen);
	bb_bus_close(bus);
	bb_ring_reader_close(r);
	return rc == 0 ? 0 : 1;
}
