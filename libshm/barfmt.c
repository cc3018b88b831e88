/* barfmt.c: printing bars and events for the reader tools; see barfmt.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "barfmt.h"
#include "csv.h"
#include "error.h"

void bb__barfmt_flags(uint32_t flags, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *word; } w[] = {
		{ BB_BAR_FILLED, "filled" }, { BB_BAR_SYNTHETIC, "synthetic" },
		{ BB_BAR_PARTIAL, "partial" }, { BB_BAR_LATE, "late" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]) && n < len; i++)
		if (flags & w[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			                      n ? "|" : "", w[i].word);
}

void bb__barfmt_csv(FILE *out, const char *sym, const bb_bar *b)
{
	char line[BB__CSV_LINE_MAX], fl[40];
	size_t k = bb__csv_format(line, sizeof(line), sym, b);

	line[k - 1] = '\0'; /* drop the newline: flags follow */
	bb__barfmt_flags(b->flags, fl, sizeof(fl));
	fprintf(out, "%s,%s\n", line, fl);
}

void bb__barfmt_json(FILE *out, const char *sym, const bb_bar *b)
{
	char t[24], fl[40], v[5][32];
	const double x[5] = { b->open, b->high, b->low, b->close, b->volume };

	bb_time_format(b->time, t);
	bb__barfmt_flags(b->flags, fl, sizeof(fl));
	for (int i = 0; i < 5; i++)
		bb__csv_fmt_double(v[i], sizeof(v[i]), x[i]);
	/* Symbols are [A-Za-z0-9._/-]: nothing to escape in JSON. */
	fprintf(out, "{\"symbol\":\"%s\",\"timestamp\":\"%s\",\"open\":%s,"
	        "\"high\":%s,\"low\":%s,\"close\":%s,\"volume\":%s,"
	        "\"flags\":\"%s\"}\n", sym, t, v[0], v[1], v[2], v[3], v[4], fl);
}

static void session_line(FILE *out, const bb_bar *ev, int csv)
{
	static const char *why[] = { "close", "timeout", "end of data" };
	int start = BB_KIND(ev->flags) == BB_KIND_SESSION_START, reason = 0;
	bb_session s;
	char d[12], o[24], c[24];

	if (bb_event_session_get(ev, &s, &reason) != 0)
		return;
	bb_date_format(s.date, d);
	bb_time_format(s.open, o);
	bb_time_format(s.close, c);
	const char *r = reason >= 0 && reason <= 2 ? why[reason] : "?";
	if (csv)
		fprintf(out, "# %s %s open=%s close=%s%s%s\n",
		        start ? "SESSION_START" : "SESSION_END", d, o, c,
		        start ? "" : " reason=", start ? "" : r);
	else
		fprintf(out, "{\"event\":\"%s\",\"date\":\"%s\",\"open\":\"%s\","
		        "\"close\":\"%s\"%s%s%s}\n",
		        start ? "session_start" : "session_end", d, o, c,
		        start ? "" : ",\"reason\":\"", start ? "" : r,
		        start ? "" : "\"");
}

void bb__barfmt_event(FILE *out, const bb_bar *ev, int csv)
{
	char t[24];

	switch (BB_KIND(ev->flags)) {
	case BB_KIND_MINUTE_END:
		bb_time_format(ev->time, t);
		if (csv)
			fprintf(out, "# MINUTE_END %s bars=%.0f\n", t, ev->volume);
		else
			fprintf(out, "{\"event\":\"minute_end\",\"timestamp\":\"%s\","
			        "\"bars\":%.0f}\n", t, ev->volume);
		break;
	case BB_KIND_SESSION_START:
	case BB_KIND_SESSION_END:
		session_line(out, ev, csv);
		break;
	default:
		break;
	}
}

int bb__barfmt_interval(void *dst, const char *value, char *reason,
                        size_t len)
{
	char *end;
	unsigned long n;
	uint32_t m = 0;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno == 0 && end != value && n > 0 && value[0] >= '0' &&
	    value[0] <= '9') {
		if (strcmp(end, "m") == 0 && n <= 1440)
			m = (uint32_t)n;
		else if (strcmp(end, "h") == 0 && n <= 24)
			m = (uint32_t)n * 60;
	}
	if (m == 0)
		return bb__fail(reason, len, "'%s' is not 1m, Nm or Nh", value);
	memcpy(dst, &m, sizeof(m));
	return 0;
}
