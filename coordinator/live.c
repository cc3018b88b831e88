/*
 * live.c: the live coordinator's loop: read the feed as it comes, end
 * minutes and sessions on the clock (the feed's bar times, or the wall
 * clock), and end a session when no data came for the no-data timeout.
 * At the end of the feed the open session ends by that timeout and the
 * coordinator returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "ring.h"

#define LINE_MAX_BYTES 4096

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
		bb__ctl_add(f->p->ctl, BB_CTR_FEED_BAD, 1);
		r->skipping = 1;
	}
	if (r->skipping)
		r->len = 0;
	return rc;
}

/* Read what is there; 1 when something was read. */
static int read_some(struct reader *r, struct co_feed *f, int *rc)
{
	ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);

	if (n < 0) {
		*rc = errno == EINTR || errno == EAGAIN ? 0 : errno;
		return 0;
	}
	if (n == 0) {
		r->eof = 1;
		if (r->len > 0) { /* a last line without its newline */
			r->buf[r->len++] = '\n';
			*rc = feed_lines(r, f);
		}
		return 0;
	}
	r->len += (size_t)n;
	*rc = feed_lines(r, f);
	return 1;
}

/*
 * Wall clock, between sessions: a session opens at its open even before
 * any data (its empty minutes are minutes too); until then the next one is
 * announced as pre-open.
 */
static int wall_session(struct co_feed *f, int64_t now_ms)
{
	bb_session s;
	int64_t t = now_ms / 1000;

	if (bb_calendar_at(f->cal, t, &s) == 0 && s.date > f->last_date)
		return co_feed_start_session(f, &s);
	if (bb_calendar_next(f->cal, bb_days_to_date(t / 86400), &s) == 0 &&
	    s.open <= t) /* today's is over: the next one */
		bb_calendar_next(f->cal, bb_days_to_date(t / 86400 + 1), &s);
	if (s.open > t)
		co_pub_preopen(f->p, &s);
	return 0;
}

/* Wall clock: minutes end grace after their end; the session at close. */
static int wall_timers(struct co_feed *f, const struct co_live *lv)
{
	int64_t now = wall_ms();
	int rc = 0;

	if (!f->open && (rc = wall_session(f, now)) != 0)
		return rc;
	while (rc == 0 && f->open && f->minute < f->s.close &&
	       now >= (f->minute + 60) * 1000 + lv->grace_ms)
		rc = co_feed_minute_end(f);
	if (rc == 0 && f->open && now >= f->s.close * 1000 + lv->grace_ms)
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
	struct co_pub *p = f->p;
	struct resume_scan r = { .last_minute_end = INT64_MIN };

	if (!p->attached || p->st.mode != BB_MODE_LIVE)
		return 0;
	if (p->st.state != BB_STATE_OPEN) {
		f->last_date = p->st.date;
		return 0;
	}
	f->s = (bb_session){ .date = p->st.date, .open = p->st.open,
	                     .close = p->st.close };
	int rc = bb__ring_writer_scan_back(p->ring, collect, &r);
	if (rc < 0 || !r.found) {
		free(r.bars);
		return rc < 0 && rc != BB_EEMPTY ? rc : BB_ENOTFOUND;
	}
	co_pub_session_reopen(p, &f->s);
	f->open = 1;
	f->minute = r.last_minute_end == INT64_MIN ? f->s.open
	                                           : r.last_minute_end + 60;
	for (size_t i = r.n; i-- > 0 && rc >= 0;) { /* oldest first */
		rc = co_pub_table_bar(p, &r.bars[i]);
		f->last_t[r.bars[i].symbol] = r.bars[i].time;
		if (r.bars[i].time >= f->minute)
			f->minute_bars++;
	}
	free(r.bars);
	return rc > 0 ? 0 : rc;
}

static int open_feed(const char *path)
{
	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Poll timeout: the next timer, at most 100 ms. */
static int next_timeout_ms(const struct co_feed *f, const struct co_live *lv,
                           int64_t last_data)
{
	int64_t ms = 100;

	if (f->open) {
		int64_t left = (last_data + (int64_t)lv->no_data_timeout_s *
		                1000000000 - mono_ns()) / 1000000;
		if (left < ms)
			ms = left < 0 ? 0 : left;
	}
	return (int)ms;
}

int co_live_run(struct co_pub *p, bb_store *st, const bb_calendar *cal,
                const struct co_live *lv, volatile sig_atomic_t *stop)
{
	struct co_feed f = { 0 };
	struct reader *r = calloc(1, sizeof(*r));
	int rc = r ? co_feed_init(&f, p, st, cal, lv->feed) : ENOMEM;

	if (rc == 0 && (rc = co_feed_resume(&f)) == 0 &&
	    (r->fd = open_feed(lv->feed)) < 0)
		rc = errno;
	int64_t last_data = mono_ns();
	while (rc == 0 && !*stop && !(r->eof && !f.open)) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		int n = r->eof ? 0 : poll(&pfd, 1, next_timeout_ms(&f, lv, last_data));
		if (r->eof)
			usleep(next_timeout_ms(&f, lv, last_data) * 1000);
		if (n > 0 && read_some(r, &f, &rc))
			last_data = mono_ns();
		if (rc == 0 && !lv->feed_clock)
			rc = wall_timers(&f, lv);
		if (rc == 0 && f.open && mono_ns() - last_data >=
		    (int64_t)lv->no_data_timeout_s * 1000000000)
			rc = co_feed_close_session(&f, BB_END_TIMEOUT);
		if (rc == 0)
			rc = co_feed_flush(&f);
		co_pub_beat(p);
	}
	if (r != NULL && r->fd > STDIN_FILENO)
		close(r->fd);
	co_feed_free(&f);
	free(r);
	return rc;
}
