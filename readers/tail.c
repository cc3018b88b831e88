/*
 * barbus-tail: print a bus's bars as they arrive.
 *
 * usage: barbus-tail --bus NAME [--symbols A,B|@FILE] [--interval 1m|Nm|Nh]
 *                    [--from-start|--snapshot] [--events] [--partial]
 *                    [--format csv|json] [--wait SEC]
 *
 * 1-minute bars come from the ring (bb_follow_*): with --snapshot the
 * current session's bars from the session table first, then the ring from
 * exactly the next record; with --from-start the oldest records the ring
 * still holds; otherwise the next record written. Derived bars are not on
 * the ring: their table (the upkeep's up.<N>m) is looked at on every
 * MINUTE_END and every quiet 200 ms, and a derived bar is printed when it
 * turns final, or with --partial also at each update while it forms; a
 * session's last ones once the upkeep has finished the session, before
 * any of the next session's.
 * Lapped, the tail says on stderr how many records it lost, prints the
 * bars it missed from the tables and goes on. Exits 0 at a backtest's end
 * of data or when the coordinator has gone, 1 on errors, 2 on usage.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "barfmt.h"
#include "barbus.h"

#define PROG "barbus-tail"
#define QUIET_NS 200000000LL /* a look at derived tables when this quiet */
#define DERIVED_ROWS 16      /* rows read back per symbol and look */
#define DAY_ROWS 1440        /* the most bars of one interval in a session */

struct opts {
	char     bus[BB_NAME_MAX + 1];
	char   **symbols;
	size_t   nsymbols;
	uint32_t interval; /* minutes */
	int      from_start, snapshot, events, partial, format;
	uint32_t wait_s;
};

struct tail {
	struct opts     o;
	bb_bus         *bus;
	bb_upkeep      *up;
	bb_follow      *f;
	bb_ring_reader *raw;  /* --from-start, until a lap */
	uint32_t        cap;  /* entries of the per-symbol arrays */
	uint8_t        *want; /* 0: not looked up, 1: printed, 2: not */
	int64_t        *last; /* time of the last bar printed (final) */
	bb_bar         *part; /* --partial: the last forming bar printed */
	bb_bar         *buf;
	int64_t         from, until; /* derived bars looked at: [from, until) */
	uint32_t        skipped; /* symbols a look could not read whole */
	uint32_t        gone;    /* a session's bars found neither here nor in
	                          * the upkeep's history */
	bb_session      cur;     /* the session the ring is in (date 0: none) */
	bb_session      pending; /* ended, not yet finished by the upkeep */
};

#define F(f) BB__FIELD(struct opts, f)

