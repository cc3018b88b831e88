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

#include "barbus.h"
#include "status_snap.h"
#include "status_fmt.h"

enum format { F_TEXT, F_JSON, F_PROM };

struct opts {
	const char *bus;
	double      watch_s;  /* 0: once */
	long        count;    /* intervals with --watch; 0: until killed */
	int         format;   /* enum format */
	int         check;
	long        worst;    /* symbols shown, worst first; -1: all */
	const char *http;     /* ADDR or NULL */
};

/* Previous ring sample, for records/s over the last interval. */
struct rate_state {
	int      have;
	uint64_t head, epoch;
	int64_t  ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void rate_update(struct snap *s, struct rate_state *rs)
{
	int64_t now = mono_ns();

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

	s->have_upkeep = bb_seg_inspect(s->bus, "up.status", &s->up) == 0;
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

	for (long i = 0; o->count == 0 || i < o->count; i++) {
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

static int usage(const char *flag, const char *why)
{
	FILE *f = why ? stderr : stdout;

	if (why != NULL)
		fprintf(f, PROG ": %s: %s\n", flag, why);
	fprintf(f, "usage: " PROG " --bus NAME [--watch SEC [--count N]] "
	        "[--json|--prom] [--symbols worst:N|all]\n"
	        "       " PROG " --bus NAME --check\n"
	        "       " PROG " --bus NAME --http ADDR  (e.g. 127.0.0.1:9108)\n");
	return why ? 2 : 0;
}

static int number(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && *v >= lo && *v <= hi;
}

/* Every argument into *o: 0, or the exit status of a usage error (2) or
 * of --help (0, *done set). */
static int parse(int argc, char **argv, struct opts *o, int *done)
{
	double v;

	*o = (struct opts){ .worst = 10 };
	*done = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--help") == 0) {
			*done = 1;
			return usage(NULL, NULL);
		} else if (strcmp(a, "--json") == 0 || strcmp(a, "--prom") == 0) {
			if (o->format != F_TEXT)
				return usage(a, "--json and --prom exclude each other");
			o->format = a[2] == 'j' ? F_JSON : F_PROM;
			takes = 0;
		} else if (strcmp(a, "--check") == 0) {
			o->check = 1;
			takes = 0;
		} else if (val == NULL) {
			return usage(a, strncmp(a, "--", 2) ? "unexpected argument"
			             : "unknown option or missing value");
		} else if (strcmp(a, "--bus") == 0) {
			if (bb_bus_name_check(val) != 0)
				return usage(a, bb_strerror(BB_ENAME));
			o->bus = val;
		} else if (strcmp(a, "--watch") == 0) {
			if (!number(val, 0.05, 86400, &o->watch_s))
				return usage(a, "seconds between 0.05 and 86400 expected");
		} else if (strcmp(a, "--count") == 0) {
			if (!number(val, 1, 1e9, &v) || v != (long)v)
				return usage(a, "a whole number of intervals expected");
			o->count = (long)v;
		} else if (strcmp(a, "--symbols") == 0) {
			if (strcmp(val, "all") == 0)
				o->worst = -1;
			else if (strncmp(val, "worst:", 6) != 0 ||
			         !number(val + 6, 0, 1e6, &v) || v != (long)v)
				return usage(a, "worst:N or all expected");
			else
				o->worst = (long)v;
		} else if (strcmp(a, "--http") == 0) {
			o->http = val;
		} else {
			return usage(a, "unknown option");
		}
		i += takes;
	}
	if (o->bus == NULL)
		return usage("--bus", "--bus NAME is required");
	if (o->check && (o->watch_s > 0 || o->format != F_TEXT || o->http))
		return usage("--check", "stands alone (no --watch, --json, "
		             "--prom or --http)");
	if (o->count > 0 && o->watch_s <= 0)
		return usage("--count", "needs --watch");
	if (o->http && (o->watch_s > 0 || o->format != F_TEXT))
		return usage("--http", "stands alone (no --watch, --json or "
		             "--prom)");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int done;
	int rc = parse(argc, argv, &o, &done);

	if (rc != 0 || done)
		return rc;
	if (o.http != NULL)
		return http_serve(o.http, &o);
	return run(&o);
}
