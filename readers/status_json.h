/*
 * status_json.h: barbus-status's machine outputs: one JSON object (schema
 * 1, docs/operations.md) and the Prometheus text exposition format 0.0.4.
 * Included by status_fmt.h only.
 */
#ifndef BB_STATUS_JSON_H
#define BB_STATUS_JSON_H

#include <math.h>

#include "status_snap.h"

#define STATUS_SCHEMA 1

/* A JSON string: quotes, backslashes and control characters escaped. */
static void js_str(struct sbuf *o, const char *str)
{
	sb_printf(o, "\"");
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(o, "\\%c", *p);
		else if (*p < 0x20)
			sb_printf(o, "\\u%04x", *p);
		else
			sb_printf(o, "%c", *p);
	}
	sb_printf(o, "\"");
}

/* A number, or null for what JSON cannot say (a hostile NaN). */
static void js_num(struct sbuf *o, double v)
{
	if (isfinite(v))
		sb_printf(o, "%.6g", v);
	else
		sb_printf(o, "null");
}

static void js_date(struct sbuf *o, int32_t date)
{
	if (date == 0)
		sb_printf(o, "null");
	else
		sb_printf(o, "\"%04d-%02d-%02d\"", date / 10000, date / 100 % 100,
		          date % 100);
}

static void js_time(struct sbuf *o, int64_t t, int set)
{
	char iso[32];

	if (!set) {
		sb_printf(o, "null");
		return;
	}
	bb_time_format(t, iso);
	sb_printf(o, "\"%s\"", iso);
}

static void js_writer(struct sbuf *o, const bb_seg_info *in)
{
	sb_printf(o, "\"run\":\"%s\",\"pid\":%d,\"epoch\":%" PRIu64
	          ",\"restarts\":%" PRIu64 ",\"heartbeat_age_s\":", run_word(in),
	          (int)in->pid, in->epoch, in->epoch ? in->epoch - 1 : 0);
	if (in->heartbeat_age_ms >= 0)
		js_num(o, (double)in->heartbeat_age_ms / 1e3);
	else
		sb_printf(o, "null");
}

static void js_session(struct sbuf *o, const struct snap *s)
{
	const bb_status *st = &s->st;

	if (!s->have_status) {
		sb_printf(o, "\"session\":null,");
		return;
	}
	sb_printf(o, "\"session\":{\"mode\":\"%s\",\"date\":",
	          st->mode == BB_MODE_LIVE ? "live"
	          : st->mode == BB_MODE_BACKTEST ? "backtest" : "-");
	js_date(o, st->date);
	sb_printf(o, ",\"state\":\"%s\",\"open\":", WORD(state_words, st->state));
	js_time(o, st->open, st->date != 0);
	sb_printf(o, ",\"close\":");
	js_time(o, st->close, st->date != 0);
	sb_printf(o, ",\"clock\":");
	js_time(o, st->clock, st->date != 0 && st->clock >= st->open);
	sb_printf(o, ",\"stalled\":%s,\"stalled_since\":",
	          st->stalled_since ? "true" : "false");
	js_time(o, st->stalled_since, st->stalled_since != 0);
	sb_printf(o, ",\"number\":%" PRIu64 ",\"history\":%u},", st->sessions,
	          st->history);
}

static void js_upkeep(struct sbuf *o, const struct snap *s)
{
	const bb_upkeep_info *in = &s->ui;

	if (!s->have_upkeep) {
		sb_printf(o, "\"upkeep\":null,");
		return;
	}
	sb_printf(o, "\"upkeep\":{");
	js_writer(o, &s->up);
	if (s->have_info) {
		sb_printf(o, ",\"state\":\"%s\",\"last_state\":\"%s\",\"date\":",
		          upkeep_state(s), WORD(upkeep_words, in->state));
		js_date(o, in->date);
		sb_printf(o, ",\"done_date\":");
		js_date(o, in->done_date);
		sb_printf(o, ",\"sessions_done\":%" PRIu64 ",\"bars_seen\":%" PRIu64
		          ",\"fills\":%" PRIu64 ",\"unfillable\":%" PRIu64
		          ",\"lapped\":%" PRIu64, in->sessions_done, in->bars_seen,
		          in->fills, in->unfillable, in->lapped);
	}
	sb_printf(o, ",\"intervals\":[");
	for (size_t i = 0; i < s->niv; i++)
		sb_printf(o, "%s%u", i ? "," : "", s->iv[i]);
	sb_printf(o, "],\"history_days\":%u},", s->hdays);
}

