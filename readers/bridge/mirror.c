/*
 * mirror.c: `barbus-bridge mirror`. A durable JetStream consumer whose
 * frames are written into a local bus through the coordinator's own
 * publishing module (coordinator/publish.c): this process is that bus's
 * coordinator. Each frame is applied only when it lies after what the bus
 * holds (its session number, state and clock), so a frame delivered again
 * after a restart changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../coordinator/publish.h"
#include "bridge.h"
#include "frame.h"
#include "up.h"

#define FETCH_BATCH   256
/* A fetch's bytes at most: far under the 64 MB the server lets a client
 * have pending (a batch of 512 KB history frames went over it, and the
 * server dropped the connection and the frames on it). */
#define FETCH_MAX_BYTES (8LL * 1024 * 1024)
#define FETCH_WAIT_MS 250 /* a quiet stream: heartbeats between waits */
#define HEARTBEAT_MS  1000
#define HELLO_WAIT_MS 200  /* the stream asked again for its first HELLO */

struct mir {
	struct br_opts    *o;
	struct br_js       j;
	natsSubscription  *sub;
	struct bb__bw      p;
	int                open;
	int                done; /* the source's backtest ended */
	bb_bus            *self;  /* the local bus, read (resuming) */
	int                resume; /* re-attached: the next MINUTE frame may
	                              be in the bus in part */
	bb_bar             last;   /* the ring's last record then */
	bb_bar            *bars;
	size_t             cap;
	struct br_upmir   *up;     /* the upkeep's role on the local bus */
	uint64_t           next;   /* stream sequences below: applied */
	uint64_t           cseq;   /* the consumer's last delivery number
	                              (0: none since it was made) */
};

static void frame_warn(const struct mir *m, const struct br_frame *f,
                       const char *what, int rc)
{
	fprintf(stderr, "barbus-bridge: mirror %s: stream %s, frame of type %u "
	        "at position %llx: %s: %s\n", m->o->bus, m->o->stream, f->type,
	        (unsigned long long)f->pos, what, bb_strerror(rc));
}

/* Re-attached to a bus this mirror was writing when it was killed: its
 * ring's last record says how far the frame in progress went. */
static int resume_point(struct mir *m)
{
	int rc = bb_bus_open(&m->self, m->o->bus);

	if (rc != 0 || bb__bw_last(&m->p, &m->last) != 0)
		return rc;
	if (BB_KIND(m->last.flags) == BB_KIND_MINUTE_END &&
	    m->last.time > m->p.st.clock && m->p.st.state == BB_STATE_OPEN) {
		/* Killed between a MINUTE_END and the clock it sets. */
		m->p.st.clock = m->last.time;
		bb__ctl_set_status(m->p.ctl, &m->p.st);
	}
	m->resume = m->p.st.state == BB_STATE_OPEN;
	return 0;
}

