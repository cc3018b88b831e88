/* bus_writer.c: the writer half of a bus; see bus_writer.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bus_writer.h"
#include "clock.h"
#include "ring.h"
#include "table.h"

static int open_control(struct bb__bw *w, const char *bus)
{
	struct bb__seg_spec sp = {
		.role_name = "control", .role = BB_ROLE_CONTROL,
		.geom = { w->g.max_symbols, w->nblocks, w->g.rows, 0 },
		.total_len = bb__ctl_bytes(w->g.max_symbols),
		.heartbeat_ms = w->g.heartbeat_ms, .mode = w->g.seg_mode,
		.group = w->g.seg_group,
	};
	int how;
	int rc = bb__seg_writer_open(&w->ctl_seg, bus, &sp, &how);

	if (rc != 0)
		return rc;
	w->ctl = bb__ctl_body(&w->ctl_seg);
	w->attached = how == BB_SEG_ATTACHED;
	if (w->attached) {
		bb__ctl_status(w->ctl, &w->st);
		bb__ctl_add(w->ctl, BB_CTR_RESTARTS, 1);
	} else {
		w->st = (bb_status){ .mode = w->g.mode };
		bb__ctl_set_status(w->ctl, &w->st);
		bb__seg_publish(&w->ctl_seg);
	}
	bb__seg_writer_start(&w->ctl_seg);
	return 0;
}

static void beat_ctl(void *ctl_seg)
{
	bb__seg_beat(ctl_seg);
}

/* Making a segment stores to each of its pages (seg.c): the control
 * segment, published already, is beaten meanwhile (every 16 MiB), so
 * that a bus of thousands of symbols or a ring of millions of records
 * being made is not taken for a stuck writer. */
static struct bb__beat ctl_beat(struct bb__bw *w)
{
	return (struct bb__beat){ .fn = beat_ctl, .ctx = &w->ctl_seg };
}

static int open_tables(struct bb__bw *w, const char *bus, const bb_seg_opts *o)
{
	char role[BB__ROLE_MAX];
	int rc = bb__table_writer_open(&w->session, bus, BB__ROLE_SESSION,
	                               w->g.table_symbols, w->g.rows, o,
	                               ctl_beat(w));

	for (uint32_t k = 0; rc == 0 && k < w->nblocks; k++) {
		bb__seg_beat(&w->ctl_seg);
		bb__hist_role(role, sizeof(role), k);
		rc = bb__table_writer_open(&w->hist[k], bus, role,
		                           w->g.table_symbols, w->g.rows, o,
		                           ctl_beat(w));
	}
	bb__seg_beat(&w->ctl_seg);
	return rc;
}

/* A failed open (a full /dev/shm): unlink what it created, keep what it
 * adopted, so no half-made bus is left for readers to mistake for one. */
static void discard(struct bb__bw *w)
{
	for (uint32_t k = 0; k < w->nblocks; k++)
		bb_table_writer_discard(w->hist[k]);
	bb_table_writer_discard(w->session);
	if (w->ctl != NULL)
		bb__seg_writer_discard(&w->ctl_seg);
	w->session = NULL;
	w->ctl = NULL;
	memset(w->hist, 0, sizeof(w->hist));
}

int bb__bw_open(struct bb__bw *w, const char *bus, const struct bb__bw_geom *g)
{
	/* Ring and tables are written densely: their pages are all made
	 * now, not faulted in one by one during the first sessions. */
	bb_seg_opts o = {
		.capacity = g->ring_capacity, .heartbeat_ms = g->heartbeat_ms,
		.mode = g->seg_mode, .group = g->seg_group,
		.flags = BB_SEG_POPULATE,
	};

	memset(w, 0, sizeof(*w));
	w->g = *g;
	w->nblocks = g->history ? g->history + 1 : 0;
	if (w->nblocks > BB_CTL_MAX_BLOCKS)
		return BB_EINVAL;
	int rc = open_control(w, bus);
	if (rc == 0)
		rc = open_tables(w, bus, &o);
	if (rc == 0)
		rc = bb__ring_writer_open(&w->ring, bus, &o, ctl_beat(w));
	if (rc != 0)
		discard(w);
	return rc;
}

