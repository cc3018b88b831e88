/*
 * source.c: `barbus-bridge publish`. Follows a bus (history, then the
 * session table's snapshot, then the ring) and publishes frames
 * (docs/bridge.md) in position order. A frame at or before the stream's
 * last position is skipped, so a restarted publisher goes on where the
 * stream stands; the message id makes a frame sent twice stored once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "frame.h"
#include "keysort.h"
#include "up.h"

#define HISTORY_CHUNK_BYTES (512u * 1024) /* under NATS' 1 MB payload */
#define NEXT_MINUTE INT64_MIN              /* a ring bar: the next MINUTE */
#define OWED_MAX 64                        /* upkeep blocks owed, at most */

/* A session whose upkeep block could not go when its turn came. */
struct owed {
	uint64_t   number;
	bb_session ses;
};

struct pending {
	bb_bar  *bars;
	int64_t *minute; /* the MINUTE frame each bar goes in */
	size_t   n, cap;
};

struct src {
	const struct br_opts *o;
	struct br_js   j;
	bb_bus        *bus;
	bb_follow     *f;
	uint64_t       last;      /* position of the last frame stored */
	int            have_last;
	uint64_t       number;    /* current session number */
	bb_session     session;
	uint32_t       nsym_sent; /* directory size in the last HELLO */
	/* --symbols: the bus's ids in the stream's: out_of[source id] (or
	 * UINT32_MAX: not published) for the nmap first; src_of[stream id]. */
	uint32_t      *out_of, *src_of;
	uint32_t       nmap, nout;
	struct pending p;
	uint8_t       *buf;
	size_t         bufcap;
	struct br_upsrc *up;      /* the upkeep's segments */
	int            snapshot;  /* sending a snapshot's minutes: the
	                             upkeep's state goes once, after them */
	struct owed    owed[OWED_MAX];
	uint32_t       nowed;
	int            late;      /* sending an owed block: its position is
	                             behind the stream's last */
};

static uint8_t *buf_for(struct src *s, size_t n)
{
	if (n > s->bufcap) {
		uint8_t *b = realloc(s->buf, n);
		if (b == NULL)
			return NULL;
		s->buf = b;
		s->bufcap = n;
	}
	return s->buf;
}

/* Publish frame f (header in s->buf, len bytes) unless the stream has it. */
static int send(struct src *s, const struct br_frame *f, size_t len,
                const char *suffix)
{
	char id[BB_NAME_MAX + 48];

	/* A history session the stream has not got whole (its end was not
	 * published before a restart) goes out whole; the mirror replaces
	 * each symbol's rows with it. */
	if (s->have_last && f->type == BR_HISTORY && f->pos >> 32 < s->last >> 32)
		return 0;
	if (s->have_last && f->type != BR_HISTORY && f->pos <= s->last &&
	    !s->late)
		return 0;
	snprintf(id, sizeof(id), "%s-%llx%s", s->o->bus,
	         (unsigned long long)f->pos, suffix);
	/* Sent without waiting: a failure is sent again in order (pub.c). */
	int rc = br_js_send(&s->j, s->o, s->o->subject, id, s->buf, len);
	if (rc == 0 && !(s->late && s->have_last && f->pos < s->last)) {
		s->last = f->pos;
		s->have_last = 1;
	}
	return rc;
}

/* br_up_emit: an upkeep frame through send(); *stored when the stream
 * took it now. */
static int up_emit(void *ctx, const struct br_frame *f, const uint8_t *data,
                   size_t len, int *stored)
{
	struct src *s = ctx;
	uint64_t before = s->last;
	int had = s->have_last;

	if (buf_for(s, len) == NULL)
		return ENOMEM;
	memcpy(s->buf, data, len);
	int rc = send(s, f, len, "");
	*stored = rc == 0 && s->have_last && s->last == f->pos &&
	          (!had || before < f->pos);
	return rc;
}

static struct br_up_map up_map(const struct src *s)
{
	return (struct br_up_map){ .src_of = s->src_of, .n = s->nout };
}

