/* publish.c: the coordinator's writes; see publish.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "publish.h"
#include "ring.h"

static int open_control(struct co_pub *p, const char *bus)
{
	struct bb__seg_spec sp = {
		.role_name = "control", .role = BB_ROLE_CONTROL,
		.geom = { p->g.max_symbols, p->nblocks, p->g.rows, 0 },
		.total_len = bb__ctl_bytes(p->g.max_symbols),
		.heartbeat_ms = p->g.heartbeat_ms, .mode = p->g.seg_mode,
		.group = p->g.seg_group,
	};
	int how;
	int rc = bb__seg_writer_open(&p->ctl_seg, bus, &sp, &how);

	if (rc != 0)
		return rc;
	p->ctl = bb__ctl_body(&p->ctl_seg);
	p->attached = how == BB_SEG_ATTACHED;
	if (p->attached) {
		bb__ctl_status(p->ctl, &p->st);
		bb__ctl_add(p->ctl, BB_CTR_RESTARTS, 1);
	} else {
		p->st = (bb_status){ .mode = p->g.mode };
		bb__ctl_set_status(p->ctl, &p->st);
		bb__seg_publish(&p->ctl_seg);
	}
	bb__seg_writer_start(&p->ctl_seg);
	return 0;
}

static int open_tables(struct co_pub *p, const char *bus, const bb_seg_opts *o)
{
	char role[16];
	int rc = bb_table_writer_open(&p->session, bus, "bars.1m",
	                              p->g.table_symbols, p->g.rows, o);

	for (uint32_t k = 0; rc == 0 && k < p->nblocks; k++) {
		snprintf(role, sizeof(role), "hist.%u", k);
		rc = bb_table_writer_open(&p->hist[k], bus, role,
		                          p->g.table_symbols, p->g.rows, o);
	}
	return rc;
}

/* Say which leftovers of another geometry or version were replaced: an
 * operator who changed a setting learns why readers saw a new segment. */
static void report_replaced(const struct co_pub *p, const char *bus)
{
	char what[256] = "";
	size_t n = 0;

	if (p->ctl_seg.how == BB_SEG_REPLACED)
		n += (size_t)snprintf(what + n, sizeof(what) - n, " control");
	if (bb_table_writer_replaced(p->session))
		n += (size_t)snprintf(what + n, sizeof(what) - n, " bars.1m");
	for (uint32_t k = 0; k < p->nblocks && n < sizeof(what); k++)
		if (bb_table_writer_replaced(p->hist[k]))
			n += (size_t)snprintf(what + n, sizeof(what) - n, " hist.%u", k);
	if (n < sizeof(what) && bb_ring_writer_replaced(p->ring))
		n += (size_t)snprintf(what + n, sizeof(what) - n, " ring");
	if (n > 0)
		fprintf(stderr, "barbus-coordinator: bus %s: replaced leftover "
		        "segments of another geometry or version:%s\n", bus, what);
}

/* A failed open (a full /dev/shm): unlink what it created, keep what it
 * adopted, so no half-made bus is left for readers to mistake for one. */
static void discard(struct co_pub *p)
{
	for (uint32_t k = 0; k < p->nblocks; k++)
		bb_table_writer_discard(p->hist[k]);
	bb_table_writer_discard(p->session);
	if (p->ctl != NULL)
		bb__seg_writer_discard(&p->ctl_seg);
	p->session = NULL;
	p->ctl = NULL;
	memset(p->hist, 0, sizeof(p->hist));
}

int co_pub_open(struct co_pub *p, const char *bus, const struct co_geom *g)
{
	/* Ring and tables are written densely: their pages are all made
	 * now, not faulted in one by one during the first sessions. */
	bb_seg_opts o = {
		.capacity = g->ring_capacity, .heartbeat_ms = g->heartbeat_ms,
		.mode = g->seg_mode, .group = g->seg_group,
		.flags = BB_SEG_POPULATE,
	};

	memset(p, 0, sizeof(*p));
	p->g = *g;
	p->nblocks = g->history ? g->history + 1 : 0;
	if (p->nblocks > BB_CTL_MAX_BLOCKS)
		return BB_EINVAL;
	int rc = open_control(p, bus);
	if (rc == 0)
		rc = open_tables(p, bus, &o);
	if (rc == 0)
		rc = bb_ring_writer_open(&p->ring, bus, &o);
	if (rc != 0)
		discard(p);
	else
		report_replaced(p, bus);
	return rc;
}

void co_pub_close(struct co_pub *p)
{
	bb_ring_writer_close(p->ring);
	for (uint32_t k = 0; k < p->nblocks; k++)
		bb_table_writer_close(p->hist[k]);
	bb_table_writer_close(p->session);
	if (p->ctl != NULL)
		bb__seg_writer_close(&p->ctl_seg);
	p->ring = NULL;
	p->session = NULL;
	p->ctl = NULL;
	memset(p->hist, 0, sizeof(p->hist));
}

