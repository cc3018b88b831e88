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
	const char *bus;      /* publish: the source; mirror: the local bus */
	const char *url;
	char        stream[BB_NAME_MAX + 16];
	char        subject[BB_NAME_MAX + 32];  /* barbus.<src>.frames */
	char        hello[BB_NAME_MAX + 32];    /* barbus.<src>.hello */
	char        subjects[BB_NAME_MAX + 32]; /* barbus.<src>.>: the stream's */
	char        durable[BB_NAME_MAX + 16];
	const char *src;      /* mirror: the source bus' name (subject) */
	int64_t     max_age_s;   /* stream retention by age; 0: none */
	int64_t     max_bytes;   /* by size; -1: none */
	int64_t     replicas;
	int64_t     dup_window_s;
	int         exit_at_done; /* stop once the source's backtest ended */
	int         json_subjects; /* publish: each MINUTE bar also as JSON */
	const char *symbols;  /* publish: "A,B,..." only these; NULL: all */
	const char *intervals; /* publish: "1m,5m,..." carried; NULL: every one */
	uint32_t    retry_s;      /* how long a failing publish is retried */
};

struct br_js {
	natsConnection *nc;
	jsCtx          *js;
	char            err[512];
};

/* Connect and make sure the stream exists with o's settings: created when
 * absent, refused (BB_EMISMATCH, err says which setting) when it differs.
 * EIO: NATS failed, err says how. */
int  br_js_open(struct br_js *j, const struct br_opts *o);
/* Connect; the stream must exist: its subjects name the source bus, which
 * fills o's subjects (the mirror). */
int  br_js_attach(struct br_js *j, struct br_opts *o);
void br_js_close(struct br_js *j);
/* Publish one frame with message id `id`, retrying up to o->retry_s
 * seconds (the same id: stored once). */
int  br_js_publish(struct br_js *j, const struct br_opts *o,
                   const char *subject, const char *id, const void *data,
                   size_t len);
/* Publish data on subject without waiting for an acknowledgement (plain
 * NATS); EIO when the connection refuses it. */
int  br_js_publish_plain(struct br_js *j, const char *subject,
                         const void *data, size_t len);
/* The data of the last message on subject (free with natsMsg_Destroy()):
 * 0, BB_EEMPTY, EIO. */
int  br_js_last(struct br_js *j, const struct br_opts *o, const char *subject,
                natsMsg **out);
/* The position of the stream's last frame on o->subject; BB_EEMPTY. */
int  br_js_last_pos(struct br_js *j, const struct br_opts *o, uint64_t *pos);

int  br_publish_run(const struct br_opts *o, volatile sig_atomic_t *stop);
int  br_mirror_run(struct br_opts *o, volatile sig_atomic_t *stop);

#endif /* BRIDGE_H */