/* The upkeep's UP frame of minute m, once it has taken m. */
static int up_minute(struct src *s, int64_t m)
{
	struct br_up_map map = up_map(s);

	return br_upsrc_minute(s->up, &map, &s->session, s->number, m, up_emit,
	                       s);
}

/* Note session `number`'s upkeep block as owed (the oldest forgotten
 * when full: it leaves the upkeep's history first). */
static void owe(struct src *s, const bb_session *ses, uint64_t number)
{
	for (uint32_t i = 0; i < s->nowed; i++)
		if (s->owed[i].number == number)
			return;
	if (s->nowed == OWED_MAX)
		memmove(s->owed, s->owed + 1, --s->nowed * sizeof(*s->owed));
	s->owed[s->nowed++] = (struct owed){ number, *ses };
}

/*
 * The upkeep blocks owed, those the upkeep has now: an upkeep that came
 * after the session, or finished it after the publisher went on (a
 * full-speed backtest). Sent behind the stream's last position (their
 * message ids are new), so that a mirror's upkeep history is whole.
 */
static int pay_owed(struct src *s)
{
	struct br_up_map map = up_map(s);
	uint32_t keep = 0;
	int rc = 0;

	for (uint32_t i = 0; i < s->nowed; i++) {
		int owed = 1;
		if (rc == 0) {
			s->late = 1;
			rc = br_upsrc_block(s->up, &map, &s->owed[i].ses,
			                    s->owed[i].number, up_emit, s, &owed);
			s->late = 0;
		}
		if (owed)
			s->owed[keep++] = s->owed[i];
	}
	s->nowed = keep;
	return rc;
}

/* The session's end published: the upkeep's end of it. */
static int up_end(struct src *s)
{
	struct br_up_map map = up_map(s);
	int owed = 0;
	int rc = br_upsrc_end(s->up, &map, &s->session, s->number, up_emit, s,
	                      &owed);

	if (rc == 0 && owed)
		owe(s, &s->session, s->number);
	return rc == 0 ? pay_owed(s) : rc;
}

/* name is in --symbols, or there is none. */
static int selected(const struct br_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nsymbols; i++)
		if (strcmp(o->symbols[i], name) == 0)
			return 1;
	return o->nsymbols == 0;
}

/* Extend the id maps to the bus's directory now: the selected symbols get
 * stream ids in source id order (a symbol added later, the next). */
static int build_map(struct src *s)
{
	uint32_t n = bb_symbol_count(s->bus);
	char name[BB_SYMBOL_MAX + 1];

	if (n <= s->nmap)
		return 0;
	uint32_t *o = realloc(s->out_of, n * sizeof(*o));
	if (o == NULL)
		return ENOMEM;
	s->out_of = o;
	uint32_t *q = realloc(s->src_of, n * sizeof(*q));
	if (q == NULL)
		return ENOMEM;
	s->src_of = q;
	for (uint32_t i = s->nmap; i < n; i++) {
		s->out_of[i] = UINT32_MAX;
		if (bb_symbol_name(s->bus, i, name, sizeof(name)) == 0 &&
		    selected(s->o, name)) {
			s->out_of[i] = s->nout;
			s->src_of[s->nout++] = i;
		}
	}
	s->nmap = n;
	return 0;
}

