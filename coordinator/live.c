/*
 * live.c: the live coordinator's loop: read the feed as it comes, end
 * minutes and sessions on the clock (the feed's bar times, or the wall
 * clock). A session ends at its close only. No data for the no-data timeout
 * while a session is open (counted from its open or the last data,
 * whichever is later) is a stall: a status, cleared by the next data. Once
 * the feed has given data and reached its end (a FIFO or pipe whose writers
 * closed it, a file read to its end), the coordinator returns when no
 * session is open: on the wall clock after the close, with the feed's clock
 * (which cannot reach the close any more) after the same timeout, the
 * session then ending as timer-expired.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "live.h"

#define LINE_MAX_BYTES 4096

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wall clock in ms; for tests, one that reads lv->clock_start at real
 * ms lv->clock_epoch_ms (or at mono0) and runs lv->clock_rate times
 * faster. A restarted coordinator given the same epoch reads the same. */
static int64_t wall_ms(const struct co_live *lv, int64_t mono0)
{
	int64_t rate = lv->clock_rate ? lv->clock_rate : 1;

	if (lv->clock_start == 0)
		return real_ms();
	if (lv->clock_epoch_ms != 0)
		return lv->clock_start * 1000 + (real_ms() - lv->clock_epoch_ms) * rate;
	return lv->clock_start * 1000 + (bb__mono_ns() - mono0) / 1000000 * rate;
}

struct reader {
	int    fd, eof;
	char   buf[1 << 16];
	size_t len;
	int    skipping; /* inside an over-long line */
};

/* Feed every complete line of r->buf to f; keep the partial tail. */
static int feed_lines(struct reader *r, struct co_feed *f)
{
	size_t start = 0;
	int rc = 0;

	for (size_t i = 0; i < r->len && rc == 0; i++) {
		if (r->buf[i] != '\n')
			continue;
		if (!r->skipping)
			rc = co_feed_line(f, r->buf + start, i - start);
		r->skipping = 0;
		start = i + 1;
	}
	memmove(r->buf, r->buf + start, r->len - start);
	r->len -= start;
	if (r->len >= LINE_MAX_BYTES && !r->skipping) {
		f->lineno++;
		fprintf(stderr, "%s:%llu: line longer than %d bytes\n", f->name,
		        (unsigned long long)f->lineno, LINE_MAX_BYTES);
		bb__bw_count(f->p, BB_CTR_FEED_BAD, 1);
		r->skipping = 1;
	}
	if (r->skipping)
		r->len = 0;
	return rc;
}

/* Read what is there; 1 when something was read. At the end of the file
 * (or of the FIFO's writers) eof is set; a partial last line waits, as a
 * file being appended to may complete it. */
static int read_some(struct reader *r, struct co_feed *f, int *rc)
{
	ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);

	if (n < 0) {
		*rc = errno == EINTR || errno == EAGAIN ? 0 : errno;
		return 0;
	}
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->eof = 0;
	r->len += (size_t)n;
	*rc = feed_lines(r, f);
	return 1;
}

/* The feed is over: a last line without its newline is a line too. */
static int last_line(struct reader *r, struct co_feed *f)
{
	if (r->len == 0 || r->skipping)
		return 0;
	r->buf[r->len++] = '\n';
	return feed_lines(r, f);
}

/*
 * Wall clock, between sessions: a session opens at its open even before
 * any data (its empty minutes are minutes too); until then the next one is
 * announced as pre-open.
 */
static int wall_session(struct co_feed *f, int64_t now_ms)
{
	bb_session s = { 0 };
	int64_t t = now_ms / 1000;

	if (bb_calendar_at(f->cal, t, &s) == 0 && s.date > f->last_date)
		return co_feed_start_session(f, &s);
	if (bb_calendar_next(f->cal, bb_days_to_date(t / 86400), &s) == 0 &&
	    s.open <= t) /* today's is over: the next one */
		bb_calendar_next(f->cal, bb_days_to_date(t / 86400 + 1), &s);
	if (s.open > t)
		bb__bw_preopen(f->p, &s);
	return 0;
}

