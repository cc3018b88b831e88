/*
 * up_wait: the backtest coordinator's side of the session handshake with
 * the upkeep (docs/upkeep.md, "Session boundaries"). After SESSION_END(D)
 * the coordinator waits until the upkeep says "D done" in up.status, up to
 * --upkeep-wait-ms, before SESSION_START of the next session; it counts
 * the waits (BB_CTR_UPKEEP_WAITS) and those that ran out
 * (BB_CTR_UPKEEP_TIMEOUTS); it never waits while no upkeep is alive (its
 * writer lock says so), and the upkeep dying ends a wait at once.
 *
 *  stop:  an upkeep alive but stopped (SIGSTOP) before the bus exists, a
 *         six-session replay at max speed with --upkeep-wait-ms 300: the
 *         first boundary waits 300 ms and times out (its transition lasts
 *         300 ms and a little); the later ones find the upkeep exactly as
 *         it was and time out at once (transitions under 100 ms); the end
 *         of data does not wait; nothing else suffers.
 *  dead:  the same bus again once that upkeep is SIGKILLed (its segments
 *         left behind, nobody holding their lock): no wait at all.
 *  none:  a bus no upkeep ever ran on: no wait at all.
 *  again: a second run over the same dates on a bus whose upkeep finished
 *         the first: the "done" that run left in up.status is not this
 *         run's; a new upkeep, alive but stopped, is waited for as in "stop".
 *  resume: an upkeep stopped before the bus exists, a paced replay of
 *         four sessions: the first boundary gives it up; continued, then
 *         stopped again inside the third session, it has moved since, so
 *         the boundary after that session waits for it again until it is
 *         continued: one timeout in all.
 *  pace:  a replay at max speed of 1024 symbols with the upkeep following
 *         it: at every MINUTE_END(t) of the second session the upkeep has
 *         completed minute t - 5, read at once: the coordinator paced on
 *         t - 1, up to 4 minutes (4096 bars) ahead.
 *  kill:  a paced replay, --upkeep-wait-ms 5000, the upkeep following it.
 *         Stopped in the middle of session 1, the coordinator holds the
 *         next SESSION_START until the upkeep, continued, says session 1
 *         is done. Stopped in the middle of session 2 and SIGKILLed while
 *         the coordinator waits: the coordinator goes on at once, far
 *         within the bound, and finishes.
 *
 * Throughout, a reader (a thread of this process, on the ring) gets every
 * bar of the store once, every session starting and ending once, nothing
 * lost; the session table holds the store's last session. Prints
 * "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>

#include "stress.h"

#define NSYM     10
#define FROM     20240701
#define TO       20240709 /* 6 sessions: 07-03 closes early, 07-04 a holiday */
#define MAXS     8
#define STOP_MS  300      /* --upkeep-wait-ms of "stop" and "dead" */
#define KILL_MS  5000     /* --upkeep-wait-ms of "kill" */
#define SLACK_MS 1000     /* a wait that timed out is over within this */
#define FAST_MS  100      /* a transition without any wait lasts less */
#define PAUSE_MS 300      /* how long the upkeep is kept stopped at a wait */
#define PACE     "39000x" /* "kill": a 390-minute session in 0.6 s, */
#define PACE_TSAN "19500x" /* 1.2 s under TSan (more room to stop it in) */
#define MS       1000000ll

static char dir[64], bin[PATH_MAX], db[96];
static bb_calendar *cal;
static struct {
	bb_session s;
	uint64_t   bars;        /* in the store, all symbols */
	uint32_t   sym[NSYM];   /* per symbol */
} sess[MAXS];
static int nsess;

/* ---- the store ---------------------------------------------------------- */

/* The sessions FROM..TO and the store's bar counts in each. */
static void load_sessions(void)
{
	static bb_bar buf[1440];
	bb_store *st;
	bb_session s;

	if (bb_store_open(&st, db, BB_STORE_RDONLY) != 0)
		stress_fatal("store %s", db);
	for (int32_t d = FROM; nsess < MAXS && bb_calendar_next(cal, d, &s) == 0 &&
	     s.date <= TO; d = bb_days_to_date(bb_date_to_days(s.date) + 1)) {
		sess[nsess].s = s;
		for (uint32_t k = 0; k < NSYM; k++) {
			size_t n = 0;
			if (bb_store_range(st, k, s.open, s.close, buf, 1440, &n) != 0)
				stress_fatal("store range");
			sess[nsess].sym[k] = (uint32_t)n;
			sess[nsess].bars += n;
		}
		nsess++;
	}
	bb_store_close(st);
}

static int sess_index(int32_t date)
{
	for (int i = 0; i < nsess; i++)
		if (sess[i].s.date == date)
			return i;
	return -1;
}

/* ---- processes ---------------------------------------------------------- */

