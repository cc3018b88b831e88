/*
 * status_fmt.h: barbus-status's verdict and its outputs (key-value text, a
 * line per interval, JSON, Prometheus text exposition), each rendered from
 * one snapshot into a buffer. Schemas in docs/operations.md. Included by
 * readers/status.c only.
 */
#ifndef BB_STATUS_FMT_H
#define BB_STATUS_FMT_H

#include <inttypes.h>

#include "status_snap.h"

/* Minutes the upkeep may follow an older session than the coordinator's
 * open one before it counts as behind (a boundary takes it a moment). */
#define BEHIND_GRACE_S 120

/* ---- the verdict ------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void why(struct snap *s, const char *fmt, ...)
{
	size_t n = strlen(s->why);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(s->why)) {
		strcat(s->why, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->why + n, sizeof(s->why) - n, fmt, ap);
	va_end(ap);
	s->verdict = V_DEGRADED;
}

/* A writer that stopped cleanly is healthy only once its work is over
 * (over: whether the coordinator's session is finished). */
static void judge_writer(struct snap *s, const char *who,
                         const bb_seg_info *in, int over)
{
	if (in->err != 0)
		why(s, "%s segment damaged: %s", who, bb_strerror(in->err));
	else if (in->run == BB_RUN_CRASHED)
		why(s, "%s crashed (pid %d)", who, (int)in->pid);
	else if (in->run == BB_RUN_STUCK)
		why(s, "%s stuck (pid %d, heartbeat %.1f s ago)", who,
		    (int)in->pid, (double)in->heartbeat_age_ms / 1e3);
	else if (in->run == BB_RUN_STOPPED && !over)
		why(s, "%s stopped during the session", who);
}

static void judge(struct snap *s)
{
	const bb_status *st = &s->st;
	int over = !s->have_status || st->state == BB_STATE_NONE ||
	           st->state == BB_STATE_ENDED || st->state == BB_STATE_DONE ||
	           st->state == BB_STATE_TIMER_EXPIRED;

	s->verdict = V_HEALTHY;
	judge_writer(s, "coordinator", &s->coord, over);
	if (s->have_status && st->stalled_since != 0)
		why(s, "session stalled for %" PRId64 " s",
		    s->wall - st->stalled_since);
	if (!s->have_upkeep)
		return;
	/* The upkeep's clean stop is its end of data (EXITED): fine. */
	judge_writer(s, "upkeep", &s->up, 1);
	if (run_live(&s->up) && s->have_info && s->have_status &&
	    st->state == BB_STATE_OPEN && s->ui.date != st->date &&
	    st->clock - st->open > BEHIND_GRACE_S)
		why(s, "upkeep behind: follows session %d, the bus is in %d",
		    (int)s->ui.date, (int)st->date);
}

/* --check: one line; the caller exits with the verdict (1: no bus). */
static void fmt_check(struct sbuf *out, const struct snap *s, int rc,
                      const char *what)
{
	if (rc == ENOENT && strcmp(what, "control") == 0)
		sb_printf(out, PROG ": bus %s: no such bus\n", s->bus);
	else if (rc != 0)
		sb_printf(out, PROG ": bus %s: unreadable: %s: %s\n", s->bus, what,
		          rc == ENOENT ? "missing" : bb_strerror(rc));
	else if (s->verdict == V_HEALTHY)
		sb_printf(out, PROG ": bus %s: healthy: session %s, coordinator "
		          "%s, upkeep %s\n", s->bus,
		          s->have_status ? WORD(state_words, s->st.state) : "-",
		          run_word(&s->coord),
		          s->have_upkeep ? run_word(&s->up) : "none");
	else
		sb_printf(out, PROG ": bus %s: degraded: %s\n", s->bus, s->why);
}

/* ---- key-value text ------------------------------------------------- */

static void kv_date(struct sbuf *o, const char *key, int32_t date)
{
	if (date == 0)
		sb_printf(o, "%s -\n", key);
	else
		sb_printf(o, "%s %04d-%02d-%02d\n", key, date / 10000,
		          date / 100 % 100, date % 100);
}

static void kv_time(struct sbuf *o, const char *key, int64_t t, int set)
{
	char iso[32];

	if (!set) {
		sb_printf(o, "%s -\n", key);
		return;
	}
	bb_time_format(t, iso);
	sb_printf(o, "%s %s\n", key, iso);
}

static void kv_writer(struct sbuf *o, const char *who, const bb_seg_info *in)
{
	static const int ws[] = { BB_WRITER_DEAD, BB_WRITER_ALIVE,
		BB_WRITER_STUCK, BB_WRITER_DEAD, BB_WRITER_DEAD };

	sb_printf(o, "%s.writer %s\n", who, in->err ? "dead"
	          : WORD(writer_words, ws[in->run % 5]));
	sb_printf(o, "%s.pid %d\n", who, (int)in->pid);
}

static void kv_writer_more(struct sbuf *o, const char *who,
                           const bb_seg_info *in)
{
	sb_printf(o, "%s.run %s\n", who, run_word(in));
	if (in->heartbeat_age_ms >= 0)
		sb_printf(o, "%s.heartbeat_age_s %.3f\n", who,
		          (double)in->heartbeat_age_ms / 1e3);
	else
		sb_printf(o, "%s.heartbeat_age_s -\n", who);
	sb_printf(o, "%s.restarts %" PRIu64 "\n", who,
	          in->epoch ? in->epoch - 1 : 0);
}