int co_pub_sync_symbols(struct co_pub *p, bb_store *st)
{
	uint32_t n, have = bb__ctl_nsym(p->ctl);
	char name[BB_SYMBOL_MAX + 1];
	int rc = bb_store_symbol_count(st, &n);

	if (rc != 0)
		return rc;
	if (n > p->g.max_symbols || n > p->g.table_symbols)
		return BB_EFULL;
	for (uint32_t id = 0; id < n; id++) {
		if ((rc = bb_store_symbol_name(st, id, name, sizeof(name))) != 0)
			return rc;
		if (id < have) {
			/* A directory left by an earlier run must agree. */
			if (strncmp(p->ctl->names[id], name, BB_CTL_NAME_LEN) != 0)
				return BB_EMISMATCH;
			continue;
		}
		if ((rc = bb__ctl_add_symbol(p->ctl, p->g.max_symbols, name)) != 0)
			return rc;
	}
	return 0;
}

int co_pub_last(const struct co_pub *p, bb_bar *out)
{
	return bb__ring_writer_last(p->ring, out);
}

/* The history block of session number n, or -1 with history off. */
static int block_of(const struct co_pub *p, uint64_t n)
{
	return p->nblocks ? (int)(n % p->nblocks) : -1;
}

/* Empty block k for session s (number n) and record it in the map. */
static void block_take(struct co_pub *p, int k, const bb_session *s, uint64_t n)
{
	struct bb__block b = { 0 };

	bb__ctl_set_block(p->ctl, (uint32_t)k, &b); /* unused while emptied */
	for (uint32_t sym = 0; sym < p->g.table_symbols; sym++)
		bb_table_reset(p->hist[k], sym);
	b = (struct bb__block){ .date = s->date, .open = s->open,
	                        .close = s->close, .session = n };
	bb__ctl_set_block(p->ctl, (uint32_t)k, &b);
}

void co_pub_session_start(struct co_pub *p, const bb_session *s,
                          uint64_t transition_ns)
{
	bb_bar ev;
	uint64_t n = p->st.sessions + 1;
	int k = block_of(p, n);

	for (uint32_t sym = 0; sym < p->g.table_symbols; sym++)
		bb_table_reset(p->session, sym);
	if (k >= 0)
		block_take(p, k, s, n);
	p->st = (bb_status){
		.date = s->date, .state = BB_STATE_OPEN, .open = s->open,
		.close = s->close, .clock = s->open - 60, .sessions = n,
		.mode = p->g.mode,
		.history = p->nblocks && n - 1 < p->g.history ? (uint32_t)(n - 1)
		           : p->g.history,
	};
	bb__ctl_set_status(p->ctl, &p->st);
	if (transition_ns) {
		bb__ctl_set_transition(p->ctl, n, transition_ns);
		bb__ctl_set(p->ctl, BB_CTR_TRANSITION_NS, transition_ns);
		if (transition_ns > atomic_load(&p->ctl->counters[BB_CTR_TRANSITION_MAX_NS]))
			bb__ctl_set(p->ctl, BB_CTR_TRANSITION_MAX_NS, transition_ns);
	}
	p->minute_bars = 0;
	p->started++;
	bb_event_session(&ev, BB_KIND_SESSION_START, s, 0);
	bb_ring_put(p->ring, &ev);
}

int co_pub_table_bar(struct co_pub *p, const bb_bar *b)
{
	int k = block_of(p, p->st.sessions);
	int rc = bb_table_append(p->session, b->symbol, b);

	if (rc == 0 && k >= 0)
		rc = bb_table_append(p->hist[k], b->symbol, b);
	return rc;
}

int co_pub_bar(struct co_pub *p, const bb_bar *b)
{
	int rc = co_pub_table_bar(p, b);

	if (rc == 0)
		co_pub_ring_bar(p, b);
	return rc;
}

void co_pub_ring_bar(struct co_pub *p, const bb_bar *b)
{
	bb_ring_put(p->ring, b);
	if (!(b->flags & BB_BAR_LATE))
		p->minute_bars++;
	bb__ctl_add(p->ctl, BB_CTR_BARS, 1);
}

void co_pub_minute_end(struct co_pub *p, int64_t t)
{
	bb_bar ev;

	bb_event_minute_end(&ev, t, p->minute_bars);
	bb_ring_put(p->ring, &ev);
	p->minute_bars = 0;
	p->st.clock = t;
	bb__ctl_set_status(p->ctl, &p->st);
	bb__ctl_add(p->ctl, BB_CTR_MINUTES, 1);
}