static int send_hello(struct src *s)
{
	bb_table *t = NULL;
	bb_ring_info ri;
	bb_status st;
	uint32_t nsrc = bb_symbol_count(s->bus), n;
	char name[BB_SYMBOL_MAX + 1], id[BB_NAME_MAX + 32];
	int rc = build_map(s);

	n = s->nout;
	if (rc == 0)
		rc = bb_table_open(&t, s->o->bus, "bars.1m");

	if (rc == 0)
		rc = bb_ring_info_get(s->o->bus, &ri);
	if (rc == 0)
		rc = bb_bus_status(s->bus, &st);
	if (rc != 0) {
		bb_table_close(t);
		return rc;
	}
	/* time: when the bus was made, so a stream of an earlier bus of the
	 * same name is told apart (same_bus()). */
	struct br_frame f = { .type = BR_HELLO, .count = n,
	                      .time = bb_bus_created(s->bus),
	                      .geom = { bb_table_symbols(t), bb_table_symbols(t),
	                                bb_table_rows(t), 0, ri.capacity,
	                                st.mode } };
	bb_table_close(t);
	/* The history blocks: hist.0 .. hist.K exist, K = history. */
	for (uint32_t k = 0; k < 64; k++) {
		char role[16];
		bb_seg_info si;
		snprintf(role, sizeof(role), "hist.%u", k);
		if (bb_seg_inspect(s->o->bus, role, &si) != 0)
			break;
		f.geom.history = k;
	}
	size_t len = br_frame_bytes(BR_HELLO, n, 0);
	if (buf_for(s, len) == NULL)
		return ENOMEM;
	br_frame_put(s->buf, &f);
	for (uint32_t i = 0; i < n; i++) {
		bb_symbol_name(s->bus, s->src_of[i], name, sizeof(name));
		br_name_put(s->buf, i, name);
	}
	snprintf(id, sizeof(id), "%s-hello-%llx-%u", s->o->bus,
	         (unsigned long long)bb_bus_created(s->bus), n);
	rc = br_js_publish(&s->j, s->o, s->o->hello, id, s->buf, len);
	if (rc == 0)
		s->nsym_sent = nsrc;
	return rc;
}

/* One chunk of history session `back` (number): symbols [first, end). */
static int send_history_chunk(struct src *s, const bb_session *hs,
                              uint64_t number, uint32_t back, uint32_t first,
                              uint32_t end, const bb_bar *bars,
                              const uint32_t *counts, uint32_t total)
{
	(void)back;
	struct br_frame f = { .type = BR_HISTORY, .count = total,
	                      .date = hs->date, .time = hs->open,
	                      .pos = br_pos(number, BR_SUB_HISTORY),
	                      .session = *hs, .first = first,
	                      .nsym = end - first };
	size_t len = br_frame_bytes(BR_HISTORY, total, end - first);
	char suffix[16];

	if (buf_for(s, len) == NULL)
		return ENOMEM;
	br_frame_put(s->buf, &f);
	for (uint32_t k = first; k < end; k++)
		br_count_put(s->buf, k - first, counts[k - first]);
	for (uint32_t i = 0; i < total; i++)
		br_rec_put(s->buf, &f, i, &bars[i]);
	snprintf(suffix, sizeof(suffix), "-%u", first);
	return send(s, &f, len, suffix);
}

/*
 * Session number `number`, `back` sessions before the current one when
 * the bus's status said `sessions`: *hs. bb_history_session() counts
 * `back` from the status as it is when called: with the status the same
 * before and after, the session is the one numbered, else BB_ERETRY (the
 * coordinator went on to another session meanwhile).
 */
static int history_of(struct src *s, uint32_t back, uint64_t sessions,
                      bb_session *hs)
{
	bb_status a, b;
	int rc = bb_bus_status(s->bus, &a);

	if (rc == 0)
		rc = bb_history_session(s->bus, back, hs);
	if (rc != 0 && rc != BB_ENOTFOUND)
		return rc;
	int again = bb_bus_status(s->bus, &b);
	if (again != 0)
		return again;
	return a.sessions == sessions && b.sessions == sessions ? rc : BB_ERETRY;
}

/* History session `back` before the current one, in chunks of symbols:
 * session hs; every symbol's rows are checked to be of it (BB_ERETRY when
 * the coordinator rolled history meanwhile). */