static int same_bar(const bb_bar *a, const bb_bar *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The first record of f not yet in the bus: after the ring's last record
 * when that is one of f's; a record already in its symbol's table but not
 * on the ring (killed between the two) goes onto the ring. */
static uint32_t resume_from(struct mir *m, const struct br_frame *f)
{
	uint32_t from = 0;
	bb_bar b, have;

	m->resume = 0;
	for (uint32_t i = 0; BB_KIND(m->last.flags) == BB_KIND_BAR &&
	                     i < f->count; i++) {
		br_rec_get(f, i, &b);
		if (same_bar(&b, &m->last))
			from = i + 1;
	}
	for (uint32_t i = 0; i < from; i++) {
		br_rec_get(f, i, &b);
		m->p.minute_bars += !(b.flags & BB_BAR_LATE);
	}
	if (from < f->count) {
		br_rec_get(f, from, &b);
		if (bb_latest(m->self, b.symbol, &have) == 0 && same_bar(&have, &b)) {
			bb__bw_ring_bar(&m->p, &b);
			from++;
		}
	}
	return from;
}

/* The source's geometry and directory, from its last HELLO; the bus is
 * opened (created or re-attached) with that geometry. */
static int hello(struct mir *m)
{
	natsMsg *msg = NULL;
	struct br_frame f;
	char name[BR_NAME_BYTES + 1];
	const char *why;
	int rc = br_js_last(&m->j, m->o, m->o->hello, &msg);

	if (rc == BB_EEMPTY)
		snprintf(m->j.err, sizeof(m->j.err), "stream %s holds no HELLO "
		         "frame yet", m->o->stream);
	if (rc != 0)
		return EIO;
	rc = br_frame_get((const uint8_t *)natsMsg_GetData(msg),
	                  (size_t)natsMsg_GetDataLength(msg), &f, &why);
	if (rc == 0 && f.type != BR_HELLO)
		rc = BB_ECORRUPT, why = "type";
	if (rc == 0 && !m->open) {
		struct bb__bw_geom g = {
			.max_symbols = f.geom.max_symbols,
			.table_symbols = f.geom.table_symbols, .rows = f.geom.rows,
			.history = f.geom.history, .ring_capacity = f.geom.ring_capacity,
			.heartbeat_ms = HEARTBEAT_MS, .mode = f.geom.mode,
		};
		rc = co_pub_open(&m->p, m->o->bus, &g);
		m->open = rc == 0;
		/* A backtest mirrored to its end: nothing follows DONE. */
		m->done = m->open && m->p.st.state == BB_STATE_DONE;
		if (rc == 0 && m->p.attached)
			rc = resume_point(m);
		why = "opening the local bus";
	}
	for (uint32_t i = 0; rc == 0 && i < f.count; i++) {
		br_name_get(&f, i, name);
		rc = bb__bw_symbol(&m->p, i, name);
		why = name;
	}
	if (rc != 0)
		snprintf(m->j.err, sizeof(m->j.err), "bus %s from stream %s's HELLO:"
		         " %s: %s", m->o->bus, m->o->stream, why, bb_strerror(rc));
	natsMsg_Destroy(msg);
	return rc == 0 ? 0 : EIO;
}

/* m->bars holds n bars at least. */
static int room(struct mir *m, size_t n)
{
	bb_bar *b;

	if (n <= m->cap)
		return 0;
	if ((b = realloc(m->bars, n * sizeof(*b))) == NULL)
		return ENOMEM;
	m->bars = b;
	m->cap = n;
	return 0;
}

static int history(struct mir *m, const struct br_frame *f)
{
	uint64_t n = f->pos >> 32;
	uint32_t at = 0;
	bb_bar *b = m->bars;

	/* History holds the current session and the ones just before it:
	 * an older one would overwrite a newer one's block. The current one
	 * comes as history when the publisher restarted after it ended and
	 * the stream lacked its end: its rows are replaced whole. A later one
	 * comes when the publisher, restarted or lapped by its ring, carries
	 * the sessions that ended meanwhile: the current one ended too. */
	if (n + m->p.g.history < m->p.st.sessions)
		return 0;
	if (n > m->p.st.sessions && m->p.st.state == BB_STATE_OPEN)
		bb__bw_session_end(&m->p, BB_END_CLOSE);
	if (room(m, f->count) != 0)
		return ENOMEM;
	b = m->bars;
	for (uint32_t j = 0; j < f->nsym; j++) {
		uint32_t c = br_count_get(f, j);
		for (uint32_t i = 0; i < c; i++)
			br_rec_get(f, at + i, &b[i]);
		int rc = bb__bw_history_put(&m->p, &f->session, n, f->first + j, b, c);
		if (rc != 0)
			frame_warn(m, f, "history bars of a symbol", rc);
		at += c;
	}
	if (m->p.st.sessions < n) {
		m->p.st.sessions = n;
		bb__ctl_set_status(m->p.ctl, &m->p.st);
	}
	return 0;
}

static int minute(struct mir *m, const struct br_frame *f)
{
	if (f->pos >> 32 != m->p.st.sessions || m->p.st.state != BB_STATE_OPEN ||
	    f->time <= m->p.st.clock)
		return 0;
	uint32_t from = m->resume ? resume_from(m, f) : 0;
	size_t refused;
	if (room(m, f->count) != 0)
		return ENOMEM;
	for (uint32_t i = from; i < f->count; i++)
		br_rec_get(f, i, &m->bars[i - from]);
	/* The frame's bars in one go: readers blocked on the ring are woken
	 * once for all of them, not each time they went back to sleep
	 * between two bars. */
	int rc = bb__bw_bars(&m->p, m->bars, f->count - from, &refused);
	if (rc != 0)
		frame_warn(m, f, refused == 1 ? "a bar" : "bars", rc);
	bb__bw_minute_end(&m->p, f->time);
	return 0;
}

static int apply(struct mir *m, const struct br_frame *f)
{
	uint64_t n = f->pos >> 32;
	bb_status *st = &m->p.st;

	switch (f->type) {
	case BR_HISTORY:
		return history(m, f);
	case BR_MINUTE:
		return minute(m, f);
	case BR_UP:
	case BR_UP_END:
	case BR_UP_BLOCK:
		return br_upmir_apply(m->up, f, st->sessions);
	}
	m->resume = 0; /* the session's next frame is no MINUTE */
	switch (f->type) {
	case BR_SESSION_START:
		if (n < st->sessions || (n == st->sessions &&
		                         st->state >= BB_STATE_OPEN))
			return 0;
		st->sessions = n - 1;
		bb__bw_session_start(&m->p, &f->session, 0);
		return 0;
	case BR_SESSION_END:
		if (n == st->sessions && st->state == BB_STATE_OPEN)
			bb__bw_session_end(&m->p, (int)f->reason);
		return 0;
	case BR_DONE:
		if (st->state != BB_STATE_DONE)
			bb__bw_done(&m->p);
		m->done = 1;
		return 0;
	}
	return 0;
}

/* Symbols beyond the directory: the source added some; a new HELLO says. */
static int directory_covers(struct mir *m, const struct br_frame *f)
{
	uint32_t have = bb__ctl_nsym(m->p.ctl);

	for (uint32_t i = 0; f->type == BR_MINUTE && i < f->count; i++)
		if (br_rec_symbol(f, i) >= have)
			return 0;
	return 1;
}

static int one(struct mir *m, natsMsg *msg)
{
	struct br_frame f;
	const char *why;
	int rc = br_frame_get((const uint8_t *)natsMsg_GetData(msg),
	                      (size_t)natsMsg_GetDataLength(msg), &f, &why);

	if (rc != 0) {
		fprintf(stderr, "barbus-bridge: mirror %s: stream %s: message %s "
		        "skipped: %s: %s\n", m->o->bus, m->o->stream,
		        natsMsg_GetSubject(msg), why, bb_strerror(rc));
		return 0;
	}
	if (!directory_covers(m, &f) && (rc = hello(m)) != 0)
		return rc;
	return apply(m, &f);
}

/*
 * The durable consumer, made again to start at stream sequence `from`, or
 * (0) right after its acknowledged floor: the frames a killed mirror had
 * fetched but not acknowledged are then delivered first and in order (a
 * consumer left as it was would send them again only after its ack wait,
 * behind newer ones).
 */
static void restart_point(struct mir *m, jsSubOptions *so, uint64_t from)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;

	if (js_GetConsumerInfo(&ci, m->j.js, m->o->stream, m->o->durable, NULL,
	                       &jerr) != NATS_OK)
		ci = NULL; /* none yet */
	if (ci != NULL && from == 0)
		from = ci->AckFloor.Stream + 1;
	if (from != 0) {
		so->Config.DeliverPolicy = js_DeliverByStartSequence;
		so->Config.OptStartSeq = from;
	}
	if (ci != NULL) {
		jsConsumerInfo_Destroy(ci);
		js_DeleteConsumer(m->j.js, m->o->stream, m->o->durable, NULL, &jerr);
	}
}