void co_pub_session_end(struct co_pub *p, int reason)
{
	bb_session s = { .date = p->st.date, .open = p->st.open,
	                 .close = p->st.close };
	bb_bar ev;

	p->st.state = reason == BB_END_TIMEOUT ? BB_STATE_TIMER_EXPIRED
	                                       : BB_STATE_ENDED;
	p->st.stalled_since = 0;
	bb__ctl_set_status(p->ctl, &p->st);
	bb_event_session(&ev, BB_KIND_SESSION_END, &s, reason);
	bb_ring_put(p->ring, &ev);
}

void co_pub_stall(struct co_pub *p, int64_t since)
{
	p->st.stalled_since = since;
	bb__ctl_set_status(p->ctl, &p->st);
	bb__ctl_add(p->ctl, BB_CTR_STALLS, 1);
}

void co_pub_stall_end(struct co_pub *p)
{
	p->st.stalled_since = 0;
	bb__ctl_set_status(p->ctl, &p->st);
}

void co_pub_done(struct co_pub *p)
{
	p->st.state = BB_STATE_DONE;
	bb__ctl_set_status(p->ctl, &p->st);
}

int co_pub_history_load(struct co_pub *p, bb_store *st, const bb_session *s,
                        uint64_t number)
{
	bb_batch b = { 0 };
	int k = block_of(p, number);

	if (k < 0)
		return 0;
	int rc = bb_store_load(st, NULL, 0, s->open, s->close, &b);
	if (rc == 0)
		block_take(p, k, s, number);
	for (size_t i = 0; rc == 0 && i < b.n; i++)
		if (b.bars[i].symbol < p->g.table_symbols)
			rc = bb_table_append(p->hist[k], b.bars[i].symbol, &b.bars[i]);
	bb_batch_free(&b);
	return rc;
}

void co_pub_beat(struct co_pub *p)
{
	bb_ring_beat(p->ring);
	bb__seg_beat(&p->ctl_seg);
	bb_table_beat(p->session);
	for (uint32_t k = 0; k < p->nblocks; k++)
		bb_table_beat(p->hist[k]);
}

void co_pub_session_reopen(struct co_pub *p, const bb_session *s)
{
	int k = block_of(p, p->st.sessions);

	for (uint32_t sym = 0; sym < p->g.table_symbols; sym++)
		bb_table_reset(p->session, sym);
	if (k >= 0)
		block_take(p, k, s, p->st.sessions);
	p->minute_bars = 0;
}

int co_pub_block_holds(const struct co_pub *p, uint64_t number, int32_t date)
{
	struct bb__block b;
	int k = block_of(p, number);

	return k >= 0 && bb__ctl_block(p->ctl, (uint32_t)k, &b) == 0 &&
	       b.session == number && b.date == date;
}

int co_pub_history_fill(struct co_pub *p, bb_store *st, const bb_calendar *cal,
                        const bb_session *s, uint64_t number)
{
	bb_session h = *s;

	for (uint32_t back = 1; back <= p->g.history && back < number; back++) {
		if (bb_calendar_prev(cal, h.date, &h) != 0)
			break;
		if (co_pub_block_holds(p, number - back, h.date))
			continue;
		int rc = co_pub_history_load(p, st, &h, number - back);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void co_pub_prefetch(const struct co_pub *p, uint32_t sym)
{
	int k = block_of(p, p->st.sessions);

	bb_table_prefetch(p->session, sym);
	if (k >= 0)
		bb_table_prefetch(p->hist[k], sym);
}

void co_pub_preopen(struct co_pub *p, const bb_session *s)
{
	if (p->st.state == BB_STATE_PREOPEN && p->st.date == s->date)
		return;
	p->st.date = s->date;
	p->st.open = s->open;
	p->st.close = s->close;
	p->st.state = BB_STATE_PREOPEN;
	bb__ctl_set_status(p->ctl, &p->st);
}

int co_pub_symbol(struct co_pub *p, uint32_t id, const char *name)
{
	uint32_t have = bb__ctl_nsym(p->ctl);

	if (id < have)
		return strncmp(p->ctl->names[id], name, BB_CTL_NAME_LEN) == 0
		       ? 0 : BB_EMISMATCH;
	if (id != have || id >= p->g.table_symbols)
		return id != have ? BB_EINVAL : BB_EFULL;
	return bb__ctl_add_symbol(p->ctl, p->g.max_symbols, name);
}

int co_pub_history_put(struct co_pub *p, const bb_session *s,
                       uint64_t number, uint32_t sym, const bb_bar *bars,
                       size_t n)
{
	int k = block_of(p, number);
	int rc = 0;

	if (k < 0)
		return 0;
	if (sym >= p->g.table_symbols)
		return BB_EINVAL;
	if (!co_pub_block_holds(p, number, s->date))
		block_take(p, k, s, number);
	bb_table_reset(p->hist[k], sym);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = bb_table_append(p->hist[k], sym, &bars[i]);
	return rc;
}