/* Wall clock: minutes end grace after their end; the session at close. */
static int wall_timers(struct co_feed *f, const struct co_live *lv,
                       int64_t now)
{
	/* grace is real time: a test clock running faster stretches it */
	int64_t grace = (int64_t)lv->grace_ms * (lv->clock_rate ? lv->clock_rate : 1);
	int rc = 0;

	if (!f->open && (rc = wall_session(f, now)) != 0)
		return rc;
	while (rc == 0 && f->open && f->minute < f->s.close &&
	       now >= (f->minute + 60) * 1000 + grace)
		rc = co_feed_minute_end(f);
	if (rc == 0 && f->open && now >= f->s.close * 1000 + grace)
		rc = co_feed_close_session(f, BB_END_CLOSE);
	return rc;
}

struct resume_scan {
	int32_t date;
	bb_bar *bars;
	size_t  n, cap;
	int64_t last_minute_end;
	int     found;
};

static int collect(void *arg, const bb_bar *rec)
{
	struct resume_scan *r = arg;
	uint32_t kind = BB_KIND(rec->flags);

	if (kind == BB_KIND_SESSION_START) {
		r->found = 1;
		return 1;
	}
	if (kind == BB_KIND_MINUTE_END && r->last_minute_end == INT64_MIN)
		r->last_minute_end = rec->time;
	if (kind != BB_KIND_BAR)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		bb_bar *q = realloc(r->bars, r->cap * sizeof(*q));
		if (q == NULL)
			return ENOMEM;
		r->bars = q;
	}
	r->bars[r->n++] = *rec;
	return 0;
}

int co_feed_resume(struct co_feed *f)
{
	struct bb__bw *p = f->p;
	const bb_status *st = bb__bw_status(p);
	struct resume_scan r = { .last_minute_end = INT64_MIN };

	if (!bb__bw_attached(p) || st->mode != BB_MODE_LIVE)
		return 0;
	if (st->state != BB_STATE_OPEN) {
		f->last_date = st->date;
		return 0;
	}
	f->s = (bb_session){ .date = st->date, .open = st->open,
	                     .close = st->close };
	int rc = bb__bw_scan_back(p, collect, &r);
	if (rc < 0 || !r.found) {
		free(r.bars);
		return rc < 0 && rc != BB_EEMPTY ? rc : BB_ENOTFOUND;
	}
	bb__bw_session_reopen(p, &f->s);
	f->open = 1;
	f->minute = r.last_minute_end == INT64_MIN ? f->s.open
	                                           : r.last_minute_end + 60;
	for (size_t i = r.n; i-- > 0 && rc >= 0;) { /* oldest first */
		rc = bb__bw_table_bar(p, &r.bars[i]);
		co_feed_mark(f, &r.bars[i]);
		if (r.bars[i].time >= f->minute)
			f->minute_bars++;
	}
	free(r.bars);
	return rc > 0 ? 0 : rc;
}

/* The feed, non-blocking: a FIFO with no writer yet is a quiet feed, and
 * one whose writer went is looked at again for the next writer. */
