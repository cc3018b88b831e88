/*
 * pub.c: the publisher's window of frames in flight (bridge.h).
 *
 * Each message goes out at once (plain NATS, its acknowledgement asked on
 * an inbox of this connection: <inbox>.<send number>) and is kept until
 * the stream acknowledges it; at most o->in_flight are kept, so a caller
 * blocks only when the window is full. Every message carries its message
 * id and, but for the first after a quiet point (below), the header
 * Nats-Expected-Last-Msg-Id of the message before it: the stream stores a
 * message only right after its predecessor, never after a hole nor out of
 * order. A failed or unanswered message is sent again with everything after
 * it, in order, the first without the expectation: all before it are
 * stored (acknowledged), and one already stored is a duplicate of its id,
 * stored once. A quiet point is when nothing is in flight (after
 * br_js_drain()): a message stored as a duplicate does not change the
 * stream's last id, so what follows a message that may be one (a HELLO,
 * the HISTORY frames a restarted publisher sends again) starts afresh
 * there or after one failed round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "clock.h"

#define ACK_WAIT_MS  2000 /* a message unanswered this long has failed */
#define RESEND_MS    100  /* between rounds of sending again */

enum { OUT_SENT, OUT_STORED, OUT_FAILED };

struct br_out {
	uint64_t seq;     /* its latest send: the reply subject's number */
	int64_t  sent_ms;
	int      state;
	char     subject[BB_NAME_MAX + 32];
	char     id[BR_ID_MAX];
	uint8_t *data;
	size_t   len, cap;
	char     why[512];
};

static int win_open(struct br_js *j, const struct br_opts *o)
{
	struct br_win *w = &j->w;
	natsInbox *inbox = NULL;
	char subj[160];
	natsStatus s = natsInbox_Create(&inbox);

	w->cap = o->in_flight ? o->in_flight : 1;
	w->q = calloc(w->cap, sizeof(*w->q));
	if (s == NATS_OK && w->q != NULL) {
		snprintf(w->inbox, sizeof(w->inbox), "%s", inbox);
		snprintf(subj, sizeof(subj), "%s.*", inbox);
		s = natsConnection_SubscribeSync(&w->acks, j->nc, subj);
	}
	natsInbox_Destroy(inbox);
	if (w->q == NULL)
		return ENOMEM;
	if (s != NATS_OK) {
		snprintf(j->err, sizeof(j->err), "acknowledgement inbox: %s (%s)",
		         natsStatus_GetText(s), nats_GetLastError(NULL));
		return EIO;
	}
	return 0;
}

void br_win_close(struct br_js *j)
{
	struct br_win *w = &j->w;

	natsSubscription_Destroy(w->acks);
	for (uint32_t i = 0; w->q != NULL && i < w->cap; i++)
		free(w->q[i].data);
	free(w->q);
	memset(w, 0, sizeof(*w));
}

static struct br_out *at(struct br_win *w, uint32_t k)
{
	return &w->q[(w->head + k) % w->cap];
}

/* Send e (again): a new send number, chained to the previous message. */
static void out_send(struct br_js *j, const struct br_opts *o,
                     struct br_out *e)
{
	struct br_win *w = &j->w;
	natsMsg *m = NULL;
	char reply[192];

	e->seq = ++w->seq;
	e->sent_ms = bb__mono_ms();
	e->state = OUT_SENT;
	snprintf(reply, sizeof(reply), "%s.%llu", w->inbox,
	         (unsigned long long)e->seq);
	natsStatus s = natsMsg_Create(&m, e->subject, reply, (const char *)e->data,
	                              (int)e->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", e->id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Expected-Stream", o->stream);
	if (s == NATS_OK && w->prev[0])
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id", w->prev);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(j->nc, m);
	natsMsg_Destroy(m);
	snprintf(w->prev, sizeof(w->prev), "%s", e->id);
	if (s != NATS_OK) {
		e->state = OUT_FAILED;
		snprintf(e->why, sizeof(e->why), "%s", natsStatus_GetText(s));
	}
}

/* An acknowledgement: {"stream":..,"seq":..[,"duplicate":true]} or
 * {"error":{..}}, for the message whose latest send it answers. */