static pid_t spawn(const char *log, const char *prog, const char *const *args)
{
	const char *argv[32];
	char path[PATH_MAX + 32];
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", bin, prog);
	argv[n++] = path;
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = stress_fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static pid_t upkeep(const char *bus, const char *tag)
{
	char log[128];

	snprintf(log, sizeof(log), "%s/up-%s.log", dir, tag);
	return spawn(log, "barbus-upkeep", (const char *const[]){
		"--bus", bus, "--db", db, "--history-days", "0",
		"--heartbeat-ms", "100", NULL });
}

static pid_t coordinator(const char *bus, const char *tag, int32_t from,
                         int32_t to, const char *speed, int wait_ms)
{
	char log[128], f[16], t[16], w[16];

	snprintf(log, sizeof(log), "%s/co-%s.log", dir, tag);
	bb_date_format(from, f);
	bb_date_format(to, t);
	snprintf(w, sizeof(w), "%d", wait_ms);
	return spawn(log, "barbus-coordinator", (const char *const[]){
		"--bus", bus, "--db", db, "--history-days", "0",
		"--upkeep-wait-ms", w, "backtest", "--from", f, "--to", t,
		"--speed", speed, NULL });
}

/* SIGSTOP pid and wait until it is stopped. */
static int stop_child(pid_t pid)
{
	int st;

	if (kill(pid, SIGSTOP) != 0)
		return 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WUNTRACED);
		if (r == pid)
			return WIFSTOPPED(st);
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

/* 1 while pid has not exited (a stopped child has not). */
static int running(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == 0;
}

static int killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static int exited0(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Writer state of up.status (what the coordinator looks at), -1 when the
 * table is not there. */
static int upkeep_lock_state(const char *bus)
{
	bb_table *t;

	if (bb_table_open(&t, bus, "up.status") != 0)
		return -1;
	int ws = bb_table_writer_state(t, NULL);
	bb_table_close(t);
	return ws;
}

static const char *ws_name(int ws)
{
	switch (ws) {
	case BB_WRITER_ALIVE: return "alive";
	case BB_WRITER_STUCK: return "stuck";
	case BB_WRITER_DEAD: return "dead";
	default: return "no segment";
	}
}

/* ---- the reader --------------------------------------------------------- */

struct rd {
	bb_ring_reader *r;
	pthread_t       th;
	atomic_int      stop, end_data;
	_Atomic int64_t end_ns;                    /* when it saw the end */
	int             cur;                       /* session index, -1 */
	uint64_t        bars[MAXS], starts[MAXS], ends[MAXS];
	uint64_t        stray, lost, unknown;
	/* pace: at each MINUTE_END of a session after the first, the
	 * upkeep's quality of the last symbol, read at once */
	const char     *pace_bus;
	uint32_t        pace_sym, pace_lag; /* last symbol, minutes ahead */
	bb_upkeep      *u;
	uint64_t        paced, ahead;
	int64_t         ahead_t;  /* the first minute found ahead */
	uint32_t        ahead_exp;
};

/* MINUTE_END(t) seen in session rd->cur: the coordinator paced on the
 * minute before, m - 1, so the upkeep has completed minute m - 1 - lag. */
static void pace_check(struct rd *rd, int64_t t)
{
	const bb_session *s = &sess[rd->cur].s;
	int64_t m = (t - s->open) / 60;
	bb_quality q = { 0 };

	if (rd->u == NULL && bb_upkeep_open(&rd->u, rd->pace_bus) != 0)
		rd->u = NULL;
	if (rd->u == NULL || rd->cur < 1 || m < rd->pace_lag + 1)
		return;
	rd->paced++;
	/* A reader behind may find the upkeep in a later session already:
	 * its rows reset (empty) or of a later date. Empty in this session,
	 * minute t - 2 complete, cannot be. */
	int rc = bb_upkeep_quality(rd->u, rd->pace_sym, &q);
	if (rc == BB_EEMPTY)
		return;
	if (rc != 0 || q.date < s->date ||
	    (q.date == s->date && q.expected < (uint32_t)(m - rd->pace_lag))) {
		if (rd->ahead++ == 0) {
			rd->ahead_t = t;
			rd->ahead_exp = q.date == s->date ? q.expected : 0;
		}
	}
}

static void *reader(void *arg)
{
	struct rd *rd = arg;
	bb_session s;
	bb_bar b;
	uint64_t lost;
	int reason;

	while (!atomic_load(&rd->stop)) {
		int rc = bb_ring_wait(rd->r, &b, &lost, 20 * MS);
		if (rc == BB_ELAPPED) {
			rd->lost += lost;
			continue;
		}
		if (rc == BB_ENOWRITER)
			stress_sleep_ns(MS);
		if (rc != 0)
			continue;
		switch (BB_KIND(b.flags)) {
		case BB_KIND_SESSION_START:
			bb_event_session_get(&b, &s, NULL);
			rd->cur = sess_index(s.date);
			if (rd->cur >= 0)
				rd->starts[rd->cur]++;
			else
				rd->unknown++;
			break;
		case BB_KIND_SESSION_END:
			bb_event_session_get(&b, &s, &reason);
			if (sess_index(s.date) >= 0)
				rd->ends[sess_index(s.date)]++;
			else
				rd->unknown++;
			rd->cur = -1;
			if (reason == BB_END_DATA) {
				atomic_store(&rd->end_ns, stress_now_ns());
				atomic_store(&rd->end_data, 1);
			}
			break;
		case BB_KIND_MINUTE_END:
			if (rd->pace_bus != NULL && rd->cur >= 0)
				pace_check(rd, b.time);
			break;
		case BB_KIND_BAR:
			if (rd->cur >= 0 && b.time >= sess[rd->cur].s.open &&
			    b.time < sess[rd->cur].s.close)
				rd->bars[rd->cur]++;
			else
				rd->stray++;
			break;
		}
	}
	return NULL;
}

/* Open the ring (at its oldest record, or at the next one written). The
 * ring may not exist yet: wait for it. */
static void reader_open(struct rd *rd, const char *bus, unsigned flags)
{
	memset(rd, 0, sizeof(*rd));
	rd->cur = -1;
	for (int i = 0; i < 2000 && rd->r == NULL; i++)
		if (bb_ring_reader_open(&rd->r, bus, BB_WAIT_YIELD, flags) != 0) {
			rd->r = NULL;
			stress_sleep_ns(5 * MS);
		}
	if (rd->r == NULL)
		stress_fatal("%s: the ring never appeared", bus);
}

/* Start reading: every field the reader uses is set before its thread. */
static void reader_run(struct rd *rd)
{
	if (pthread_create(&rd->th, NULL, reader, rd) != 0)
		stress_fatal("pthread_create");
}

static void reader_start(struct rd *rd, const char *bus, unsigned flags)
{
	reader_open(rd, bus, flags);
	reader_run(rd);
}

/* After the coordinator exited: let the reader reach the end of data. */
static void reader_finish(struct rd *rd)
{
	for (int i = 0; i < 5000 && !atomic_load(&rd->end_data); i++)
		stress_sleep_ns(MS);
	stress_sleep_ns(20 * MS); /* nothing may follow the end */
	atomic_store(&rd->stop, 1);
	pthread_join(rd->th, NULL);
	bb_ring_reader_close(rd->r);
	bb_upkeep_close(rd->u);
	rd->r = NULL;
	rd->u = NULL;
}

/* The reader got sessions [first, first + n) whole, and nothing else. */
static void check_reader(const struct rd *rd, const char *tag, int first, int n)
{
	uint64_t want = 0, got = 0;
	int once = 1;

	for (int i = 0; i < nsess; i++) {
		int in = i >= first && i < first + n;
		want += in ? sess[i].bars : 0;
		got += rd->bars[i];
		once &= in ? rd->starts[i] == 1 && rd->ends[i] == 1 &&
		             rd->bars[i] == sess[i].bars
		           : rd->starts[i] == 0 && rd->ends[i] == 0 &&
		             rd->bars[i] == 0;
	}
	CHECK(got == want && once && rd->stray == 0 && rd->unknown == 0,
	      "%s: the reader got every bar of the store once (%llu of %llu), "
	      "each of %d sessions starting and ending once, nothing else",
	      tag, (unsigned long long)got, (unsigned long long)want, n);
	CHECK(rd->lost == 0 && atomic_load(&rd->end_data),
	      "%s: the reader lost nothing (%llu) and saw the end of data", tag,
	      (unsigned long long)rd->lost);
}

/* The session table holds session last of the store, every symbol. */
static void check_table(const char *bus, const char *tag, int last)
{
	bb_bus *b = NULL;
	bb_status s;
	int ok;

	ok = bb_bus_open(&b, bus) == 0 && bb_bus_status(b, &s) == 0 &&
	     s.date == sess[last].s.date && s.state == BB_STATE_DONE;
	for (uint32_t k = 0; ok && k < NSYM; k++)
		ok = bb_count(b, k) == sess[last].sym[k];
	CHECK(ok, "%s: the bus is done and its session table holds the store's "
	      "bars of %d, every symbol", tag, sess[last].s.date);
	bb_bus_close(b);
}

/* Transitions into the last n - 1 sessions of bus, into ms[]. */
static int transitions(const char *bus, int n, double *ms)
{
	bb_bus *b = NULL;
	bb_status s;

	if (bb_bus_open(&b, bus) != 0 || bb_bus_status(b, &s) != 0 ||
	    s.sessions < (uint64_t)n) {
		bb_bus_close(b);
		return -1;
	}
	for (int k = 1; k < n; k++)
		ms[k - 1] = (double)bb_bus_transition_ns(b, s.sessions - n + 1 + k) / 1e6;
	bb_bus_close(b);
	return 0;
}

static uint64_t counter(const char *bus, int c)
{
	bb_bus *b = NULL;
	uint64_t v = UINT64_MAX;

	if (bb_bus_open(&b, bus) == 0)
		v = bb_bus_counter(b, c);
	bb_bus_close(b);
	return v;
}

static int bus_status(const char *bus, bb_status *s)
{
	bb_bus *b = NULL;
	int rc = bb_bus_open(&b, bus);

	if (rc == 0)
		rc = bb_bus_status(b, s);
	bb_bus_close(b);
	return rc;
}

/* ---- stop: a stopped upkeep is waited for, up to the bound ------------- */

/* The transitions of bus's nsess sessions into tr, listed into list: 1
 * when the first lasted the bound and a little and the later ones did not
 * wait (a stopped upkeep is given up on once). */
static int waited_once(const char *bus, double *tr, char *list, size_t n)
{
	int ok = transitions(bus, nsess, tr) == 0;

	list[0] = '\0';
	for (int k = 0; ok && k < nsess - 1; k++) {
		ok &= k == 0 ? tr[k] >= STOP_MS && tr[k] < STOP_MS + SLACK_MS
		             : tr[k] < FAST_MS;
		snprintf(list + strlen(list), n - strlen(list), "%s%.1f",
		         k ? " " : "", tr[k]);
	}
	return ok;
}

static void scenario_stop(const char *bus, pid_t *up_out)
{
	struct rd rd;
	double tr[MAXS];
	char why[64];
	int ws = -1;

	pid_t up = upkeep(bus, "stop");
	*up_out = up;
	/* Alive on the bus (its lock) as soon as it holds up.status, before
	 * the coordinator made the bus. */
	for (int i = 0; i < 2000 && (ws = upkeep_lock_state(bus)) != BB_WRITER_ALIVE;
	     i++)
		stress_sleep_ns(5 * MS);
	if (ws != BB_WRITER_ALIVE)
		stress_fatal("stop: the upkeep never took up.status (%s)",
		             ws_name(ws));
	CHECK(stop_child(up), "stop: the upkeep, alive before the bus exists, "
	      "is stopped");
	pid_t co = coordinator(bus, "stop", FROM, TO, "max", STOP_MS);
	reader_start(&rd, bus, BB_RING_FROM_OLDEST);
	int64_t t0 = stress_now_ns();
	int status = stress_reap(co, 30000);
	int64_t t_exit = stress_now_ns();
	double run_ms = (t_exit - t0) / 1e6;
	reader_finish(&rd);
	CHECK(exited0(status), "stop: the coordinator finished (%s) in %.0f ms",
	      stress_status_str(status, why, sizeof(why)), run_ms);
	uint64_t waits = counter(bus, BB_CTR_UPKEEP_WAITS);
	uint64_t outs = counter(bus, BB_CTR_UPKEEP_TIMEOUTS);
	CHECK(waits == (uint64_t)nsess - 1,
	      "stop: each of the %d session boundaries waited for the stopped "
	      "upkeep, the end of data did not: %llu waits", nsess - 1,
	      (unsigned long long)waits);
	CHECK(outs == (uint64_t)nsess - 1,
	      "stop: each wait timed out: BB_CTR_UPKEEP_TIMEOUTS %llu, want %d",
	      (unsigned long long)outs, nsess - 1);
	char list[256];
	CHECK(waited_once(bus, tr, list, sizeof(list)), "stop: the first "
	      "transition lasts the bound and a little (%d..%d ms), the later "
	      "ones, the upkeep not having moved, under %d ms: %s ms", STOP_MS,
	      STOP_MS + SLACK_MS, FAST_MS, list);
	/* The end of data does not wait either: the coordinator is gone
	 * sooner after publishing it than a wait would have taken. */
	int seen = atomic_load(&rd.end_data);
	double tail = seen ? (t_exit - atomic_load(&rd.end_ns)) / 1e6 : -1;
	CHECK(seen && tail < STOP_MS, "stop: the coordinator exits %.1f ms "
	      "after publishing the end of data (a wait would take %d)", tail,
	      STOP_MS);
	ws = upkeep_lock_state(bus);
	CHECK(running(up) && ws == BB_WRITER_STUCK,
	      "stop: the upkeep is still there, stopped: its lock held, its "
	      "heartbeat stale (%s)", ws_name(ws));
	check_reader(&rd, "stop", 0, nsess);
	check_table(bus, "stop", nsess - 1);
}

/* ---- dead / none: no upkeep alive, no wait ------------------------------- */

static void scenario_nowait(const char *bus, const char *tag, unsigned rflags)
{
	struct rd rd;
	double tr[MAXS];
	char why[64];
	uint64_t w0 = 0, t0 = 0;

	if (rflags == 0) { /* the bus exists already */
		w0 = counter(bus, BB_CTR_UPKEEP_WAITS);
		t0 = counter(bus, BB_CTR_UPKEEP_TIMEOUTS);
		reader_start(&rd, bus, 0);
	}
	pid_t co = coordinator(bus, tag, FROM, TO, "max", STOP_MS);
	if (rflags != 0)
		reader_start(&rd, bus, rflags);
	int status = stress_reap(co, 30000);
	reader_finish(&rd);
	CHECK(exited0(status), "%s: the coordinator finished (%s)", tag,
	      stress_status_str(status, why, sizeof(why)));
	uint64_t w = counter(bus, BB_CTR_UPKEEP_WAITS);
	uint64_t t = counter(bus, BB_CTR_UPKEEP_TIMEOUTS);
	CHECK(w == w0 && t == t0, "%s: no upkeep alive, no wait: waits %llu -> "
	      "%llu, timeouts %llu -> %llu", tag, (unsigned long long)w0,
	      (unsigned long long)w, (unsigned long long)t0,
	      (unsigned long long)t);
	int got = transitions(bus, nsess, tr) == 0, ok = got;
	char list[256] = "";
	for (int k = 0; got && k < nsess - 1; k++) {
		ok &= tr[k] < FAST_MS;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.2f",
		         k ? " " : "", tr[k]);
	}
	CHECK(ok, "%s: every transition well under the %d ms bound (< %d ms): "
	      "%s ms", tag, STOP_MS, FAST_MS, list);
	check_reader(&rd, tag, 0, nsess);
	check_table(bus, tag, nsess - 1);
}

/* ---- again: a second run on a bus an upkeep already finished ------------ */

/*
 * The handshake is about this run's sessions: a "done" left in up.status
 * by the previous run on the bus (the same dates) is not the upkeep saying
 * it finished them. First run: a live upkeep, never timed out, done with
 * the last session. Second run over the same dates, a new upkeep alive
 * (its lock) but stopped before doing anything: every boundary waits for
 * it and times out, as on a fresh bus ("stop").
 */
static void scenario_again(const char *bus)
{
	struct rd rd;
	double tr[MAXS];
	char why[64];
	int ws = -1;
	bb_upkeep *u = NULL;
	bb_upkeep_info info = { 0 };

	pid_t up = upkeep(bus, "again-1");
	for (int i = 0; i < 2000 && upkeep_lock_state(bus) != BB_WRITER_ALIVE; i++)
		stress_sleep_ns(5 * MS);
	pid_t co = coordinator(bus, "again-1", FROM, TO, "max", KILL_MS);
	int status = stress_reap(co, 30000);
	CHECK(exited0(status), "again: first run, the coordinator finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	status = stress_reap(up, 10000);
	CHECK(exited0(status), "again: first run, the upkeep finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	int said = bb_upkeep_open(&u, bus) == 0 && bb_upkeep_status(u, &info) == 0;
	bb_upkeep_close(u);
	uint64_t w0 = counter(bus, BB_CTR_UPKEEP_WAITS);
	uint64_t t0 = counter(bus, BB_CTR_UPKEEP_TIMEOUTS);
	CHECK(said && info.done_date == sess[nsess - 1].s.date && t0 == 0,
	      "again: first run, a live upkeep: every session done in time "
	      "(done_date %d, %llu waits, %llu timeouts)", info.done_date,
	      (unsigned long long)w0, (unsigned long long)t0);

	up = upkeep(bus, "again-2");
	for (int i = 0; i < 2000 && (ws = upkeep_lock_state(bus)) != BB_WRITER_ALIVE;
	     i++)
		stress_sleep_ns(5 * MS);
	if (ws != BB_WRITER_ALIVE)
		stress_fatal("again: the second upkeep never took up.status");
	CHECK(stop_child(up), "again: a second upkeep, alive, is stopped");
	reader_start(&rd, bus, 0);
	co = coordinator(bus, "again-2", FROM, TO, "max", STOP_MS);
	status = stress_reap(co, 30000);
	reader_finish(&rd);
	CHECK(exited0(status), "again: second run, the coordinator finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	uint64_t w = counter(bus, BB_CTR_UPKEEP_WAITS) - w0;
	uint64_t t = counter(bus, BB_CTR_UPKEEP_TIMEOUTS) - t0;
	CHECK(w == (uint64_t)nsess - 1 && t == (uint64_t)nsess - 1,
	      "again: second run, the stopped upkeep has finished none of its "
	      "sessions (up.status still says %d done, from the first run), so "
	      "each of the %d boundaries waits and times out: %llu waits, %llu "
	      "timeouts", info.done_date, nsess - 1, (unsigned long long)w,
	      (unsigned long long)t);
	char list[256];
	CHECK(waited_once(bus, tr, list, sizeof(list)), "again: second run, "
	      "the first transition lasts the bound and a little (%d..%d ms), "
	      "the later ones under %d ms: %s ms", STOP_MS, STOP_MS + SLACK_MS,
	      FAST_MS, list);
	check_reader(&rd, "again", 0, nsess);
	kill(up, SIGKILL);
	kill(up, SIGCONT);
	stress_reap(up, 5000);
}

/* ---- kill: waited for until done; killed while waited for ---------------- */

/* Stop the upkeep in the middle of session i: it follows that session and
 * has not finished it, the coordinator is still inside it. */
static int stop_mid_session(pid_t up, const char *bus, int i)
{
	bb_upkeep *u = NULL;
	bb_upkeep_info info;
	bb_status s;
	int32_t d = sess[i].s.date;

	for (int k = 0; k < 5000; k++, stress_sleep_ns(MS)) {
		if (u == NULL && bb_upkeep_open(&u, bus) != 0) {
			u = NULL;
			continue;
		}
		if (bb_upkeep_status(u, &info) != 0 ||
		    info.state != BB_UPKEEP_FOLLOWING || info.date != d ||
		    info.done_date >= d || bus_status(bus, &s) != 0 ||
		    s.date != d || s.state != BB_STATE_OPEN)
			continue;
		int ok = stop_child(up) && bb_upkeep_status(u, &info) == 0 &&
		         info.done_date < d;
		bb_upkeep_close(u);
		return ok;
	}
	bb_upkeep_close(u);
	return 0;
}

/* Wait (up to ms) until the coordinator waits at the boundary after
 * session i: its n-th wait counted, the session ended, the next one not
 * started. */
static int wait_for_wait(const char *bus, int i, uint64_t n, int ms)
{
	bb_status s;

	for (int k = 0; k < ms; k++, stress_sleep_ns(MS))
		if (counter(bus, BB_CTR_UPKEEP_WAITS) >= n)
			return counter(bus, BB_CTR_UPKEEP_WAITS) == n &&
			       bus_status(bus, &s) == 0 &&
			       s.date == sess[i].s.date && s.state == BB_STATE_ENDED;
	return 0;
}

static int still_waiting(const char *bus, int i, uint64_t n)
{
	bb_status s;

	return bus_status(bus, &s) == 0 && s.date == sess[i].s.date &&
	       s.state == BB_STATE_ENDED &&
	       counter(bus, BB_CTR_UPKEEP_WAITS) == n &&
	       counter(bus, BB_CTR_UPKEEP_TIMEOUTS) == 0;
}

/* Wait (up to ms) until session i started; the time it took, or -1. */
static double wait_for_start(const char *bus, int i, int ms)
{
	bb_status s;
	int64_t t0 = stress_now_ns();

	for (int k = 0; k < ms * 10; k++) {
		if (bus_status(bus, &s) == 0 && s.date == sess[i].s.date)
			return (stress_now_ns() - t0) / 1e6;
		stress_sleep_ns(MS / 10);
	}
	return -1;
}

static double transition_into(const char *bus, int32_t date)
{
	bb_bus *b = NULL;
	bb_status s;
	double ms = -1;

	if (bb_bus_open(&b, bus) == 0 && bb_bus_status(b, &s) == 0 &&
	    s.date == date)
		ms = (double)bb_bus_transition_ns(b, s.sessions) / 1e6;
	bb_bus_close(b);
	return ms;
}

static void scenario_kill(const char *bus)
{
	enum { N = 3 }; /* 07-01, 07-02, 07-03 (early close) */
	struct rd rd;
	char why[64];
	int ws = -1;

	pid_t up = upkeep(bus, "kill");
	for (int i = 0; i < 2000 && (ws = upkeep_lock_state(bus)) != BB_WRITER_ALIVE;
	     i++)
		stress_sleep_ns(5 * MS);
	if (ws != BB_WRITER_ALIVE)
		stress_fatal("kill: the upkeep never took up.status");
	pid_t co = coordinator(bus, "kill", sess[0].s.date, sess[N - 1].s.date,
	                       stress_tsan() ? PACE_TSAN : PACE, KILL_MS);
	reader_start(&rd, bus, BB_RING_FROM_OLDEST);

	/* Boundary 1: stopped, then continued. */
	if (!stop_mid_session(up, bus, 0))
		stress_fatal("kill: could not stop the upkeep inside session %d "
		             "(timing)", sess[0].s.date);
	CHECK(wait_for_wait(bus, 0, 1, 5000), "kill: after %d ended the "
	      "coordinator waits for the stopped upkeep (1 wait counted, the "
	      "session ended, the next not started)", sess[0].s.date);
	stress_sleep_ns(PAUSE_MS * MS);
	CHECK(still_waiting(bus, 0, 1), "kill: %d ms later it still holds "
	      "SESSION_START(%d)", PAUSE_MS, sess[1].s.date);
	bb_bus *bb = NULL;
	if (bb_bus_open(&bb, bus) == 0)
		INFO("kill: while it waits, readers see the coordinator %s",
		     ws_name(bb_bus_writer_state(bb, NULL)));
	bb_bus_close(bb);
	kill(up, SIGCONT);
	double go = wait_for_start(bus, 1, KILL_MS + 2000);
	bb_upkeep *u = NULL;
	bb_upkeep_info info = { 0 };
	int said = bb_upkeep_open(&u, bus) == 0 && bb_upkeep_status(u, &info) == 0 &&
	           info.done_date >= sess[0].s.date;
	bb_upkeep_close(u);
	CHECK(go >= 0 && said, "kill: continued, the upkeep says %d done "
	      "(done_date %d) and then the coordinator starts %d (%.1f ms after "
	      "SIGCONT)", sess[0].s.date, info.done_date, sess[1].s.date, go);
	double tr = transition_into(bus, sess[1].s.date);
	CHECK(counter(bus, BB_CTR_UPKEEP_TIMEOUTS) == 0 && tr >= PAUSE_MS &&
	      tr < KILL_MS, "kill: that wait ended with the upkeep's answer, not "
	      "the bound: no timeout, transition %.1f ms (%d..%d)", tr, PAUSE_MS,
	      KILL_MS);

	/* Boundary 2: stopped, then killed while waited for. */
	if (!stop_mid_session(up, bus, 1))
		stress_fatal("kill: could not stop the upkeep inside session %d "
		             "(timing)", sess[1].s.date);
	CHECK(wait_for_wait(bus, 1, 2, 5000), "kill: after %d ended the "
	      "coordinator waits for the stopped upkeep again", sess[1].s.date);
	stress_sleep_ns(PAUSE_MS * MS);
	CHECK(still_waiting(bus, 1, 2), "kill: %d ms later it still holds "
	      "SESSION_START(%d)", PAUSE_MS, sess[2].s.date);
	kill(up, SIGKILL);
	kill(up, SIGCONT);
	go = wait_for_start(bus, 2, KILL_MS + 2000);
	int status = stress_reap(up, 5000);
	CHECK(killed_by(status, SIGKILL), "kill: the upkeep died of SIGKILL (%s)",
	      stress_status_str(status, why, sizeof(why)));
	CHECK(go >= 0 && go < 1000, "kill: the coordinator goes on at once, "
	      "%.1f ms after the kill (bound %d ms)", go, KILL_MS);
	tr = transition_into(bus, sess[2].s.date);
	CHECK(tr >= PAUSE_MS && tr < 1500, "kill: that transition lasted %.1f ms "
	      "(%d..1500)", tr, PAUSE_MS);
	CHECK(counter(bus, BB_CTR_UPKEEP_WAITS) == 2 &&
	      counter(bus, BB_CTR_UPKEEP_TIMEOUTS) == 0,
	      "kill: 2 waits, no timeout (waits %llu, timeouts %llu)",
	      (unsigned long long)counter(bus, BB_CTR_UPKEEP_WAITS),
	      (unsigned long long)counter(bus, BB_CTR_UPKEEP_TIMEOUTS));
	status = stress_reap(co, 30000);
	reader_finish(&rd);
	CHECK(exited0(status), "kill: the coordinator finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	check_reader(&rd, "kill", 0, N);
	check_table(bus, "kill", N - 1);
}

/* ---- resume: a stopped upkeep given up on, then continued --------------- */

/*
 * Given up on at the first boundary (stopped before the bus existed), the
 * upkeep is continued at once; stopped again inside the third session, it
 * has moved since it was given up on, so the boundary after that session
 * waits for it again (no timeout at once) until it is continued.
 */
static void scenario_resume(const char *bus)
{
	enum { N = 4 };
	struct rd rd;
	char why[64];
	int ws = -1;
	uint64_t outs = 0;
	bb_status st;

	pid_t up = upkeep(bus, "resume");
	for (int i = 0; i < 2000 && (ws = upkeep_lock_state(bus)) != BB_WRITER_ALIVE;
	     i++)
		stress_sleep_ns(5 * MS);
	if (ws != BB_WRITER_ALIVE || !stop_child(up))
		stress_fatal("resume: the upkeep never took up.status, or would "
		             "not stop");
	pid_t co = coordinator(bus, "resume", sess[0].s.date, sess[N - 1].s.date,
	                       stress_tsan() ? PACE_TSAN : PACE, STOP_MS);
	reader_start(&rd, bus, BB_RING_FROM_OLDEST);
	for (int i = 0; i < 1000 && (outs = counter(bus, BB_CTR_UPKEEP_TIMEOUTS))
	     == 0; i++)
		stress_sleep_ns(5 * MS);
	kill(up, SIGCONT);
	CHECK(outs == 1, "resume: the first boundary gave the stopped upkeep up "
	      "(%llu timeouts)", (unsigned long long)outs);
	if (!stop_mid_session(up, bus, 2))
		stress_fatal("resume: could not stop the upkeep inside session %d "
		             "(timing)", sess[2].s.date);
	uint64_t w = counter(bus, BB_CTR_UPKEEP_WAITS);
	CHECK(wait_for_wait(bus, 2, w + 1, 5000), "resume: stopped again inside "
	      "%d, the upkeep is waited for after it (it moved since it was "
	      "given up on)", sess[2].s.date);
	stress_sleep_ns(STOP_MS / 3 * MS);
	CHECK(bus_status(bus, &st) == 0 && st.date == sess[2].s.date &&
	      st.state == BB_STATE_ENDED &&
	      counter(bus, BB_CTR_UPKEEP_TIMEOUTS) == 1, "resume: %d ms later "
	      "the coordinator still waits for it", STOP_MS / 3);
	kill(up, SIGCONT);
	int status = stress_reap(co, 30000);
	reader_finish(&rd);
	CHECK(exited0(status), "resume: the coordinator finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	status = stress_reap(up, 10000);
	CHECK(exited0(status), "resume: the upkeep, continued, finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	outs = counter(bus, BB_CTR_UPKEEP_TIMEOUTS);
	CHECK(outs == 1, "resume: that wait ended with the upkeep's answer: 1 "
	      "timeout in all (%llu)", (unsigned long long)outs);
	check_reader(&rd, "resume", 0, N);
	check_table(bus, "resume", N - 1);
}

/* ---- pace: never more than a few minutes ahead of the upkeep ----------- */

#define PACE_NSYM 1024 /* the coordinator's 4096 bars ahead: 4 minutes */
#define PACE_TO   20240702

static void scenario_pace(const char *bus)
{
	struct rd rd;
	char why[64], log[128], db2[128], to[16];
	int ws = -1;

	snprintf(db2, sizeof(db2), "%s/db-pace", dir);
	if (stress_sh("%s/barbus-gen --db %s --symbols %d --from 2024-07-01 --to "
	              "2024-07-02 --seed 6 -q >/dev/null 2>&1", bin, db2,
	              PACE_NSYM) != 0)
		stress_fatal("barbus-gen");
	snprintf(log, sizeof(log), "%s/up-pace.log", dir);
	pid_t up = spawn(log, "barbus-upkeep", (const char *const[]){
		"--bus", bus, "--db", db2, "--history-days", "0", NULL });
	for (int i = 0; i < 2000 && (ws = upkeep_lock_state(bus)) != BB_WRITER_ALIVE;
	     i++)
		stress_sleep_ns(5 * MS);
	if (ws != BB_WRITER_ALIVE)
		stress_fatal("pace: the upkeep never took up.status");
	snprintf(log, sizeof(log), "%s/co-pace.log", dir);
	bb_date_format(PACE_TO, to);
	pid_t co = spawn(log, "barbus-coordinator", (const char *const[]){
		"--bus", bus, "--db", db2, "--history-days", "0",
		"--upkeep-wait-ms", "5000", "backtest", "--from", "2024-07-01",
		"--to", to, "--speed", "max", NULL });
	reader_open(&rd, bus, BB_RING_FROM_OLDEST);
	rd.pace_sym = PACE_NSYM - 1;
	rd.pace_lag = (4096 + PACE_NSYM - 1) / PACE_NSYM;
	rd.pace_bus = bus;
	reader_run(&rd);
	int status = stress_reap(co, 60000);
	reader_finish(&rd);
	CHECK(exited0(status), "pace: the coordinator finished (%s)",
	      stress_status_str(status, why, sizeof(why)));
	CHECK(rd.paced > 300 && rd.ahead == 0, "pace: at each of %llu "
	      "MINUTE_END(t) of the second session, the upkeep had completed "
	      "minute t - %u (or was in a later session): %llu were further "
	      "ahead (first: minute %lld, expected %u)",
	      (unsigned long long)rd.paced, rd.pace_lag + 1,
	      (unsigned long long)rd.ahead,
	      rd.ahead ? (long long)((rd.ahead_t - sess[0].s.open) % 86400 / 60)
	               : -1LL, rd.ahead_exp);
	CHECK(counter(bus, BB_CTR_UPKEEP_TIMEOUTS) == 0 && rd.lost == 0,
	      "pace: no boundary timed out (%llu), no record lost (%llu)",
	      (unsigned long long)counter(bus, BB_CTR_UPKEEP_TIMEOUTS),
	      (unsigned long long)rd.lost);
	status = stress_reap(up, 5000);
	CHECK(exited0(status), "pace: the upkeep ended with the data (%s)",
	      stress_status_str(status, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	char why[64];
	(void)argc;

	stress_init("up-wait", 120);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-upwait-XXXXXX");
	if (mkdtemp(dir) == NULL || bb_calendar_load(&cal, "XNYS", NULL, 0) != 0)
		stress_fatal("setup");
	snprintf(db, sizeof(db), "%s/db", dir);
	if (stress_sh("%s/barbus-gen --db %s --symbols %d --from 2024-07-01 --to "
	       "2024-07-09 --seed 5 -q >/dev/null 2>&1", bin, db, NSYM) != 0)
		stress_fatal("barbus-gen");
	load_sessions();
	if (nsess != 6)
		stress_fatal("%d sessions in the calendar, want 6", nsess);
	int64_t t0 = stress_now_ns();

	const char *bus = stress_bus("stop");
	pid_t up;
	scenario_stop(bus, &up);
	/* The stopped upkeep dies: its segments stay, its lock goes. */
	kill(up, SIGKILL);
	kill(up, SIGCONT);
	int status = stress_reap(up, 5000);
	CHECK(killed_by(status, SIGKILL) &&
	      upkeep_lock_state(bus) == BB_WRITER_DEAD,
	      "dead: the stopped upkeep killed (%s), its up.status left with "
	      "nobody holding it", stress_status_str(status, why, sizeof(why)));
	scenario_nowait(bus, "dead", 0);
	scenario_nowait(stress_bus("none"), "none", BB_RING_FROM_OLDEST);
	scenario_again(stress_bus("again"));
	scenario_kill(stress_bus("kill"));
	scenario_resume(stress_bus("resume"));
	scenario_pace(stress_bus("pace"));

	INFO("%.1f s", (stress_now_ns() - t0) / 1e9);
	bb_calendar_free(cal);
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