void bb__bw_close(struct bb__bw *w)
{
	bb_ring_writer_close(w->ring);
	for (uint32_t k = 0; k < w->nblocks; k++)
		bb_table_writer_close(w->hist[k]);
	bb_table_writer_close(w->session);
	if (w->ctl != NULL)
		bb__seg_writer_close(&w->ctl_seg);
	w->ring = NULL;
	w->session = NULL;
	w->ctl = NULL;
	memset(w->hist, 0, sizeof(w->hist));
}

size_t bb__bw_replaced(const struct bb__bw *w, char *buf, size_t len)
{
	char role[BB__ROLE_MAX];
	size_t n = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (w->ctl_seg.how == BB_SEG_REPLACED)
		n += (size_t)snprintf(buf + n, len - n, " control");
	if (n < len && bb_table_writer_replaced(w->session))
		n += (size_t)snprintf(buf + n, len - n, " %s", BB__ROLE_SESSION);
	for (uint32_t k = 0; k < w->nblocks && n < len; k++) {
		if (!bb_table_writer_replaced(w->hist[k]))
			continue;
		bb__hist_role(role, sizeof(role), k);
		n += (size_t)snprintf(buf + n, len - n, " %s", role);
	}
	if (n < len && bb_ring_writer_replaced(w->ring))
		n += (size_t)snprintf(buf + n, len - n, " ring");
	return n < len ? n : len - 1;
}

void bb__bw_beat(struct bb__bw *w)
{
	bb_ring_beat(w->ring);
	bb__seg_beat(&w->ctl_seg);
	bb_table_beat(w->session);
	for (uint32_t k = 0; k < w->nblocks; k++)
		bb_table_beat(w->hist[k]);
}

/* ---- state ------------------------------------------------------- */

void bb__bw_count(struct bb__bw *w, int counter, uint64_t n)
{
	bb__ctl_add(w->ctl, counter, n);
}

uint64_t bb__bw_counter(const struct bb__bw *w, int counter)
{
	/* Relaxed: our own counter, written by this thread. */
	return atomic_load_explicit(&w->ctl->counters[counter],
	                            memory_order_relaxed);
}

int bb__bw_last(const struct bb__bw *w, bb_bar *out)
{
	return bb__ring_writer_last(w->ring, out);
}

int bb__bw_scan_back(const struct bb__bw *w,
                     int (*fn)(void *arg, const bb_bar *rec), void *arg)
{
	return bb__ring_writer_scan_back(w->ring, fn, arg);
}

void bb__bw_number_fresh(struct bb__bw *w)
{
	if (w->st.sessions == 0)
		w->st.sessions = w->g.history;
}

/* ---- the directory ----------------------------------------------- */

uint32_t bb__bw_nsym(const struct bb__bw *w)
{
	return bb__ctl_nsym(w->ctl);
}

const char *bb__bw_symbol_name(const struct bb__bw *w, uint32_t id)
{
	return w->ctl->names[id];
}

int bb__bw_symbol(struct bb__bw *w, uint32_t id, const char *name)
{
	uint32_t have = bb__ctl_nsym(w->ctl);

	if (id < have)
		return strncmp(w->ctl->names[id], name, BB_CTL_NAME_LEN) == 0
		       ? 0 : BB_EMISMATCH;
	if (id != have || id >= w->g.table_symbols)
		return id != have ? BB_EINVAL : BB_EFULL;
	return bb__ctl_add_symbol(w->ctl, w->g.max_symbols, name);
}

void bb__bw_set_replayed(struct bb__bw *w, const uint32_t *syms, size_t n)
{
	bb__ctl_set_replayed(w->ctl, w->g.max_symbols, syms, n);
}

int bb__bw_replayed(const struct bb__bw *w, uint32_t id)
{
	return bb__ctl_replayed(w->ctl, w->g.max_symbols, id);
}

/* ---- history blocks ---------------------------------------------- */