static void js_quality(struct sbuf *o, const struct snap *s)
{
	sb_printf(o, "\"quality\":{\"symbols\":%u,\"worst\":[", s->nquality);
	for (size_t i = 0; i < s->nworst; i++) {
		const bb_quality *q = &s->worst[i].q;
		sb_printf(o, "%s{\"symbol\":", i ? "," : "");
		js_str(o, s->worst[i].name);
		sb_printf(o, ",\"quality\":");
		js_num(o, q->quality);
		sb_printf(o, ",\"quality_with_fills\":");
		js_num(o, q->quality_with_fills);
		sb_printf(o, ",\"expected\":%u,\"real\":%u,\"late\":%u,\"filled\":%u,"
		          "\"unfillable\":%u,\"synthetic\":%u,\"pending\":%u,"
		          "\"underived\":%u}", q->expected, q->real, q->late,
		          q->filled, q->unfillable, q->synthetic, q->pending,
		          q->underived);
	}
	sb_printf(o, "]}");
}

static void js_ring(struct sbuf *o, const struct snap *s)
{
	uint64_t hits = s->ctr[BB_CTR_PREFETCH_HITS];
	uint64_t all = hits + s->ctr[BB_CTR_PREFETCH_MISSES];

	sb_printf(o, "\"ring\":{\"head\":%" PRIu64 ",\"capacity\":%" PRIu64
	          ",\"epoch\":%" PRIu64 ",\"records_per_s\":", s->ring.head,
	          s->ring.capacity, s->ring.epoch);
	if (s->rate >= 0)
		js_num(o, s->rate);
	else
		sb_printf(o, "null");
	sb_printf(o, "},\"prefetch\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
	          ",\"hit_rate\":", hits, all - hits);
	if (all)
		js_num(o, (double)hits / (double)all);
	else
		sb_printf(o, "null");
	sb_printf(o, "},\"transition\":{\"last_ns\":%" PRIu64 ",\"max_ns\":%"
	          PRIu64 "},", s->ctr[BB_CTR_TRANSITION_NS],
	          s->ctr[BB_CTR_TRANSITION_MAX_NS]);
}

/* One JSON object, then end (a newline). */
static void fmt_json(struct sbuf *o, const struct snap *s, const char *end)
{
	sb_printf(o, "{\"schema\":%d,\"bus\":", STATUS_SCHEMA);
	js_str(o, s->bus);
	sb_printf(o, ",\"time\":");
	js_time(o, s->wall, 1);
	sb_printf(o, ",\"health\":{\"status\":\"%s\",\"why\":",
	          s->verdict == V_HEALTHY ? "healthy" : "degraded");
	if (s->verdict == V_HEALTHY)
		sb_printf(o, "null");
	else
		js_str(o, s->why);
	sb_printf(o, "},\"coordinator\":{");
	js_writer(o, &s->coord);
	sb_printf(o, "},");
	js_session(o, s);
	sb_printf(o, "\"symbols\":%u,", s->nsym);
	js_ring(o, s);
	sb_printf(o, "\"counters\":{");
	for (int c = 0; c < BB_CTR_COUNT; c++)
		sb_printf(o, "%s\"%s\":%" PRIu64, c ? "," : "", counter_keys[c],
		          s->ctr[c]);
	sb_printf(o, "},");
	js_upkeep(o, s);
	js_quality(o, s);
	sb_printf(o, "}%s", end);
}

/* ---- Prometheus ------------------------------------------------------ */

static void pm_head(struct sbuf *o, const char *name, const char *type,
                    const char *help)
{
	sb_printf(o, "# HELP barbus_%s %s\n# TYPE barbus_%s %s\n", name, help,
	          name, type);
}