static int open_feed(const char *path)
{
	int fd = STDIN_FILENO;

	/* stdin is left blocking (its flags are shared with whoever gave
	 * it): it is read only when poll says so, or at its end. */
	if (strcmp(path, "-") != 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	return fd;
}

struct loop {
	const struct co_live *lv;
	int64_t mono0;     /* start, for the test clock */
	int64_t last_data; /* CLOCK_MONOTONIC ns: last data or session open */
	int64_t last_wall; /* wall ms of the same */
	int     was_open;
	int     stalled;
};

static int64_t timeout_ns(const struct loop *l)
{
	return (int64_t)l->lv->no_data_timeout_s * 1000000000;
}

/* Poll timeout: the next timer, at most 100 ms. */
static int next_timeout_ms(const struct co_feed *f, const struct loop *l)
{
	int64_t ms = 100;

	if (f->open && !l->stalled) {
		int64_t left = (l->last_data + timeout_ns(l) - bb__mono_ns()) /
		               1000000;
		if (left < ms)
			ms = left < 0 ? 0 : left;
	}
	return (int)ms;
}

static void data_came(struct co_feed *f, struct loop *l)
{
	l->last_data = bb__mono_ns();
	l->last_wall = wall_ms(l->lv, l->mono0);
	if (!l->stalled)
		return;
	l->stalled = 0;
	bb__bw_stall_end(f->p);
	fprintf(stderr, "barbus-coordinator: feed %s: data again, session %d "
	        "no longer stalled\n", f->name, f->s.date);
}

/* The no-data timeout in an open session: with the feed's clock at the
 * feed's end, the end of the session; else a stall (it stays open). */
static int no_data(struct co_feed *f, struct loop *l, int at_end)
{
	char iso[24];

	/* The feed's clock cannot pass the close any more; the wall clock
	 * will, so a wall-clock session waits for it, stalled. */
	if (at_end && f->got_data && l->lv->feed_clock)
		return co_feed_close_session(f, BB_END_TIMEOUT);
	if (l->stalled)
		return 0;
	l->stalled = 1;
	bb__bw_stall(f->p, l->last_wall / 1000);
	bb_time_format(l->last_wall / 1000, iso);
	fprintf(stderr, "barbus-coordinator: feed %s: no data for %u s (since "
	        "%s): session %d stalled, still open\n", f->name,
	        l->lv->no_data_timeout_s, iso, f->s.date);
	return 0;
}

/* One turn: wait for the feed or a timer, read, run the timers. */
static int turn(struct reader *r, struct co_feed *f, struct loop *l)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int rc = 0;
	int n = r->eof ? 0 : poll(&pfd, 1, next_timeout_ms(f, l));

	if (r->eof) /* a file or FIFO at its end: look again soon */
		usleep((useconds_t)next_timeout_ms(f, l) * 1000);
	if ((n > 0 || r->eof) && read_some(r, f, &rc))
		data_came(f, l);
	if (rc == 0 && !l->lv->feed_clock)
		rc = wall_timers(f, l->lv, wall_ms(l->lv, l->mono0));
	if (f->open && !l->was_open) { /* the timeout counts from the open */
		l->last_data = bb__mono_ns();
		l->last_wall = wall_ms(l->lv, l->mono0);
		l->stalled = 0;
	}
	l->was_open = f->open;
	if (rc == 0 && f->open &&
	    bb__mono_ns() - l->last_data >= timeout_ns(l)) {
		if (r->eof && f->got_data)
			rc = last_line(r, f);
		if (rc == 0)
			rc = no_data(f, l, r->eof);
	}
	if (rc == 0)
		rc = co_feed_flush(f);
	bb__bw_beat(f->p);
	return rc;
}

int co_live_run(struct bb__bw *p, bb_store *st, const bb_calendar *cal,
                const struct co_live *lv, volatile sig_atomic_t *stop)
{
	struct co_feed f = { 0 };
	struct reader *r = calloc(1, sizeof(*r));
	struct loop l = { .lv = lv, .mono0 = bb__mono_ns() };
	int rc = r ? co_feed_init(&f, p, st, cal, lv->feed) : ENOMEM;

	if (rc == 0 && (rc = co_feed_resume(&f)) == 0 &&
	    (r->fd = open_feed(lv->feed)) < 0) {
		rc = errno;
		fprintf(stderr, "barbus-coordinator: feed %s: %s\n", lv->feed,
		        strerror(rc));
	}
	l.last_data = bb__mono_ns();
	l.last_wall = wall_ms(lv, l.mono0);
	l.was_open = f.open;
	l.stalled = bb__bw_status(p)->stalled_since != 0;
	while (rc == 0 && !*stop && !(r->eof && f.got_data && !f.open))
		rc = turn(r, &f, &l);
	if (r != NULL && r->fd > STDIN_FILENO)
		close(r->fd);
	co_feed_free(&f);
	free(r);
	return rc;
}
