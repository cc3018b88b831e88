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

static void usage(FILE *f)
{
	fprintf(f, "usage: barbus-sessions --bus NAME [--wait SEC]\n"
	        "Follows bus NAME and prints one line per session.\n"
	        "--wait SEC  how long to wait for the bus to appear (default 10)\n");
}

static int parse(int argc, char **argv, const char **bus, int *wait_s)
{
	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(argv[i], "--bus") == 0 && i + 1 < argc) {
			*bus = argv[++i];
		} else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc) {
			*wait_s = (int)strtol(argv[++i], &end, 10);
			if (*end || *wait_s < 0) {
				fprintf(stderr, "barbus-sessions: --wait: not a "
				        "number of seconds: %s\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "barbus-sessions: unknown argument: %s\n",
			        argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (*bus == NULL || bb_bus_name_check(*bus) != 0) {
		fprintf(stderr, "barbus-sessions: --bus: %s\n",
		        *bus ? bb_strerror(BB_ENAME) : "required");
		return 2;
	}
	return 0;
}

/* Open ring and bus, waiting up to wait_s for a coordinator to make them. */
static int attach(const char *name, int wait_s, bb_ring_reader **r, bb_bus **b)
{
	int rc = ENOENT;

	for (int i = 0; i <= wait_s * 20; i++) {
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
	const char *name = NULL;
	int wait_s = 10, reason, rc = parse(argc, argv, &name, &wait_s);
	struct sum m = { 0 };
	bb_ring_reader *r;
	bb_bus *bus;
	bb_bar ev;
	uint64_t lost;

	if (rc != 0)
		return rc;
	if ((rc = attach(name, wait_s, &r, &bus)) != 0) {
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