static const char *const formats[] = { "csv", "json", NULL };

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "bus name (required)" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(symbols),
	  .count_offset = offsetof(struct opts, nsymbols),
	  .check = bb__args_check_symbol, .meta = "A,B|@FILE",
	  .doc = "only these symbols; @FILE: one per line (default: all)" },
	{ .key = "interval", .type = BB__SETTING_CUSTOM, F(interval),
	  .parse = bb__barfmt_interval, .meta = "1m|Nm|Nh", .def = "1m",
	  .doc = "bar interval: 1m from the ring, others the upkeep's" },
	{ .key = "from-start", .type = BB__SETTING_BOOL, F(from_start),
	  .doc = "start at the oldest record the ring still holds" },
	{ .key = "snapshot", .type = BB__SETTING_BOOL, F(snapshot),
	  .doc = "print the current session's bars first, then follow" },
	{ .key = "events", .type = BB__SETTING_BOOL, F(events),
	  .doc = "print session and MINUTE_END events too" },
	{ .key = "partial", .type = BB__SETTING_BOOL, F(partial),
	  .doc = "derived intervals: print forming bars at each update" },
	{ .key = "format", .type = BB__SETTING_ENUM, F(format), .names = formats,
	  .def = "csv", .doc = "csv (the import columns and flags) or json" },
	{ .key = "wait", .type = BB__SETTING_UINT, F(wait_s), .lim.u = { 0, 3600 },
	  .meta = "SEC", .def = "0",
	  .doc = "wait up to SEC seconds for the bus to appear" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " --bus NAME [--symbols A,B|@FILE] [--interval 1m|Nm|Nh]\n"
	"                   [--from-start|--snapshot] [--events] [--partial]\n"
	"                   [--format csv|json] [--wait SEC]\n"
	"Prints a bus's bars as they arrive, in barbus-bars' CSV columns.\n",
	.about =
	"Events (--events) print as '# KIND ...' lines in CSV. A lapped tail\n"
	"says on stderr how many records it lost, prints the bars it missed\n"
	"from the tables and goes on. Exit status: 0 at a backtest's end of\n"
	"data or when the coordinator has gone, 1 on errors, 2 on usage.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

/* ---- symbols ----------------------------------------------------------- */

static int grow(struct tail *t, uint32_t id)
{
	if (id < t->cap)
		return 0;
	uint32_t cap = id + 1024;
	uint8_t *w = realloc(t->want, cap);
	if (w != NULL)
		t->want = w;
	int64_t *l = realloc(t->last, cap * sizeof(*l));
	if (l != NULL)
		t->last = l;
	bb_bar *p = realloc(t->part, cap * sizeof(*p));
	if (p != NULL)
		t->part = p;
	if (w == NULL || l == NULL || p == NULL)
		return ENOMEM;
	memset(w + t->cap, 0, cap - t->cap);
	for (uint32_t i = t->cap; i < cap; i++)
		l[i] = INT64_MIN;
	memset(p + t->cap, 0, (cap - t->cap) * sizeof(*p));
	t->cap = cap;
	return 0;
}

/* Is symbol id one to print? Its name into name (BB_SYMBOL_MAX + 1). */
static int wanted(struct tail *t, uint32_t id, char *name)
{
	if (grow(t, id) != 0 ||
	    bb_symbol_name(t->bus, id, name, BB_SYMBOL_MAX + 1) != 0)
		return 0;
	if (t->want[id] == 0) {
		t->want[id] = t->o.nsymbols ? 2 : 1;
		for (size_t i = 0; i < t->o.nsymbols; i++)
			if (strcmp(t->o.symbols[i], name) == 0)
				t->want[id] = 1;
	}
	return t->want[id] == 1;
}

static void print_bar(struct tail *t, const bb_bar *b)
{
	char name[BB_SYMBOL_MAX + 1];

	if (!wanted(t, b->symbol, name))
		return;
	if (t->o.format == 0)
		bb__barfmt_csv(stdout, name, b);
	else
		bb__barfmt_json(stdout, name, b);
	if (!(b->flags & BB_BAR_PARTIAL) && b->time > t->last[b->symbol])
		t->last[b->symbol] = b->time;
}

/* ---- 1-minute bars ------------------------------------------------------- */

/* The follower's snapshot; after --from-start, only bars newer than the
 * last printed of their symbol. */
static void print_snapshot(struct tail *t)
{
	size_t n;
	const bb_bar *v = bb_follow_snapshot(t->f, &n);

	for (size_t i = 0; t->o.interval == 1 && i < n; i++)
		if (grow(t, v[i].symbol) == 0 && v[i].time > t->last[v[i].symbol])
			print_bar(t, &v[i]);
}

static int lapped(struct tail *t, uint64_t lost)
{
	fprintf(stderr, PROG ": bus %s: lapped, %llu records lost; "
	        "resynchronised from the tables\n", t->o.bus,
	        (unsigned long long)lost);
	if (t->raw != NULL) { /* --from-start: on from a follower now */
		bb_ring_reader_close(t->raw);
		t->raw = NULL;
		int rc = bb_follow_open(&t->f, t->o.bus, BB_WAIT_BLOCK, 0);
		if (rc != 0)
			return rc;
	}
	print_snapshot(t);
	return 0;
}

/* The next ring record, whichever reader is in use. */
static int next(struct tail *t, bb_bar *rec)
{
	uint64_t lost = 0;
	int rc = t->raw ? bb_ring_wait(t->raw, rec, &lost, QUIET_NS)
	         : bb_follow_next(t->f, rec, &lost, QUIET_NS);

	if (rc == BB_ELAPPED) {
		int lrc = lapped(t, lost);
		return lrc != 0 ? lrc : BB_ELAPPED;
	}
	return rc;
}

/* ---- derived bars --------------------------------------------------------- */

enum look { LOOK_SKIP, LOOK_NEW, LOOK_ALL };

/* t->buf[0..got) are sym's derived bars: LOOK_NEW prints those that
 * turned final since the last look (and with --partial the forming one if
 * it changed), LOOK_ALL the same from the session's first, LOOK_SKIP only
 * remembers where they are. */
static void print_derived(struct tail *t, uint32_t id, enum look how,
                          size_t got)
{
	char name[BB_SYMBOL_MAX + 1];

	if (!wanted(t, id, name))
		return;
	for (size_t i = 0; i < got && t->buf[i].time < t->until; i++) {
		const bb_bar *b = &t->buf[i];
		int forming = (b->flags & BB_BAR_PARTIAL) != 0;
		if (b->time < t->from)
			continue;
		if (how == LOOK_SKIP && !forming)
			t->last[id] = b->time;
		else if (!forming && b->time > t->last[id])
			print_bar(t, b);
		else if (forming && t->o.partial && how != LOOK_SKIP &&
		         memcmp(b, &t->part[id], sizeof(*b)) != 0)
			print_bar(t, b);
		if (forming)
			t->part[id] = *b;
	}
}

/* A row the upkeep kept rewriting while read (BB_ERETRY: its writer was
 * descheduled mid-write) is counted in t->skipped and read at the next
 * look; nothing is lost, as a look prints every final bar not printed. */
static int look_symbol(struct tail *t, uint32_t id, enum look how)
{
	size_t got, n = how == LOOK_ALL ? DAY_ROWS : DERIVED_ROWS;
	int rc = bb_bars(t->bus, t->up, id, t->o.interval, t->buf, n, &got);

	/* All n read are new: more may be (an upkeep catching up made them
	 * faster than we looked), so the whole session is read. */
	if (rc == 0 && how == LOOK_NEW && got == n && grow(t, id) == 0 &&
	    t->buf[0].time > t->last[id])
		rc = bb_bars(t->bus, t->up, id, t->o.interval, t->buf, DAY_ROWS,
		             &got);
	if (rc == 0)
		print_derived(t, id, how, got);
	if (rc == BB_ERETRY)
		t->skipped++;
	return rc == BB_EINVAL || rc == BB_EEMPTY || rc == BB_ERETRY ? 0 : rc;
}

/* Sym's derived bars of session `date` from the upkeep's history, which
 * holds it once the upkeep has finished it: back 0 while the upkeep is
 * still on it, 1 once it has moved on (or more, if it moved on again
 * since); counted in t->gone when the history holds none of them. */
static int history_symbol(struct tail *t, uint32_t id, enum look how,
                          int32_t date)
{
	uint32_t kept = bb_upkeep_history_days(t->up);
	char name[BB_SYMBOL_MAX + 1];
	int rc = 0, found = 0;

	for (uint32_t back = 0; !found && back <= kept; back++) {
		size_t got;
		int32_t d;
		rc = bb_bars_history(t->bus, t->up, back, id, t->o.interval,
		                     t->buf, DAY_ROWS, &got, &d);
		if (rc == BB_ENOTFOUND && back == 0)
			continue; /* moved on: not finished yet */
		if (rc != 0 || d < date)
			break;
		if ((found = d == date))
			print_derived(t, id, how, got);
	}
	if (rc == BB_ERETRY)
		t->skipped++;
	else if (!found && (rc == 0 || rc == BB_ENOTFOUND) &&
	         wanted(t, id, name))
		t->gone++;
	return rc == BB_EINVAL || rc == BB_ENOTFOUND || rc == BB_ERETRY ? 0 : rc;
}

/*
 * Session s's derived bars (s->date 0: whatever the tables hold), bounded
 * to its open and close: from the current tables while the upkeep is on
 * s and has not finished it, else from its history, where the next
 * session's start cannot reset them under the reader (a tail behind the
 * upkeep finds the next session's bars in the tables). An upkeep keeping
 * no history: the current tables, and a session it has left counted in
 * t->gone.
 */
static int look_session(struct tail *t, enum look how, const bb_session *s)
{
	bb_upkeep_info u;
	int on = 1, rc = 0; /* the status unread: the tables, bounded to s */

	if (t->up == NULL) /* 1-minute bars: nothing to look at */
		return 0;
	if (s->date != 0 && bb_upkeep_status(t->up, &u) == 0)
		on = u.date == s->date && u.done_date < s->date;
	int hist = !on && bb_upkeep_history_days(t->up) > 0;
	uint32_t n = bb_symbol_count(t->bus);
	t->from = s->date ? s->open : INT64_MIN;
	t->until = s->date ? s->close : INT64_MAX;
	for (uint32_t id = 0; rc == 0 && id < n; id++)
		rc = hist ? history_symbol(t, id, how, s->date)
		     : look_symbol(t, id, how);
	fflush(stdout);
	if (rc == 0 && !hist && s->date != 0 &&
	    bb_upkeep_status(t->up, &u) == 0 && u.date != s->date)
		t->gone++;
	t->from = INT64_MIN, t->until = INT64_MAX;
	return rc;
}

/* A look that must read every symbol (the first, a session's last, the
 * last before exiting): again while one could not be read whole, 2 s at
 * most, then said on stderr. */
static int look_whole(struct tail *t, enum look how, const bb_session *s)
{
	int rc = 0;

	for (int i = 0; i < 100; i++) {
		t->skipped = 0, t->gone = 0;
		if ((rc = look_session(t, how, s)) != 0 || t->skipped == 0)
			return rc;
		usleep(20000);
	}
	fprintf(stderr, PROG ": bus %s: %u symbols' derived bars kept changing "
	        "while read for 2 s; some may not be printed\n", t->o.bus,
	        t->skipped);
	return 0;
}

/* Has the upkeep finished session `date` (or stopped following)? */
static int upkeep_done(struct tail *t, int32_t date)
{
	bb_upkeep_info u;

	return bb_upkeep_status(t->up, &u) != 0 || u.done_date >= date ||
	       u.state == BB_UPKEEP_EXITED;
}

/*
 * The ended session t->pending's last derived bars, once the upkeep has
 * finished it: those of that session only (until its close; the next
 * session's are printed by later looks, after them). With `now`, what of
 * them is final already, the tail exiting or another session ending.
 */
static int settle(struct tail *t, int now)
{
	int32_t date = t->pending.date;

	if (date == 0 || (!now && !upkeep_done(t, date)))
		return 0;
	if (!upkeep_done(t, date))
		fprintf(stderr, PROG ": bus %s: session %d: the upkeep has not "
		        "finished it; its derived bars not final yet are not "
		        "printed\n", t->o.bus, (int)date);
	bb_session s = t->pending;
	t->pending.date = 0;
	int rc = look_whole(t, LOOK_NEW, &s);
	if (rc == 0 && t->gone != 0)
		fprintf(stderr, PROG ": bus %s: session %d: some of its last "
		        "derived bars may be missing: the upkeep had moved on, "
		        "and its history does not hold them\n", t->o.bus,
		        (int)date);
	return rc;
}

/* The upkeep finishing session date, waited for `ticks` x 20 ms at most;
 * with `alive`, only while its heartbeat is fresh. */
static void wait_done(struct tail *t, int32_t date, int ticks, int alive)
{
	for (int i = 0; i < ticks && !upkeep_done(t, date) &&
	                (!alive || bb_upkeep_writer_state(t->up, NULL) ==
	                           BB_WRITER_ALIVE); i++)
		usleep(20000);
}

/* Session s has ended: pending until the upkeep has finished it, waited
 * for here; a later look settles it otherwise. One still pending from
 * before is given as long again first, then what is final of it. */
static int session_ended(struct tail *t, const bb_session *s)
{
	if (t->up == NULL)
		return 0;
	/* 2 s: as long as the coordinator's handshake waits. */
	if (t->pending.date != 0)
		wait_done(t, t->pending.date, 100, 0);
	int rc = settle(t, 1);
	t->pending = *s;
	if (rc == 0)
		wait_done(t, s->date, 100, 0);
	return rc != 0 ? rc : settle(t, 0);
}

/* The tail exits (end of data, the coordinator gone): a pending session
 * is waited for while the upkeep works on (its heartbeat fresh), a
 * minute at most, then settled. */
static int last_look(struct tail *t)
{
	if (t->pending.date != 0)
		wait_done(t, t->pending.date, 3000, 1);
	int rc = settle(t, 1);
	return rc != 0 ? rc : look_whole(t, LOOK_NEW, &t->cur);
}

/* The looks while following, at the session the ring is in: a pending
 * session first, and while one is pending nothing of the next (its bars
 * come after the pending session's last). */
static int look_new(struct tail *t)
{
	int rc = settle(t, 0);

	if (rc != 0 || t->pending.date != 0)
		return rc;
	return look_session(t, LOOK_NEW, &t->cur);
}

/* ---- main loop ------------------------------------------------------------ */

static int follow(struct tail *t)
{
	bb_bar rec;
	bb_session s;
	int reason;

	for (;;) {
		int rc = next(t, &rec);
		if (rc == BB_ELAPPED)
			continue;
		if (rc == BB_ETIMEDOUT) {
			if ((rc = look_new(t)) != 0)
				return rc;
			continue;
		}
		if (rc == BB_ENOWRITER)
			return last_look(t);
		if (rc != 0)
			return rc;
		uint32_t kind = BB_KIND(rec.flags);
		if (kind == BB_KIND_BAR && t->o.interval == 1)
			print_bar(t, &rec);
		if (kind != BB_KIND_BAR && t->o.events)
			bb__barfmt_event(stdout, &rec, t->o.format == 0);
		if (kind == BB_KIND_MINUTE_END && (rc = look_new(t)) != 0)
			return rc;
		if ((kind != BB_KIND_SESSION_START && kind != BB_KIND_SESSION_END)
		    || bb_event_session_get(&rec, &s, &reason) != 0)
			continue;
		if (kind == BB_KIND_SESSION_START) {
			t->cur = s;
			continue;
		}
		if ((rc = session_ended(t, &s)) != 0 || reason == BB_END_DATA)
			return rc != 0 ? rc : last_look(t);
	}
}

/* The upkeep, which must maintain the interval asked for. */
static int open_upkeep(struct tail *t)
{
	uint32_t have[BB_UPKEEP_MAX_INTERVALS];
	int rc = bb_upkeep_open(&t->up, t->o.bus);

	if (rc != 0)
		return rc;
	size_t n = bb_upkeep_intervals(t->up, have, BB_UPKEEP_MAX_INTERVALS);
	for (size_t i = 0; i < n && i < BB_UPKEEP_MAX_INTERVALS; i++)
		if (have[i] == t->o.interval)
			return 0;
	return BB_ENOINTERVAL;
}

static int open_all(struct tail *t)
{
	int rc = bb_bus_open(&t->bus, t->o.bus);

	if (rc == 0 && t->o.interval > 1)
		rc = open_upkeep(t);
	if (rc == 0 && t->o.from_start && t->o.interval == 1)
		return bb_ring_reader_open(&t->raw, t->o.bus, BB_WAIT_BLOCK,
		                           BB_RING_FROM_OLDEST);
	if (rc == 0)
		rc = bb_follow_open(&t->f, t->o.bus, BB_WAIT_BLOCK, 0);
	return rc;
}

static void close_all(struct tail *t)
{
	bb_follow_close(t->f);
	bb_ring_reader_close(t->raw);
	bb_upkeep_close(t->up);
	bb_bus_close(t->bus);
	t->f = NULL, t->raw = NULL, t->up = NULL, t->bus = NULL;
}

/* Bus, upkeep and reader, waiting up to --wait for them to be made. */
static int attach(struct tail *t)
{
	int rc = 0;

	for (uint32_t i = 0; i <= t->o.wait_s * 20; i++) {
		if ((rc = open_all(t)) == 0)
			return 0;
		close_all(t);
		if (rc != ENOENT && rc != BB_ENOTREADY)
			return rc;
		if (i < t->o.wait_s * 20)
			usleep(50000);
	}
	return rc;
}

static int run(struct tail *t)
{
	int rc = attach(t);

	if (rc != 0)
		return rc;
	if ((t->buf = malloc(DAY_ROWS * sizeof(*t->buf))) == NULL)
		return ENOMEM;
	if (t->o.snapshot && t->o.interval == 1)
		print_snapshot(t);
	bb_status st;
	if (bb_bus_status(t->bus, &st) == 0 && st.date != 0)
		t->cur = (bb_session){ .date = st.date, .open = st.open,
		                       .close = st.close };
	rc = look_whole(t, t->o.snapshot ? LOOK_ALL : LOOK_SKIP, &t->cur);
	if (rc != 0)
		return rc;
	return follow(t);
}

int main(int argc, char **argv)
{
	struct tail t = { .from = INT64_MIN, .until = INT64_MAX };
	int st = bb__args_parse(&args, &t.o, argc, argv, NULL);

	if (st != BB__ARGS_GO)
		return st;
	if (t.o.from_start && t.o.snapshot) {
		bb__settings_free(table, args.n, &t.o);
		return bb__args_usage_error(PROG, "--from-start and --snapshot "
		                            "exclude each other");
	}
	int rc = run(&t);
	if (rc == ENOENT)
		st = bb__args_fail(PROG, "bus %s: no such bus (no coordinator "
		                   "has made it)", t.o.bus);
	else if (rc == BB_ENOINTERVAL)
		st = bb__args_fail(PROG, "bus %s: --interval %um: %s", t.o.bus,
		                   t.o.interval, bb_strerror(rc));
	else if (rc != 0)
		st = bb__args_fail(PROG, "bus %s: %s", t.o.bus, bb_strerror(rc));
	fflush(stdout);
	close_all(&t);
	free(t.want);
	free(t.last);
	free(t.part);
	free(t.buf);
	bb__settings_free(table, args.n, &t.o);
	return st == BB__ARGS_GO ? 0 : st;
}