static int send_history(struct src *s, uint32_t back, uint64_t number,
                        const bb_session *hs)
{
	uint32_t nsym = s->nout, rows = 1440 * 2;
	size_t cap = HISTORY_CHUNK_BYTES / BR_REC_BYTES + rows;
	bb_bar *bars = malloc(cap * sizeof(*bars));
	uint32_t *counts = malloc((nsym + 1) * sizeof(*counts));
	int rc = bars && counts ? 0 : ENOMEM;
	uint32_t first = 0, total = 0;

	for (uint32_t sym = 0; rc == 0 && sym < nsym; sym++) {
		size_t got = 0;
		int32_t date;
		rc = bb_history(s->bus, back, s->src_of[sym], bars + total, rows,
		                &got, &date);
		for (size_t i = 0; rc == 0 && i < got; i++)
			bars[total + i].symbol = sym;
		if (rc == 0 && date != hs->date)
			rc = BB_ERETRY; /* the coordinator rolled history meanwhile */
		counts[sym - first] = (uint32_t)got;
		total += (uint32_t)got;
		if (rc == 0 && (sym + 1 == nsym ||
		                (size_t)(total + rows) > cap - rows)) {
			rc = send_history_chunk(s, hs, number, back, first, sym + 1,
			                        bars, counts, total);
			first = sym + 1;
			total = 0;
		}
	}
	free(bars);
	free(counts);
	return rc == BB_ENOTFOUND ? 0 : rc;
}

static int send_session(struct src *s, int type, uint32_t sub, uint32_t extra)
{
	struct br_frame f = { .type = (uint8_t)type, .date = s->session.date,
	                      .time = s->session.open,
	                      .pos = br_pos(s->number, sub), .session = s->session,
	                      .reason = extra, .history = extra };
	size_t len = br_frame_bytes(type, 0, 0);

	if (buf_for(s, len) == NULL)
		return ENOMEM;
	br_frame_put(s->buf, &f);
	return send(s, &f, len, "");
}

static int pend_add(struct pending *p, const bb_bar *b, int64_t minute)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		bb_bar *nb = realloc(p->bars, cap * sizeof(*nb));
		if (nb == NULL)
			return ENOMEM;
		p->bars = nb;
		int64_t *nm = realloc(p->minute, cap * sizeof(*nm));
		if (nm == NULL)
			return ENOMEM;
		p->minute = nm;
		p->cap = cap;
	}
	p->bars[p->n] = *b;
	p->minute[p->n++] = minute;
	return 0;
}

/* Bar b of the bus (its source id) pending in its stream id, unless
 * --symbols leaves its symbol out. */
static int pend_bar(struct src *s, const bb_bar *b, int64_t minute)
{
	if (b->symbol >= s->nmap) {
		int rc = build_map(s);
		if (rc != 0)
			return rc;
	}
	if (b->symbol >= s->nmap || s->out_of[b->symbol] == UINT32_MAX)
		return 0;
	bb_bar m = *b;
	m.symbol = s->out_of[b->symbol];
	return pend_add(&s->p, &m, minute);
}

/* --json-subjects: each bar of the MINUTE frame f just stored, as the JSON
 * line of barbus-tail --json without its newline, on
 * barbus.<bus>.1m.<symbol> (plain NATS: no acknowledgement awaited). */
static int send_json(struct src *s, size_t len)
{
	char sym[BB_SYMBOL_MAX + 1];
	struct br_frame f;
	bb_bar b;
	int rc = br_frame_get(s->buf, len, &f, NULL);

	for (uint32_t i = 0; i < f.count && rc == 0; i++) {
		br_rec_get(&f, i, &b);
		if (b.symbol >= s->nout ||
		    bb_symbol_name(s->bus, s->src_of[b.symbol], sym, sizeof(sym)) != 0)
			snprintf(sym, sizeof(sym), "%u", b.symbol);
		rc = br_json_bar(&s->j, s->o->bus, 1, sym, &b);
	}
	return rc;
}