static void text_session(struct sbuf *o, const struct snap *s)
{
	const bb_status *st = &s->st;

	sb_printf(o, "coordinator.mode %s\n", st->mode == BB_MODE_LIVE ? "live"
	          : st->mode == BB_MODE_BACKTEST ? "backtest" : "-");
	kv_date(o, "session.date", st->date);
	sb_printf(o, "session.state %s\n", WORD(state_words, st->state));
	kv_time(o, "session.open", st->open, st->date != 0);
	kv_time(o, "session.close", st->close, st->date != 0);
	kv_time(o, "session.clock", st->clock,
	        st->date != 0 && st->clock >= st->open);
	kv_time(o, "session.stalled_since", st->stalled_since,
	        st->stalled_since != 0);
	sb_printf(o, "session.number %" PRIu64 "\n", st->sessions);
	sb_printf(o, "history.sessions %u\n", st->history);
}

static void text_upkeep(struct sbuf *o, const struct snap *s)
{
	const bb_upkeep_info *in = &s->ui;

	if (!s->have_upkeep) {
		sb_printf(o, "upkeep.writer none\n");
		return;
	}
	kv_writer(o, "upkeep", &s->up);
	kv_writer_more(o, "upkeep", &s->up);
	if (s->have_info) {
		sb_printf(o, "upkeep.state %s\n", upkeep_state(s));
		sb_printf(o, "upkeep.last_state %s\n",
		          WORD(upkeep_words, in->state));
		kv_date(o, "upkeep.date", in->date);
		kv_date(o, "upkeep.done_date", in->done_date);
		sb_printf(o, "upkeep.sessions_done %" PRIu64 "\n", in->sessions_done);
		sb_printf(o, "upkeep.bars_seen %" PRIu64 "\n", in->bars_seen);
		sb_printf(o, "upkeep.fills %" PRIu64 "\n", in->fills);
		sb_printf(o, "upkeep.unfillable %" PRIu64 "\n", in->unfillable);
		sb_printf(o, "upkeep.lapped %" PRIu64 "\n", in->lapped);
	}
	sb_printf(o, "upkeep.intervals ");
	for (size_t i = 0; i < s->niv; i++)
		sb_printf(o, "%s%um", i ? "," : "", s->iv[i]);
	sb_printf(o, "%s\n", s->niv ? "" : "-");
	sb_printf(o, "upkeep.history_days %u\n", s->hdays);
}

static void text_quality(struct sbuf *o, const struct snap *s)
{
	sb_printf(o, "quality.symbols %u\n", s->nquality);
	for (size_t i = 0; i < s->nworst; i++) {
		const bb_quality *q = &s->worst[i].q;
		sb_printf(o, "quality.%s quality=%.2f with_fills=%.2f expected=%u "
		          "real=%u late=%u filled=%u unfillable=%u synthetic=%u "
		          "pending=%u\n", s->worst[i].name, q->quality,
		          q->quality_with_fills, q->expected, q->real, q->late,
		          q->filled, q->unfillable, q->synthetic, q->pending);
	}
}

static void fmt_text(struct sbuf *o, const struct snap *s)
{
	sb_printf(o, "bus %s\n", s->bus);
	kv_writer(o, "coordinator", &s->coord);
	sb_printf(o, "coordinator.epoch %" PRIu64 "\n", s->coord.epoch);
	kv_writer_more(o, "coordinator", &s->coord);
	if (s->have_status)
		text_session(o, s);
	sb_printf(o, "symbols %u\n", s->nsym);
	sb_printf(o, "ring.head %" PRIu64 "\nring.capacity %" PRIu64 "\n"
	          "ring.epoch %" PRIu64 "\n", s->ring.head, s->ring.capacity,
	          s->ring.epoch);
	if (s->rate >= 0)
		sb_printf(o, "ring.records_per_s %.1f\n", s->rate);
	else
		sb_printf(o, "ring.records_per_s -\n");
	for (int c = 0; c < BB_CTR_COUNT; c++)
		sb_printf(o, "counter.%s %" PRIu64 "\n", counter_keys[c], s->ctr[c]);
	text_upkeep(o, s);
	text_quality(o, s);
	sb_printf(o, "health %s\n", s->verdict == V_HEALTHY ? "healthy"
	          : "degraded");
	if (s->verdict != V_HEALTHY)
		sb_printf(o, "health.why %s\n", s->why);
}

/* --watch when not on a terminal: one line per interval. */
static void fmt_line(struct sbuf *o, const struct snap *s)
{
	char now[32], clock[32] = "-";

	bb_time_format(s->wall, now);
	if (s->have_status && s->st.date != 0 && s->st.clock >= s->st.open)
		bb_time_format(s->st.clock, clock);
	sb_printf(o, "%s bus=%s session=%s clock=%s coordinator=%s upkeep=%s "
	          "head=%" PRIu64 " rate=", now, s->bus,
	          s->have_status ? WORD(state_words, s->st.state) : "-", clock,
	          run_word(&s->coord), s->have_upkeep ? run_word(&s->up) : "none",
	          s->ring.head);
	if (s->rate >= 0)
		sb_printf(o, "%.1f", s->rate);
	else
		sb_printf(o, "-");
	sb_printf(o, " bars=%" PRIu64 " stalled=%s health=%s\n",
	          s->ctr[BB_CTR_BARS],
	          s->have_status && s->st.stalled_since ? "yes" : "no",
	          s->verdict == V_HEALTHY ? "healthy" : "degraded");
}

#include "status_json.h"

#endif /* BB_STATUS_FMT_H */