/* Subscribe (again) from stream sequence `from` (0: the ack floor). */
static natsStatus subscribe(struct mir *m, uint64_t from, jsErrCode *jerr)
{
	jsOptions jo;
	jsSubOptions so;

	jsOptions_Init(&jo);
	jsSubOptions_Init(&so);
	so.Stream = m->o->stream;
	so.Config.AckPolicy = js_AckAll;
	so.Config.DeliverPolicy = js_DeliverAll;
	restart_point(m, &so, from);
	natsSubscription_Destroy(m->sub);
	m->sub = NULL;
	m->cseq = 0; /* a new consumer numbers from 1 */
	return js_PullSubscribe(&m->sub, m->j.js, m->o->subject, m->o->durable,
	                        &jo, &so, jerr);
}

/*
 * The next frames: those the stream holds now (up to a batch, no waiting);
 * when it holds none, the first to come (waiting up to FETCH_WAIT_MS), so
 * that a frame is applied as soon as it is stored, never held back until
 * a batch fills or a request expires.
 */
static natsStatus fetch(struct mir *m, natsMsgList *list)
{
	jsFetchRequest r;

	jsFetchRequest_Init(&r);
	r.Batch = FETCH_BATCH;
	r.MaxBytes = FETCH_MAX_BYTES;
	r.NoWait = true;
	r.Expires = FETCH_WAIT_MS * 1000000LL; /* the answer's wait, not more */
	natsStatus s = natsSubscription_FetchRequest(list, m->sub, &r);
	if (s == NATS_OK && list->Count > 0)
		return s;
	natsMsgList_Destroy(list);
	jsFetchRequest_Init(&r);
	r.Batch = 1;
	r.Expires = FETCH_WAIT_MS * 1000000LL;
	return natsSubscription_FetchRequest(list, m->sub, &r);
}

