/*
 * bridge.h: barbus-bridge's pieces. js.c talks to NATS JetStream (the
 * stream, publishing with message ids, the mirror's consumer); source.c is
 * `publish`, mirror.c is `mirror`; frame.c the wire format.
 */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <signal.h>
#include <stdint.h>

#include <nats/nats.h>

#include "barbus.h"

struct br_opts {
	const char *cmd;      /* "publish" or "mirror" */
	char        bus[BB_NAME_MAX + 1]; /* publish: the source; mirror: local */
	char        url[1024];
	char        stream[BB_NAME_MAX + 16];
	char        subject[BB_NAME_MAX + 32];  /* barbus.<src>.frames */
	char        hello[BB_NAME_MAX + 32];    /* barbus.<src>.hello */
	char        subjects[BB_NAME_MAX + 32]; /* barbus.<src>.>: the stream's */
	char        durable[BB_NAME_MAX + 16];
	int64_t     max_age_s;   /* stream retention by age; 0: none */
	int64_t     max_bytes;   /* by size; -1: none */
	int64_t     replicas;
	int64_t     dup_window_s;
	int64_t     retry_s;      /* how long a failing publish is retried */
	uint32_t    in_flight;    /* publish: frames unacknowledged, at most */
	int         exit_at_done; /* stop once the source's backtest ended */
	int         json_subjects; /* publish: each MINUTE bar also as JSON */
	char      **symbols;  /* publish: only these; none: all */
	size_t      nsymbols;
	char        intervals[128]; /* publish: "1m,5m,..." carried; "": every
	                               one the upkeep derives */
};

#define BR_ID_MAX (BB_NAME_MAX + 48) /* a message id */

struct br_out;

/* The publisher's messages sent and not yet acknowledged (pub.c). */
struct br_win {
	natsSubscription *acks;   /* <inbox>.*: the stream's answers */
	char              inbox[128];
	struct br_out    *q;      /* a ring of cap, n from head, in order */
	uint32_t          cap, head, n;
	uint64_t          seq;    /* sends so far */
	char              prev[BR_ID_MAX]; /* the last id sent; "": none */
	int64_t           failing_since;   /* ms: the head's first failure */
};

struct br_js {
	natsConnection *nc;
	jsCtx          *js;
	struct br_win   w;
	char            err[2048];
};

/* Connect and make sure the stream exists with o's settings: created when
 * absent, refused (BB_EMISMATCH, err says which setting) when it differs.
 * EIO: NATS failed, err says how. */
int  br_js_open(struct br_js *j, const struct br_opts *o);
/* Connect; the stream must exist: its subjects name the source bus, which
 * fills o's subjects (the mirror). */
int  br_js_attach(struct br_js *j, struct br_opts *o);
void br_js_close(struct br_js *j);
/* Sleep *wait_ms, doubled from 2 ms up to 200 ms at each call (*wait_ms
 * 0 at first): waiting for something another process makes. */
void br_backoff(int *wait_ms);
/*
 * Publish one message with message id `id` without waiting for the
 * stream's acknowledgement: blocks only while o->in_flight are
 * unacknowledged. A message that fails is sent again with all after it,
 * in order, for up to o->retry_s seconds (the same id: stored once); EIO
 * then, err says which and why.
 */
int  br_js_send(struct br_js *j, const struct br_opts *o, const char *subject,
                const char *id, const void *data, size_t len);
/* Acknowledgements that came, without waiting (a failure sent again). */
int  br_js_poll(struct br_js *j, const struct br_opts *o);
/* Wait until every message sent is stored; EIO as br_js_send(). */
int  br_js_drain(struct br_js *j, const struct br_opts *o);
void br_win_close(struct br_js *j);
/* br_js_send() and br_js_drain(): the message is stored. */
int  br_js_publish(struct br_js *j, const struct br_opts *o,
                   const char *subject, const char *id, const void *data,
                   size_t len);
/* Publish data on subject without waiting for an acknowledgement (plain
 * NATS); EIO when the connection refuses it. */
int  br_js_publish_plain(struct br_js *j, const char *subject,
                         const void *data, size_t len);
/* --json-subjects (json.c): bar b of symbol sym as JSON on
 * barbus.<bus>.<minutes>m.<sym>; EIO, ENOMEM. */
int  br_json_bar(struct br_js *j, const char *bus, uint32_t minutes,
                 const char *sym, const bb_bar *b);
/* The data of the last message on subject (free with natsMsg_Destroy()):
 * 0, BB_EEMPTY, EIO. */
int  br_js_last(struct br_js *j, const struct br_opts *o, const char *subject,
                natsMsg **out);
/* The position of the stream's last frame on o->subject; BB_EEMPTY. */
int  br_js_last_pos(struct br_js *j, const struct br_opts *o, uint64_t *pos);

int  br_publish_run(const struct br_opts *o, volatile sig_atomic_t *stop);
int  br_mirror_run(struct br_opts *o, volatile sig_atomic_t *stop);

#endif /* BRIDGE_H */