static void pm_val(struct sbuf *o, const char *name, const char *bus,
                   const char *labels, double v)
{
	sb_printf(o, "barbus_%s{bus=\"%s\"%s%s} ", name, bus, labels ? "," : "",
	          labels ? labels : "");
	if (isnan(v))
		sb_printf(o, "NaN\n");
	else if (isinf(v))
		sb_printf(o, "%sInf\n", v < 0 ? "-" : "+");
	else
		sb_printf(o, "%.17g\n", v);
}

static void pm_one(struct sbuf *o, const struct snap *s, const char *name,
                   const char *type, const char *help, double v)
{
	pm_head(o, name, type, help);
	pm_val(o, name, s->bus, NULL, v);
}

static void pm_writers(struct sbuf *o, const struct snap *s)
{
	const bb_seg_info *w[2] = { &s->coord, s->have_upkeep ? &s->up : NULL };
	static const char *const who[2] = { "coordinator", "upkeep" };
	char l[96];

	pm_head(o, "writer_state", "gauge", "1 for the state the writer is in: "
	        "running, stuck, stopped (cleanly), crashed, damaged.");
	for (int i = 0; i < 2; i++)
		for (size_t r = 0; w[i] && r < 5; r++) {
			snprintf(l, sizeof(l), "writer=\"%s\",state=\"%s\"", who[i],
			         run_words[r]);
			pm_val(o, "writer_state", s->bus, l,
			       strcmp(run_word(w[i]), run_words[r]) == 0);
		}
	pm_head(o, "writer_heartbeat_age_seconds", "gauge", "Age of the live "
	        "writer's last heartbeat.");
	for (int i = 0; i < 2; i++)
		if (w[i] && w[i]->heartbeat_age_ms >= 0) {
			snprintf(l, sizeof(l), "writer=\"%s\"", who[i]);
			pm_val(o, "writer_heartbeat_age_seconds", s->bus, l,
			       (double)w[i]->heartbeat_age_ms / 1e3);
		}
	pm_head(o, "writer_restarts_total", "counter", "Writer attaches after "
	        "the first (epoch - 1).");
	for (int i = 0; i < 2; i++)
		if (w[i]) {
			snprintf(l, sizeof(l), "writer=\"%s\"", who[i]);
			pm_val(o, "writer_restarts_total", s->bus, l,
			       (double)(w[i]->epoch ? w[i]->epoch - 1 : 0));
		}
}

static void pm_session(struct sbuf *o, const struct snap *s)
{
	char l[64];

	pm_head(o, "session_state", "gauge", "1 for the session's state.");
	for (size_t i = 0; i < sizeof(state_words) / sizeof(*state_words); i++) {
		snprintf(l, sizeof(l), "state=\"%s\"", state_words[i]);
		pm_val(o, "session_state", s->bus, l, s->st.state == i);
	}
	pm_one(o, s, "session_date", "gauge", "Session date as YYYYMMDD.",
	       s->st.date);
	pm_one(o, s, "session_clock_seconds", "gauge", "Session clock: start of "
	       "the last complete minute, UTC epoch seconds.", (double)s->st.clock);
	pm_one(o, s, "session_number", "gauge", "Session number.",
	       (double)s->st.sessions);
	pm_one(o, s, "session_stalled", "gauge", "1 while the open session is "
	       "stalled (no data for the no-data timeout).",
	       s->st.stalled_since != 0);
	pm_one(o, s, "session_stalled_seconds", "gauge", "How long the session "
	       "has been stalled; 0 when not.", s->st.stalled_since
	       ? (double)(s->wall - s->st.stalled_since) : 0);
}

