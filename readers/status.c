/*
 * barbus-status: what a bus is doing, at a glance, for operators, scripts,
 * service managers and monitoring (docs/operations.md).
 *
 * usage: barbus-status --bus NAME [--watch SEC [--count N]] [--json|--prom]
 *                      [--symbols worst:N|all] [--check] [--http ADDR]
 *
 * Without a format: one "key value" line per figure, keys stable (a script
 * greps them): the coordinator (liveness, how it stopped, pid, epoch,
 * heartbeat age, restarts, mode), the session (date, state, open, close,
 * clock, stalled since, number, history held), the ring (head, capacity,
 * epoch, records/s), every counter of the control segment, the prefetch and
 * transition figures, the upkeep (liveness, how it stopped, state, session
 * followed and last done, totals, intervals, history kept) and the worst
 * symbols' bar quality. --json: one JSON object; --prom: Prometheus text.
 * --watch SEC: again every SEC seconds (redrawn in place on a terminal, a
 * line per interval otherwise; one JSON object or exposition per interval).
 * --check: one line and the exit status 0 healthy, 1 no such bus, 3
 * degraded. --http ADDR: serves /metrics, /healthz, /status.json and a
 * status page at / (status_http.h). Exit 1 when there is no bus.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "barbus.h"
#include "clock.h"
#include "status_snap.h"
#include "status_fmt.h"
#include "upkeep_status.h"

enum format { F_TEXT, F_JSON, F_PROM };

#define HTTP_ADDR_MAX 255

struct opts {
	char        bus[BB_NAME_MAX + 1];
	double      watch_s;  /* 0: once */
	uint32_t    count;    /* intervals with --watch; 0: until killed */
	int         json, prom;
	int         format;   /* enum format, from json and prom */
	int         check;
	long        worst;    /* symbols shown, worst first; -1: all */
	char        http[HTTP_ADDR_MAX + 1]; /* ADDR, or empty */
};