/* The MINUTE frame of minute m: pending bars [from, to), in order. */
static int send_minute(struct src *s, int64_t m, size_t from, size_t to)
{
	struct pending *p = &s->p;
	struct br_frame f = { .type = BR_MINUTE, .count = (uint32_t)(to - from),
	                      .date = s->session.date, .time = m,
	                      .pos = br_pos(s->number,
	                                    br_sub_minute(s->session.open, m)) };
	size_t len = br_frame_bytes(BR_MINUTE, f.count, 0);

	if (buf_for(s, len) == NULL)
		return ENOMEM;
	br_frame_put(s->buf, &f);
	for (size_t i = from; i < to; i++)
		br_rec_put(s->buf, &f, (uint32_t)(i - from), &p->bars[i]);
	uint64_t last = s->last;
	int sent_before = s->have_last;
	int rc = send(s, &f, len, "");
	/* Only a frame this call stored: not one the stream had already; its
	 * JSON once the stream has acknowledged it. */
	if (rc == 0 && s->o->json_subjects && (!sent_before || last < f.pos) &&
	    s->last == f.pos && (rc = br_js_drain(&s->j, s->o)) == 0)
		rc = send_json(s, len);
	return rc == 0 && !s->snapshot ? up_minute(s, m) : rc;
}

/* The frame pending bar i goes in, flushing up to t: its minute; a ring
 * bar's is t (with_t), else none yet (INT64_MAX). */
static int64_t frame_of(const struct pending *p, size_t i, int64_t t,
                        int with_t)
{
	if (p->minute[i] != NEXT_MINUTE)
		return p->minute[i];
	return with_t ? t : INT64_MAX;
}

/* Pending bars grouped by frame, each group in its bars' order (a stable
 * sort), so that each frame is a run: a snapshot's 390 minutes of 500
 * symbols are not scanned once per minute. Keys are the frames' minutes
 * less the earliest; a bar of no frame yet (INT64_MAX) sorts last. */
static int group_pending(struct pending *p, int64_t t, int with_t)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	size_t i = 1;

	while (i < p->n && frame_of(p, i - 1, t, with_t) <=
	                   frame_of(p, i, t, with_t))
		i++;
	if (i >= p->n)
		return 0; /* grouped already: a live minute */
	struct br_keyed *k = malloc(2 * p->n * sizeof(*k));
	bb_bar *bars = malloc(p->cap * sizeof(*bars));
	int64_t *minute = malloc(p->cap * sizeof(*minute));
	if (k == NULL || bars == NULL || minute == NULL) {
		free(k), free(bars), free(minute);
		return ENOMEM;
	}
	for (i = 0; i < p->n; i++) {
		int64_t m = frame_of(p, i, t, with_t);
		k[i] = (struct br_keyed){ (uint64_t)m, i };
		if (m != INT64_MAX)
			lo = m < lo ? m : lo, hi = m > hi ? m : hi;
	}
	uint64_t none = lo == INT64_MAX ? 0 : (uint64_t)hi - (uint64_t)lo + 1;
	for (i = 0; i < p->n; i++)
		k[i].key = k[i].key == (uint64_t)INT64_MAX ? none
		           : k[i].key - (uint64_t)lo;
	struct br_keyed *o = br_keysort(k, k + p->n, p->n, none);
	for (i = 0; i < p->n; i++) {
		bars[i] = p->bars[o[i].i];
		minute[i] = p->minute[o[i].i];
	}
	free(k);
	free(p->bars);
	free(p->minute);
	p->bars = bars;
	p->minute = minute;
	return 0;
}

/* Every pending minute up to t, in order; minute t itself (with the ring's
 * bars) when `with_t`. The bars sent leave the pending list. */
static int flush_upto(struct src *s, int64_t t, int with_t)
{
	struct pending *p = &s->p;
	size_t i = 0, j;
	int rc = group_pending(p, t, with_t);

	while (rc == 0 && i < p->n && frame_of(p, i, t, with_t) < t) {
		int64_t m = frame_of(p, i, t, with_t);
		for (j = i; j < p->n && frame_of(p, j, t, with_t) == m; j++)
			;
		rc = send_minute(s, m, i, j);
		i = j;
	}
	if (rc == 0 && with_t) {
		for (j = i; j < p->n && frame_of(p, j, t, with_t) == t; j++)
			;
		rc = send_minute(s, t, i, j);
		i = j;
	}
	memmove(p->bars, p->bars + i, (p->n - i) * sizeof(*p->bars));
	memmove(p->minute, p->minute + i, (p->n - i) * sizeof(*p->minute));
	p->n -= i;
	return rc;
}