/* The history block of session number n, or -1 with history off. */
static int block_of(const struct bb__bw *w, uint64_t n)
{
	return w->nblocks ? (int)(n % w->nblocks) : -1;
}

/* Empty block k for session s (number n) and record it in the map. */
static void block_take(struct bb__bw *w, int k, const bb_session *s, uint64_t n)
{
	struct bb__block b = { 0 };

	bb__ctl_set_block(w->ctl, (uint32_t)k, &b); /* unused while emptied */
	for (uint32_t sym = 0; sym < w->g.table_symbols; sym++)
		bb_table_reset(w->hist[k], sym);
	b = (struct bb__block){ .date = s->date, .open = s->open,
	                        .close = s->close, .session = n };
	bb__ctl_set_block(w->ctl, (uint32_t)k, &b);
}

int bb__bw_block_holds(const struct bb__bw *w, uint64_t number, int32_t date)
{
	struct bb__block b;
	int k = block_of(w, number);

	return k >= 0 && bb__ctl_block(w->ctl, (uint32_t)k, &b) == 0 &&
	       b.session == number && b.date == date;
}

int bb__bw_block_take(struct bb__bw *w, const bb_session *s, uint64_t number)
{
	int k = block_of(w, number);

	if (k < 0)
		return -1;
	block_take(w, k, s, number);
	return 0;
}

int bb__bw_block_append(struct bb__bw *w, uint64_t number, const bb_bar *b)
{
	int k = block_of(w, number);

	if (k < 0 || b->symbol >= w->g.table_symbols)
		return 0;
	return bb_table_append(w->hist[k], b->symbol, b);
}

int bb__bw_history_put(struct bb__bw *w, const bb_session *s, uint64_t number,
                       uint32_t sym, const bb_bar *bars, size_t n)
{
	int k = block_of(w, number);
	int rc = 0;

	if (k < 0)
		return 0;
	if (sym >= w->g.table_symbols)
		return BB_EINVAL;
	if (!bb__bw_block_holds(w, number, s->date))
		block_take(w, k, s, number);
	bb_table_reset(w->hist[k], sym);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = bb_table_append(w->hist[k], sym, &bars[i]);
	return rc;
}

/* ---- sessions, bars, minutes ------------------------------------- */

/* Every symbol's rows of the session table emptied. */
static void session_reset(struct bb__bw *w)
{
	for (uint32_t sym = 0; sym < w->g.table_symbols; sym++)
		bb_table_reset(w->session, sym);
	w->minute_bars = 0;
}

static void transition(struct bb__bw *w, uint64_t n, uint64_t ns)
{
	bb__ctl_set_transition(w->ctl, n, ns);
	bb__ctl_set(w->ctl, BB_CTR_TRANSITION_NS, ns);
	if (ns > bb__bw_counter(w, BB_CTR_TRANSITION_MAX_NS))
		bb__ctl_set(w->ctl, BB_CTR_TRANSITION_MAX_NS, ns);
}

void bb__bw_session_start(struct bb__bw *w, const bb_session *s,
                          int64_t prev_end_ns)
{
	bb_bar ev;
	uint64_t n = w->st.sessions + 1;
	int k = block_of(w, n);

	session_reset(w);
	if (k >= 0)
		block_take(w, k, s, n);
	w->st = (bb_status){
		.date = s->date, .state = BB_STATE_OPEN, .open = s->open,
		.close = s->close, .clock = s->open - 60, .sessions = n,
		.mode = w->g.mode,
		.history = w->nblocks && n - 1 < w->g.history ? (uint32_t)(n - 1)
		           : w->g.history,
	};
	bb__ctl_set_status(w->ctl, &w->st);
	if (prev_end_ns)
		transition(w, n, (uint64_t)(bb__mono_ns() - prev_end_ns));
	w->started++;
	bb_event_session(&ev, BB_KIND_SESSION_START, s, 0);
	ev.volume = (double)n;
	bb_ring_put(w->ring, &ev);
}