/* --symbols worst:N|all into a long (-1: all). */
static int parse_symbols(void *dst, const char *v, char *reason, size_t len)
{
	uint64_t n;
	char why[BB__REASON_MAX];

	if (strcmp(v, "all") == 0) {
		*(long *)dst = -1;
		return 0;
	}
	if (strncmp(v, "worst:", 6) != 0 ||
	    bb__settings_parse_uint(v + 6, 0, 1000000, &n, why, sizeof(why)) != 0) {
		snprintf(reason, len, "'%s': worst:N (N up to 1000000) or all "
		         "expected", v);
		return BB_EINVAL;
	}
	*(long *)dst = (long)n;
	return 0;
}

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "bus name (required)" },
	{ .key = "watch", .type = BB__SETTING_DOUBLE, F(watch_s),
	  .lim.d = { 0.05, 86400 }, .meta = "SEC",
	  .doc = "again every SEC seconds (0.05 to 86400)" },
	{ .key = "count", .type = BB__SETTING_UINT, F(count),
	  .lim.u = { 1, 1000000000 }, .meta = "N",
	  .doc = "with --watch: stop after N intervals (default: never)" },
	{ .key = "json", .type = BB__SETTING_BOOL, F(json),
	  .doc = "one JSON object (per interval)" },
	{ .key = "prom", .type = BB__SETTING_BOOL, F(prom),
	  .doc = "Prometheus text exposition (per interval)" },
	{ .key = "symbols", .type = BB__SETTING_CUSTOM, F(worst),
	  .parse = parse_symbols, .meta = "worst:N|all", .def = "worst:10",
	  .doc = "symbols' bar quality shown, worst first" },
	{ .key = "check", .type = BB__SETTING_BOOL, F(check),
	  .doc = "one line; exit 0 healthy, 1 no such bus, 3 degraded" },
	{ .key = "http", .type = BB__SETTING_STRING, F(http),
	  .meta = "ADDR", .doc = "serve /metrics, /healthz, /status.json and a "
	  "page (e.g. 127.0.0.1:9108)" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " --bus NAME [--watch SEC [--count N]] [--json|--prom]\n"
	"                     [--symbols worst:N|all]\n"
	"       " PROG " --bus NAME --check\n"
	"       " PROG " --bus NAME --http ADDR\n"
	"Shows what a bus is doing: coordinator, session, ring, upkeep, quality.\n",
	.about =
	"Without a format: one 'key value' line per figure. --check prints one\n"
	"line and exits 0 when healthy, 1 when there is no such bus, 3 when\n"
	"degraded; --http serves /healthz (200 or 503) the same. Exit status\n"
	"otherwise: 0, 1 on a runtime error (no bus), 2 on a usage error.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

/* Previous ring sample, for records/s over the last interval. */
struct rate_state {
	int      have;
	uint64_t head, epoch;
	int64_t  ns;
};

static void rate_update(struct snap *s, struct rate_state *rs)
{
	int64_t now = bb__mono_ns();

	s->rate = -1;
	if (!s->have_ring) {
		rs->have = 0;
		return;
	}
	/* A new ring (head went back) gives no rate for this interval. */
	if (rs->have && s->ring.head >= rs->head && now > rs->ns)
		s->rate = (double)(s->ring.head - rs->head) * 1e9 /
		          (double)(now - rs->ns);
	*rs = (struct rate_state){ 1, s->ring.head, s->ring.epoch, now };
}

static int by_quality(const void *a, const void *b)
{
	const struct symq *x = a, *y = b;

	if (x->q.quality != y->q.quality)
		return x->q.quality < y->q.quality ? -1 : 1;
	if (x->q.quality_with_fills != y->q.quality_with_fills)
		return x->q.quality_with_fills < y->q.quality_with_fills ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every symbol's quality, the worst `worst` kept (all when -1). */
static void collect_quality(struct snap *s, const bb_bus *b,
                            const bb_upkeep *u, long worst)
{
	struct symq *all = s->nsym ? calloc(s->nsym, sizeof(*all)) : NULL;
	size_t n = 0;

	for (uint32_t id = 0; all != NULL && id < s->nsym; id++)
		if (bb_upkeep_quality(u, id, &all[n].q) == 0 &&
		    bb_symbol_name(b, id, all[n].name, sizeof(all[n].name)) == 0)
			n++;
	qsort(all, n, sizeof(*all), by_quality);
	s->nquality = (uint32_t)n;
	s->worst = all;
	s->nworst = worst < 0 || (size_t)worst > n ? n : (size_t)worst;
}

static void collect_upkeep(struct snap *s, const bb_bus *b, long worst)
{
	bb_upkeep *u;

	s->have_upkeep = bb_seg_inspect(s->bus, BB__UP_STATUS_ROLE, &s->up) == 0;
	if (!s->have_upkeep || bb_upkeep_open(&u, s->bus) != 0)
		return;
	s->have_info = bb_upkeep_status(u, &s->ui) == 0;
	s->niv = bb_upkeep_intervals(u, s->iv, BB_UPKEEP_MAX_INTERVALS);
	if (s->niv > BB_UPKEEP_MAX_INTERVALS)
		s->niv = BB_UPKEEP_MAX_INTERVALS;
	s->hdays = bb_upkeep_history_days(u);
	collect_quality(s, b, u, worst);
	bb_upkeep_close(u);
}

/*
 * Read the bus into s. 0, or the error that makes it unreadable: ENOENT
 * (no such bus), BB_ENOTREADY, or the ring's (a half-made bus); *what
 * names the segment then.
 */
static int collect(struct snap *s, const struct opts *o, const char **what)
{
	bb_bus *b;

	*s = (struct snap){ .bus = o->bus, .wall = (int64_t)time(NULL),
	                    .rate = -1 };
	*what = "control";
	int rc = bb_seg_inspect(o->bus, "control", &s->coord);
	if (rc == 0 && (rc = s->coord.err) == 0)
		rc = bb_bus_open(&b, o->bus);
	if (rc != 0)
		return rc;
	*what = "ring";
	/* A coordinator makes the ring last: without it the bus is half
	 * made (its creation failed, e.g. on a full /dev/shm). */
	if ((rc = bb_ring_info_get(o->bus, &s->ring)) != 0) {
		bb_bus_close(b);
		return rc;
	}
	s->have_ring = 1;
	s->have_status = bb_bus_status(b, &s->st) == 0;
	for (int c = 0; c < BB_CTR_COUNT; c++)
		s->ctr[c] = bb_bus_counter(b, c);
	s->nsym = bb_symbol_count(b);
	collect_upkeep(s, b, o->worst);
	bb_bus_close(b);
	judge(s);
	return 0;
}

/* The message for a bus collect() could not read. */
static void unreadable(struct sbuf *out, const char *bus, int rc,
                       const char *what)
{
	if (rc == ENOENT && strcmp(what, "control") == 0)
		sb_printf(out, PROG ": bus %s: no such bus (no coordinator has "
		          "made it)\n", bus);
	else if (strcmp(what, "ring") == 0)
		sb_printf(out, PROG ": bus %s: incomplete: ring: %s\n", bus,
		          rc == ENOENT ? "missing" : bb_strerror(rc));
	else
		sb_printf(out, PROG ": bus %s: %s: %s\n", bus, what,
		          bb_strerror(rc));
}

static void render(struct sbuf *out, const struct snap *s,
                   const struct opts *o, int watching)
{
	if (o->format == F_JSON)
		fmt_json(out, s, "\n");
	else if (o->format == F_PROM)
		fmt_prom(out, s);
	else if (watching && !isatty(STDOUT_FILENO))
		fmt_line(out, s);
	else
		fmt_text(out, s);
}

static void sleep_s(double sec)
{
	struct timespec ts = { .tv_sec = (time_t)sec,
	                       .tv_nsec = (long)((sec - (double)(time_t)sec) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Once, or every o->watch_s seconds; the exit status. */
static int run(const struct opts *o)
{
	struct sbuf out = { 0 };
	struct rate_state rs = { 0 };
	struct snap s;
	const char *what;
	int status = 0;

	for (uint32_t i = 0; o->count == 0 || i < o->count; i++) {
		if (i > 0)
			sleep_s(o->watch_s);
		sb_reset(&out);
		int rc = collect(&s, o, &what);
		if (rc == 0)
			rate_update(&s, &rs);
		if (o->check) {
			fmt_check(&out, &s, rc, what);
			status = rc == 0 ? s.verdict : 1;
		} else if (rc != 0) {
			unreadable(&out, o->bus, rc, what);
			status = 1;
		} else {
			if (o->watch_s > 0 && o->format == F_TEXT && isatty(1))
				sb_printf(&out, "\033[H\033[J");
			render(&out, &s, o, o->watch_s > 0);
			status = 0;
		}
		snap_free(&s);
		FILE *f = rc != 0 && !o->check ? stderr : stdout;
		fwrite(out.p, 1, out.n, f);
		fflush(f);
		if (o->watch_s <= 0)
			break;
	}
	sb_free(&out);
	return status;
}

/* The server uses collect(), rate_update() and unreadable() above. */
#include "status_http.h"

/* Cross-flag rules the table cannot say: 0, or the usage error's 2. */
static int check_combination(const struct opts *o)
{
	if (o->json && o->prom)
		return bb__args_usage_error(PROG, "--prom: --json and --prom "
		                            "exclude each other");
	if (o->check && (o->watch_s > 0 || o->json || o->prom || o->http[0]))
		return bb__args_usage_error(PROG, "--check: stands alone (no "
		                            "--watch, --json, --prom or --http)");
	if (o->count > 0 && o->watch_s <= 0)
		return bb__args_usage_error(PROG, "--count: needs --watch");
	if (o->http[0] && (o->watch_s > 0 || o->json || o->prom))
		return bb__args_usage_error(PROG, "--http: stands alone (no "
		                            "--watch, --json or --prom)");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int st = bb__args_parse(&args, &o, argc, argv, NULL);

	if (st != BB__ARGS_GO)
		return st;
	st = check_combination(&o);
	o.format = o.json ? F_JSON : o.prom ? F_PROM : F_TEXT;
	if (st == 0)
		st = o.http[0] ? http_serve(o.http, &o) : run(&o);
	bb__settings_free(args.table, args.n, &o);
	return st;
}