/* Snapshot bars: each to its own minute; a late one to the minute of the
 * bar before it (its place in the symbol's rows). */
static int take_snapshot(struct src *s)
{
	size_t n;
	const bb_bar *b = bb_follow_snapshot(s->f, &n);
	int64_t prev = s->session.open;
	uint32_t sym = UINT32_MAX;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (b[i].symbol != sym)
			sym = b[i].symbol, prev = s->session.open;
		if (!(b[i].flags & BB_BAR_LATE))
			prev = b[i].time;
		rc = pend_bar(s, &b[i], prev);
	}
	return rc;
}

/* Open the follower with the status before and after it agreeing on the
 * session and its state; publish what the snapshot holds. */
static int start(struct src *s)
{
	bb_status st0, st1;
	int rc;

	for (;;) {
		if ((rc = bb_bus_status(s->bus, &st0)) != 0)
			return rc;
		if ((rc = bb_follow_open(&s->f, s->o->bus, BB_WAIT_BLOCK, 0)) != 0)
			return rc;
		if ((rc = bb_bus_status(s->bus, &st1)) != 0)
			return rc;
		/* The state too: a snapshot taken while the session was
		 * open is not the whole of one the status then says ended. */
		if (st0.sessions == st1.sessions && st0.date == st1.date &&
		    st0.state == st1.state)
			break;
		bb_follow_close(s->f);
	}
	/* Sessions after the stream's last that the bus no longer holds. */
	if (s->have_last && (s->last >> 32) + 1 < st1.sessions - st1.history)
		fprintf(stderr, "barbus-bridge: bus %s: sessions %llu to %llu "
		        "left the bus's history before they were published: not "
		        "in the stream (a larger ring, or more --history-days on "
		        "the coordinator, keeps them)\n", s->o->bus,
		        (unsigned long long)(s->last >> 32) + 1,
		        (unsigned long long)(st1.sessions - st1.history - 1));
	for (uint32_t back = st1.history; back > 0; back--) {
		bb_session hs;
		struct br_up_map map = up_map(s);
		rc = history_of(s, back, st1.sessions, &hs);
		if (rc == BB_ENOTFOUND)
			continue;
		if (rc == 0)
			rc = send_history(s, back, st1.sessions - back, &hs);
		/* The upkeep's block of that session. */
		int owed = 0;
		if (rc == 0)
			rc = br_upsrc_block(s->up, &map, &hs, st1.sessions - back,
			                    up_emit, s, &owed);
		if (rc == 0 && owed)
			owe(s, &hs, st1.sessions - back);
		if (rc != 0)
			return rc;
	}
	if ((rc = pay_owed(s)) != 0)
		return rc;
	s->number = st1.sessions;
	s->session = (bb_session){ .date = st1.date, .open = st1.open,
	                           .close = st1.close };
	if (st1.sessions == 0 || st1.state < BB_STATE_OPEN)
		return 0;
	if ((rc = send_session(s, BR_SESSION_START, BR_SUB_START, st1.history)) != 0)
		return rc;
	if ((rc = take_snapshot(s)) != 0)
		return rc;
	/* The upkeep's UP frame carries all it holds of the session: one,
	 * after the snapshot's minutes, not one a minute (each of which would
	 * read every symbol's rows again). */
	s->snapshot = 1;
	if (st1.state == BB_STATE_OPEN && st0.clock >= st1.open)
		rc = flush_upto(s, st0.clock, 1);
	else if (st1.state != BB_STATE_OPEN)
		rc = flush_upto(s, INT64_MAX, 0);
	s->snapshot = 0;
	if (st1.state == BB_STATE_OPEN)
		return rc == 0 && st0.clock >= st1.open ? up_minute(s, st0.clock)
		       : rc;
	if (rc == 0)
		rc = send_session(s, BR_SESSION_END, BR_SUB_END,
		                  st1.state == BB_STATE_TIMER_EXPIRED ? BB_END_TIMEOUT
		                  : st1.state == BB_STATE_DONE ? BB_END_DATA
		                  : BB_END_CLOSE);
	return rc == 0 ? up_end(s) : rc;
}