static void on_ack(struct br_win *w, natsMsg *m)
{
	const char *subj = natsMsg_GetSubject(m), *dot = strrchr(subj, '.');
	uint64_t seq = dot != NULL ? strtoull(dot + 1, NULL, 10) : 0;
	int len = natsMsg_GetDataLength(m);
	char data[512];

	snprintf(data, sizeof(data), "%.*s", len < 511 ? len : 511,
	         len > 0 ? natsMsg_GetData(m) : "");
	for (uint32_t k = 0; k < w->n; k++) {
		struct br_out *e = at(w, k);
		if (e->seq != seq || e->state != OUT_SENT)
			continue;
		if (strstr(data, "\"error\"") == NULL && strstr(data, "\"seq\"")) {
			e->state = OUT_STORED;
		} else {
			e->state = OUT_FAILED;
			snprintf(e->why, sizeof(e->why), "%s", len > 0 ? data
			         : "an empty answer");
		}
		return;
	}
}

/* The head failed: everything from it on goes again, in order, the head
 * unchained; EIO once it has failed for longer than --retry. */
static int resend(struct br_js *j, const struct br_opts *o)
{
	struct br_win *w = &j->w;
	struct br_out *e = at(w, 0);
	int64_t t = bb__mono_ms();

	if (w->failing_since == 0)
		w->failing_since = t;
	if (t - w->failing_since >= o->retry_s * 1000) {
		snprintf(j->err, sizeof(j->err), "publish %s: %s", e->id, e->why);
		return EIO;
	}
	nats_Sleep(RESEND_MS);
	w->prev[0] = '\0';
	for (uint32_t k = 0; k < w->n; k++)
		out_send(j, o, at(w, k));
	return 0;
}

/* Acknowledgements that came (waiting up to wait_ms for the first), the
 * stored messages at the head dropped, a failed head sent again. */
static int pump(struct br_js *j, const struct br_opts *o, int64_t wait_ms)
{
	struct br_win *w = &j->w;
	natsMsg *m = NULL;
	natsStatus s;

	/* "No responders" (JetStream away: a leader being elected) names no
	 * message and may answer an earlier round: the head's wait says. */
	while ((s = natsSubscription_NextMsg(&m, w->acks, wait_ms)) == NATS_OK ||
	       s == NATS_NO_RESPONDERS) {
		if (s == NATS_OK)
			on_ack(w, m);
		natsMsg_Destroy(m);
		m = NULL;
		wait_ms = 0;
	}
	while (w->n > 0 && at(w, 0)->state == OUT_STORED) {
		w->head = (w->head + 1) % w->cap;
		w->n--;
		w->failing_since = 0;
	}
	if (w->n == 0)
		return 0;
	struct br_out *e = at(w, 0);
	if (e->state == OUT_SENT && bb__mono_ms() - e->sent_ms >= ACK_WAIT_MS) {
		e->state = OUT_FAILED;
		snprintf(e->why, sizeof(e->why), "no acknowledgement in %d ms",
		         ACK_WAIT_MS);
	}
	return e->state == OUT_FAILED ? resend(j, o) : 0;
}

int br_js_send(struct br_js *j, const struct br_opts *o, const char *subject,
               const char *id, const void *data, size_t len)
{
	struct br_win *w = &j->w;
	int rc = w->q == NULL ? win_open(j, o) : 0;

	while (rc == 0 && w->n == w->cap)
		rc = pump(j, o, 100);
	if (rc != 0)
		return rc;
	struct br_out *e = at(w, w->n);
	if (len > e->cap) {
		uint8_t *d = realloc(e->data, len);
		if (d == NULL)
			return ENOMEM;
		e->data = d;
		e->cap = len;
	}
	memcpy(e->data, data, len);
	e->len = len;
	snprintf(e->subject, sizeof(e->subject), "%s", subject);
	snprintf(e->id, sizeof(e->id), "%s", id);
	w->n++;
	out_send(j, o, e);
	return 0; /* answers are read when the window is full, or idle */
}

int br_js_poll(struct br_js *j, const struct br_opts *o)
{
	return j->w.n > 0 ? pump(j, o, 0) : 0;
}

int br_js_drain(struct br_js *j, const struct br_opts *o)
{
	struct br_win *w = &j->w;
	int rc = 0;

	while (rc == 0 && w->n > 0)
		rc = pump(j, o, 100);
	w->prev[0] = '\0'; /* a quiet point: the next message unchained */
	return rc;
}