/* The stream and consumer sequences of msg (0, 0: none said). */
static void seqs(natsMsg *msg, uint64_t *stream, uint64_t *consumer)
{
	jsMsgMetaData *md = NULL;

	*stream = *consumer = 0;
	if (natsMsg_GetMetaData(&md, msg) == NATS_OK) {
		*stream = md->Sequence.Stream;
		*consumer = md->Sequence.Consumer;
		jsMsgMetaData_Destroy(md);
	}
}

/*
 * Is this message the next one? 1: apply it; 0: had it already (delivered
 * again); -1: some the consumer delivered before it never came (a
 * connection the server cut, as it does to a client it finds too slow).
 * The consumer numbers its deliveries 1, 2, ...: a number skipped is a
 * delivery lost. Stream sequences skip the messages of other subjects
 * (HELLO, JSON), so they tell only what was applied already.
 */
static int in_order(struct mir *m, uint64_t seq, uint64_t cseq)
{
	uint64_t had = m->cseq;

	m->cseq = cseq;
	if (cseq != 0 && had != 0 && cseq != had + 1)
		return -1;
	return seq == 0 || seq >= m->next;
}

/*
 * Apply a fetched batch in stream order, then acknowledge the last frame
 * applied (AckAll: every one before it too, so never one past a frame
 * not delivered). 1 when messages were missing: the consumer is then made
 * again from the first of them.
 */
static int apply_batch(struct mir *m, natsMsgList *list, int *rc)
{
	int last = -1, gap = 0;

	for (int i = 0; *rc == 0 && !gap && i < list->Count; i++) {
		uint64_t seq, cseq;
		seqs(list->Msgs[i], &seq, &cseq);
		int o = in_order(m, seq, cseq);
		if (o < 0) {
			gap = 1;
		} else if (o > 0 && (*rc = one(m, list->Msgs[i])) == 0) {
			m->next = seq ? seq + 1 : m->next;
			last = i;
		}
	}
	if (last >= 0)
		natsMsg_Ack(list->Msgs[last], NULL);
	return gap;
}