/* start(), again while the coordinator goes on to other sessions under
 * its reading of history (BB_ERETRY: nothing pending yet then). */
static int start_settled(struct src *s)
{
	for (int tries = 0;; tries++) {
		int rc = start(s);
		if (rc != BB_ERETRY || tries == 100)
			return rc;
		bb_follow_close(s->f);
		s->f = NULL;
	}
}

/*
 * Lapped: the records lost may hold session ends and starts, so the
 * current session alone, taken again, could go out under the number of
 * one that ended meanwhile. Start again as a restarted publisher does:
 * the sessions ended since are sent from the bus's history (a session the
 * stream has part of goes out whole), then the current one's snapshot.
 * Sessions already gone from the history are said, not hidden.
 */
static int restart(struct src *s)
{
	bb_follow_close(s->f);
	s->f = NULL;
	s->p.n = 0;
	return start_settled(s);
}

static int on_record(struct src *s, const bb_bar *r)
{
	bb_session ss;
	int reason = 0;

	switch (BB_KIND(r->flags)) {
	case BB_KIND_BAR:
		return pend_bar(s, r, NEXT_MINUTE);
	case BB_KIND_MINUTE_END:
		if (bb_symbol_count(s->bus) != s->nsym_sent) {
			int rc = send_hello(s);
			if (rc != 0)
				return rc;
		}
		return flush_upto(s, r->time, 1);
	case BB_KIND_SESSION_START:
		/* Sessions numbered before this one that had no SESSION_START
		 * (the history a coordinator that started after us loaded):
		 * sent from the bus's history by starting again. */
		if (bb_event_session_number(r) > s->number + 1)
			return restart(s);
		bb_event_session_get(r, &ss, &reason);
		s->number++;
		s->session = ss;
		s->p.n = 0;
		return send_session(s, BR_SESSION_START, BR_SUB_START, 0);
	case BB_KIND_SESSION_END: {
		bb_event_session_get(r, &ss, &reason);
		int rc = flush_upto(s, INT64_MAX, 0);
		if (rc == 0)
			rc = send_session(s, BR_SESSION_END, BR_SUB_END,
			                  (uint32_t)reason);
		return rc == 0 ? up_end(s) : rc;
	}
	}
	return 0;
}

/* Follow the ring until stop, or the end of a backtest. */
static int follow(struct src *s, volatile sig_atomic_t *stop)
{
	bb_bar r;
	bb_status st;
	uint64_t lost;
	int rc = 0;

	while (rc == 0 && !*stop) {
		rc = bb_follow_next(s->f, &r, &lost, 200 * 1000000LL);
		if (rc == 0) {
			rc = on_record(s, &r);
		} else if (rc == BB_ELAPPED) {
			fprintf(stderr, "barbus-bridge: bus %s: lapped by the ring, "
			        "%llu records lost; taken again from its tables "
			        "and history\n", s->o->bus, (unsigned long long)lost);
			rc = restart(s);
		} else if (rc == BB_ETIMEDOUT) {
			rc = br_js_poll(&s->j, s->o); /* a quiet bus: answers */
		} else if (rc == BB_ENOWRITER) {
			rc = bb_bus_status(s->bus, &st);
			if (rc == 0 && st.state == BB_STATE_DONE) {
				rc = send_session(s, BR_DONE, BR_SUB_DONE, 0);
				if (rc == 0 && s->o->exit_at_done)
					break;
			}
			if (rc == 0 && (rc = br_js_poll(&s->j, s->o)) == 0)
				nats_Sleep(100);
		}
	}
	return rc;
}