static void pm_counters(struct sbuf *o, const struct snap *s)
{
	char name[64], help[96];

	for (int c = 0; c < BB_CTR_COUNT; c++) {
		if (c == BB_CTR_TRANSITION_NS || c == BB_CTR_TRANSITION_MAX_NS)
			continue;
		/* "minutes" would read as a unit to promtool: MINUTE_END
		 * events are counted. */
		snprintf(name, sizeof(name), "%s_total", c == BB_CTR_MINUTES
		         ? "minute_ends" : counter_keys[c]);
		snprintf(help, sizeof(help), "Coordinator counter %s.",
		         counter_keys[c]);
		pm_one(o, s, name, "counter", help, (double)s->ctr[c]);
	}
	pm_one(o, s, "transition_seconds", "gauge", "Last session transition: "
	       "last bar to the next SESSION_START.",
	       (double)s->ctr[BB_CTR_TRANSITION_NS] / 1e9);
	pm_one(o, s, "transition_max_seconds", "gauge", "Longest session "
	       "transition.", (double)s->ctr[BB_CTR_TRANSITION_MAX_NS] / 1e9);
}

static void pm_upkeep(struct sbuf *o, const struct snap *s)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "upkeep_sessions_done_total", offsetof(bb_upkeep_info, sessions_done) },
		{ "upkeep_bars_seen_total", offsetof(bb_upkeep_info, bars_seen) },
		{ "upkeep_fills_total", offsetof(bb_upkeep_info, fills) },
		{ "upkeep_unfillable_total", offsetof(bb_upkeep_info, unfillable) },
		{ "upkeep_lapped_total", offsetof(bb_upkeep_info, lapped) },
	};
	uint64_t v;

	if (!s->have_info)
		return;
	for (size_t i = 0; i < sizeof(f) / sizeof(*f); i++) {
		memcpy(&v, (const char *)&s->ui + f[i].off, sizeof(v));
		pm_one(o, s, f[i].name, "counter", "Upkeep total (up.status).",
		       (double)v);
	}
}

/* symbol="NAME" with the label escapes (\\, \", \n): a symbol name
 * comes from shared memory, checked by its writer, not by us. */
static void pm_symbol_label(char *l, size_t len, const char *name)
{
	size_t n = (size_t)snprintf(l, len, "symbol=\"");

	for (const char *p = name; *p && n + 4 < len; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n')
			l[n++] = '\\';
		l[n++] = *p == '\n' ? 'n' : *p;
	}
	l[n++] = '"';
	l[n] = '\0';
}

static void pm_quality(struct sbuf *o, const struct snap *s)
{
	char l[2 * BB_SYMBOL_MAX + 16];

	pm_head(o, "symbol_quality_percent", "gauge", "Real bars / expected "
	        "minutes, percent (the worst symbols shown).");
	for (size_t i = 0; i < s->nworst; i++) {
		pm_symbol_label(l, sizeof(l), s->worst[i].name);
		pm_val(o, "symbol_quality_percent", s->bus, l, s->worst[i].q.quality);
	}
	pm_head(o, "symbol_quality_with_fills_percent", "gauge", "(Real + "
	        "filled bars) / expected minutes, percent.");
	for (size_t i = 0; i < s->nworst; i++) {
		pm_symbol_label(l, sizeof(l), s->worst[i].name);
		pm_val(o, "symbol_quality_with_fills_percent", s->bus, l,
		       s->worst[i].q.quality_with_fills);
	}
}

static void fmt_prom(struct sbuf *o, const struct snap *s)
{
	pm_one(o, s, "healthy", "gauge", "1 healthy, 0 degraded (as --check).",
	       s->verdict == V_HEALTHY);
	pm_writers(o, s);
	if (s->have_status)
		pm_session(o, s);
	pm_one(o, s, "symbols", "gauge", "Symbols on the bus.", s->nsym);
	pm_one(o, s, "ring_head", "gauge", "Records written to the ring.",
	       (double)s->ring.head);
	pm_one(o, s, "ring_capacity", "gauge", "Ring slots.",
	       (double)s->ring.capacity);
	if (s->rate >= 0)
		pm_one(o, s, "ring_records_per_second", "gauge", "Ring records "
		       "per second over the last interval.", s->rate);
	pm_counters(o, s);
	pm_upkeep(o, s);
	pm_quality(o, s);
}

#endif /* BB_STATUS_JSON_H */