void bb__bw_session_reopen(struct bb__bw *w, const bb_session *s)
{
	int k = block_of(w, w->st.sessions);

	session_reset(w);
	if (k >= 0)
		block_take(w, k, s, w->st.sessions);
}

void bb__bw_prefetch(const struct bb__bw *w, uint32_t sym)
{
	int k = block_of(w, w->st.sessions);

	bb_table_prefetch(w->session, sym);
	if (k >= 0)
		bb_table_prefetch(w->hist[k], sym);
}

int bb__bw_table_bar(struct bb__bw *w, const bb_bar *b)
{
	int k = block_of(w, w->st.sessions);
	int rc = bb_table_append(w->session, b->symbol, b);

	if (rc == 0 && k >= 0)
		rc = bb_table_append(w->hist[k], b->symbol, b);
	return rc;
}

int bb__bw_bar(struct bb__bw *w, const bb_bar *b)
{
	int rc = bb__bw_table_bar(w, b);

	if (rc == 0)
		bb__bw_ring_bar(w, b);
	return rc;
}

int bb__bw_bars(struct bb__bw *w, const bb_bar *b, size_t n, size_t *refused)
{
	int first = 0;

	*refused = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = bb__bw_table_bar(w, &b[i]);
		if (rc != 0) {
			first = first ? first : rc;
			++*refused;
			continue;
		}
		/* In the tables before its slot is written, as bb__bw_bar();
		 * sleeping readers are woken once, below, not at every bar. */
		bb__ring_write(w->ring, &b[i]);
		if (!(b[i].flags & BB_BAR_LATE))
			w->minute_bars++;
		bb__ctl_add(w->ctl, BB_CTR_BARS, 1);
	}
	bb__ring_publish(w->ring);
	return first;
}

void bb__bw_ring_bar(struct bb__bw *w, const bb_bar *b)
{
	bb_ring_put(w->ring, b);
	if (!(b->flags & BB_BAR_LATE))
		w->minute_bars++;
	bb__ctl_add(w->ctl, BB_CTR_BARS, 1);
}

void bb__bw_minute_end(struct bb__bw *w, int64_t t)
{
	bb_bar ev;

	bb_event_minute_end(&ev, t, w->minute_bars);
	bb_ring_put(w->ring, &ev);
	w->minute_bars = 0;
	w->st.clock = t;
	bb__ctl_set_status(w->ctl, &w->st);
	bb__ctl_add(w->ctl, BB_CTR_MINUTES, 1);
}

void bb__bw_session_end(struct bb__bw *w, int reason)
{
	bb_session s = { .date = w->st.date, .open = w->st.open,
	                 .close = w->st.close };
	bb_bar ev;

	w->st.state = reason == BB_END_TIMEOUT ? BB_STATE_TIMER_EXPIRED
	                                       : BB_STATE_ENDED;
	w->st.stalled_since = 0;
	bb__ctl_set_status(w->ctl, &w->st);
	bb_event_session(&ev, BB_KIND_SESSION_END, &s, reason);
	ev.volume = (double)w->st.sessions;
	bb_ring_put(w->ring, &ev);
}

void bb__bw_preopen(struct bb__bw *w, const bb_session *s)
{
	if (w->st.state == BB_STATE_PREOPEN && w->st.date == s->date)
		return;
	w->st.date = s->date;
	w->st.open = s->open;
	w->st.close = s->close;
	w->st.state = BB_STATE_PREOPEN;
	bb__ctl_set_status(w->ctl, &w->st);
}

void bb__bw_stall(struct bb__bw *w, int64_t since)
{
	w->st.stalled_since = since;
	bb__ctl_set_status(w->ctl, &w->st);
	bb__ctl_add(w->ctl, BB_CTR_STALLS, 1);
}

void bb__bw_stall_end(struct bb__bw *w)
{
	w->st.stalled_since = 0;
	bb__ctl_set_status(w->ctl, &w->st);
}

void bb__bw_done(struct bb__bw *w)
{
	w->st.state = BB_STATE_DONE;
	bb__ctl_set_status(w->ctl, &w->st);
}