/* The bus, waited for up to --retry while it is not there yet. */
static int open_bus(struct src *s)
{
	time_t until = time(NULL) + s->o->retry_s;
	int rc;

	bb_ring_info ri;
	bb_table *t = NULL;

	/* The control segment comes first; the ring and tables follow. */
	for (;;) {
		rc = bb_bus_open(&s->bus, s->o->bus);
		if (rc == 0 && (rc = bb_ring_info_get(s->o->bus, &ri)) == 0)
			rc = bb_table_open(&t, s->o->bus, "bars.1m");
		bb_table_close(t);
		t = NULL;
		if (rc == 0 || (rc != ENOENT && rc != BB_ENOTREADY) ||
		    time(NULL) >= until)
			return rc;
		bb_bus_close(s->bus);
		s->bus = NULL;
		nats_Sleep(10);
	}
}

/*
 * The stream's last HELLO is of this bus, not of an earlier one of the same
 * name (removed and made again: its positions start from 1 again, and
 * everything up to the stream's last one would be skipped as sent). Told
 * by the bus's creation time in the HELLO; a HELLO or a bus without one
 * (an earlier barbus) is taken as this bus's. 0, or BB_EMISMATCH said.
 */
static int same_bus(struct src *s)
{
	natsMsg *m = NULL;
	struct br_frame f;
	int64_t mine = bb_bus_created(s->bus);
	int rc = br_js_last(&s->j, s->o, s->o->hello, &m);

	if (rc == BB_EEMPTY)
		return 0;
	if (rc == 0)
		rc = br_frame_get((const uint8_t *)natsMsg_GetData(m),
		                  (size_t)natsMsg_GetDataLength(m), &f, NULL);
	natsMsg_Destroy(m);
	if (rc != 0 || f.type != BR_HELLO || f.time == 0 || mine == 0 ||
	    f.time == mine)
		return rc == EIO ? rc : 0;
	char was[32], now[32];
	bb_time_format(f.time / 1000000000, was);
	bb_time_format(mine / 1000000000, now);
	fprintf(stderr, "barbus-bridge: publish %s: stream %s holds a bus %s "
	        "made %s; this one was made %s (removed and made again), and "
	        "its positions start again: give it a new stream (--stream) or "
	        "remove the old one (nats stream rm %s)\n", s->o->bus,
	        s->o->stream, s->o->bus, was, now, s->o->stream);
	return BB_EMISMATCH;
}

int br_publish_run(const struct br_opts *o, volatile sig_atomic_t *stop)
{
	struct src s = { .o = o };
	int rc = br_js_open(&s.j, o);

	if (rc != 0) {
		fprintf(stderr, "barbus-bridge: nats %s: %s\n", o->url, s.j.err);
		return 1;
	}
	time_t until = time(NULL) + o->retry_s;
	/* A stream just made on a cluster may not answer at once. */
	while ((rc = br_js_last_pos(&s.j, o, &s.last)) == EIO && !*stop &&
	       time(NULL) < until)
		nats_Sleep(200);
	s.have_last = rc == 0;
	if (rc == BB_EEMPTY)
		rc = 0;
	if (rc == 0 && (rc = open_bus(&s)) != 0)
		fprintf(stderr, "barbus-bridge: bus %s: %s\n", o->bus, bb_strerror(rc));
	else if (rc == 0 && s.have_last && (rc = same_bus(&s)) != 0)
		; /* said */
	else if (rc == 0 && (rc = br_upsrc_new(&s.up, o, &s.j, s.bus)) == 0 &&
	         (rc = send_hello(&s)) == 0 && (rc = start_settled(&s)) == 0 &&
	         (rc = follow(&s, stop)) == 0)
		rc = br_js_drain(&s.j, o); /* every frame sent is stored */
	if (rc != 0 && rc != EIO)
		fprintf(stderr, "barbus-bridge: publish %s: %s\n", o->bus,
		        bb_strerror(rc));
	else if (rc != 0)
		fprintf(stderr, "barbus-bridge: nats %s: %s\n", o->url, s.j.err);
	br_upsrc_free(s.up);
	bb_follow_close(s.f);
	bb_bus_close(s.bus);
	br_js_close(&s.j);
	free(s.p.bars);
	free(s.p.minute);
	free(s.out_of);
	free(s.src_of);
	free(s.buf);
	return rc == 0 ? 0 : 1;
}