static int consume(struct mir *m, volatile sig_atomic_t *stop)
{
	jsErrCode jerr = 0;
	natsMsgList list;
	natsStatus s;
	int rc = 0, wait_ms = 0;

	time_t until = time(NULL) + m->o->retry_s;
	/* The server may be starting, or its stream electing a leader. */
	while ((s = subscribe(m, 0, &jerr)) != NATS_OK && !*stop &&
	       time(NULL) < until)
		br_backoff(&wait_ms);
	if (s != NATS_OK) {
		snprintf(m->j.err, sizeof(m->j.err), "consumer %s: %s (JetStream "
		         "error %d)", m->o->durable, natsStatus_GetText(s), (int)jerr);
		return EIO;
	}
	while (rc == 0 && !*stop && !(m->done && m->o->exit_at_done)) {
		s = fetch(m, &list);
		bb__bw_beat(&m->p);
		br_upmir_beat(m->up); /* the upkeep role alive while quiet */
		if (s != NATS_OK) {
			natsMsgList_Destroy(&list);
			/* Nothing yet: again. An error answered at once (the
			 * server away, the consumer being made again): again
			 * after a backoff, not in a busy loop. */
			if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND)
				br_backoff(&wait_ms);
			continue;
		}
		wait_ms = 0;
		int gap = apply_batch(m, &list, &rc);
		natsMsgList_Destroy(&list);
		if (rc == 0 && gap) {
			fprintf(stderr, "barbus-bridge: mirror %s: stream %s: "
			        "messages from %llu were not delivered; fetching "
			        "them again\n", m->o->bus, m->o->stream,
			        (unsigned long long)m->next);
			while ((s = subscribe(m, m->next, &jerr)) != NATS_OK &&
			       !*stop)
				br_backoff(&wait_ms);
		}
	}
	return rc;
}

/*
 * A stream just made by its publisher: its HELLO comes first, waited for
 * up to --retry. Asked of the stream, then waited for on its subject
 * (subscribed before asking: core NATS wakes the mirror as the HELLO is
 * published, where polling the stream would find it up to 200 ms late).
 */
static int first_hello(struct mir *m, volatile sig_atomic_t *stop)
{
	natsSubscription *sub = NULL;
	time_t until = time(NULL) + m->o->retry_s;
	int rc, wait_ms = 0;

	if (natsConnection_SubscribeSync(&sub, m->j.nc, m->o->hello) != NATS_OK)
		sub = NULL; /* then polled, backing off */
	while ((rc = hello(m)) == EIO && !m->open && !*stop &&
	       time(NULL) < until) {
		natsMsg *msg = NULL;
		natsStatus s = sub == NULL ? NATS_ERR
		               : natsSubscription_NextMsg(&msg, sub, HELLO_WAIT_MS);
		natsMsg_Destroy(msg);
		if (s != NATS_OK && s != NATS_TIMEOUT)
			br_backoff(&wait_ms);
	}
	natsSubscription_Destroy(sub);
	return rc;
}

int br_mirror_run(struct br_opts *o, volatile sig_atomic_t *stop)
{
	struct mir m = { .o = o };
	int rc = br_js_attach(&m.j, o);

	if (rc == 0)
		rc = first_hello(&m, stop);
	if (rc == 0)
		rc = br_upmir_new(&m.up, o, &m.j, m.p.g.table_symbols, m.p.g.rows);
	if (rc == 0)
		rc = consume(&m, stop);
	if (rc == EIO)
		fprintf(stderr, "barbus-bridge: mirror %s: nats %s: %s\n", o->bus,
		        o->url, m.j.err);
	else if (rc != 0)
		fprintf(stderr, "barbus-bridge: mirror %s: %s\n", o->bus,
		        bb_strerror(rc));
	natsSubscription_Destroy(m.sub);
	br_upmir_free(m.up);
	bb_bus_close(m.self);
	if (m.open)
		bb__bw_close(&m.p);
	br_js_close(&m.j);
	free(m.bars);
	return rc == 0 ? 0 : 1;
}
