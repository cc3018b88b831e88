/*
 * csv.c: parse, validate and format rows of the bar CSV format (csv.h).
 * Importing runs at a million rows a second, so numbers take an exact fast
 * path (Clinger: an integer mantissa below 2^53 times or over a power of
 * ten up to 10^22 is one correctly rounded IEEE operation) before strtod.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "error.h"
#include "timefmt.h"

#define FIELDS_MAX BB__CSV_FIELDS_MAX
#define ECHO_MAX   40 /* bytes of a bad field quoted in a reason */

static const char *const col_names[BB__NCOLS] = {
	"symbol", "timestamp", "open", "high", "low", "close", "volume",
	"trades", "vwap",
};

/* Other names real sources give columns: Polygon flat files, Databento. */
static const struct {
	const char *name;
	int         col;
} aliases[] = {
	{ "ticker", BB__COL_SYMBOL },          /* Polygon */
	{ "window_start", BB__COL_TIMESTAMP }, /* Polygon, nanoseconds */
	{ "transactions", BB__COL_TRADES },    /* Polygon */
	{ "ts_event", BB__COL_TIMESTAMP },     /* Databento, nanoseconds */
};

/* Columns of real sources that a bar has no room for: read past. */
static const char *const ignored[] = {
	"rtype", "publisher_id", "instrument_id", /* Databento */
};

struct field {
	const char *s;
	size_t      len;
};

/* Blanks around a field and one pair of enclosing double quotes go. */
static struct field trim(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	return (struct field){ s, len };
}

/*
 * Splits s[0..len) at commas into f[0..FIELDS_MAX); returns the count, and
 * in *nul the first field (from 0) that holds a NUL byte, -1 when none:
 * one search of the row for it, not one a field.
 */
static int split(const char *s, size_t len, struct field *f, int *nul)
{
	const char *end = s + len, *z = memchr(s, '\0', len);
	int n = 0;

	if (len > 0 && end[-1] == '\r')
		end--;
	*nul = -1;
	for (const char *p = s;; n++) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *fe = c ? c : end;
		if (n < FIELDS_MAX)
			f[n] = trim(p, (size_t)(fe - p));
		if (z != NULL && *nul < 0 && z < fe)
			*nul = n;
		if (c == NULL)
			return n + 1;
		p = c + 1;
	}
}

/* A field quoted for a message: at most ECHO_MAX bytes, unprintables '?'. */
static const char *echo(char *buf, struct field f)
{
	size_t n = f.len < ECHO_MAX ? f.len : ECHO_MAX, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f.s[i];
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (f.len > ECHO_MAX)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static int name_is(const char *name, struct field f)
{
	return strlen(name) == f.len && strncasecmp(name, f.s, f.len) == 0;
}

/* The column a header field names, by its name or an alias; BB__NCOLS
 * for a column that is ignored, -1 for an unknown one. */
static int column(struct field f)
{
	for (int c = 0; c < BB__NCOLS; c++)
		if (name_is(col_names[c], f))
			return c;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (name_is(aliases[i].name, f))
			return aliases[i].col;
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		if (name_is(ignored[i], f))
			return BB__NCOLS;
	return -1;
}

int bb__csv_parse_header(bb__csv_hdr *h, const char *s, size_t len,
                         char *reason, size_t rlen)
{
	struct field f[FIELDS_MAX];
	char e[ECHO_MAX + 4];
	int n, nul;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 BOM */
		s += 3;
		len -= 3;
	}
	n = split(s, len, f, &nul); /* a NUL makes the name unknown */
	if (n == 1 && f[0].len == 0)
		return bb__fail(reason, rlen, "missing header row");
	memset(h->pos, -1, sizeof(h->pos));
	memset(h->col, -1, sizeof(h->col));
	h->time_unit = BB__TIME_AUTO;
	for (int i = 0; i < n; i++) {
		if (i >= FIELDS_MAX)
			return bb__fail(reason, rlen, "too many columns: %d", n);
		int c = column(f[i]);
		if (c < 0)
			return bb__fail(reason, rlen, "unknown column \"%s\"", echo(e, f[i]));
		if (c == BB__NCOLS)
			continue; /* h->col[i] stays -1 */
		if (h->pos[c] >= 0)
			return bb__fail(reason, rlen, "duplicate column \"%s\"",
			            col_names[c]);
		h->pos[c] = (int8_t)i;
		h->col[i] = (int8_t)c;
	}
	for (int c = 0; c <= BB__COL_VOLUME; c++)
		if (h->pos[c] < 0)
			return bb__fail(reason, rlen, "missing column \"%s\"", col_names[c]);
	h->nfields = n;
	return 0;
}

static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Plain [+-]digits[.digits][e[+-]digits] within Clinger's bounds, else -1. */
static int fast_double(const char *p, const char *e, double *v)
{
	uint64_t m = 0;
	int neg = 0, nd = 0, ex = 0, any = 0;

	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (int frac = 0;; p++) {
		if (p < e && *p == '.' && !frac) {
			frac = 1;
			continue;
		}
		if (p == e || *p < '0' || *p > '9')
			break;
		any = 1;
		if (m == 0 && *p == '0') {
			ex -= frac;
			continue;
		}
		if (++nd > 19)
			return -1;
		m = m * 10 + (uint64_t)(*p - '0');
		ex -= frac;
	}
	if (!any)
		return -1;
	if (p < e && (*p == 'e' || *p == 'E')) {
		int eneg = 0, x = 0, xd = 0;
		if (++p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < e && *p >= '0' && *p <= '9' && xd < 5; p++, xd++)
			x = x * 10 + (*p - '0');
		if (xd == 0 || xd == 5)
			return -1;
		ex += eneg ? -x : x;
	}
	if (p != e || m > (1ull << 53) || ex < -22 || ex > 22)
		return -1;
	double d = (double)m;
	d = ex < 0 ? d / pow10_exact[-ex] : d * pow10_exact[ex];
	*v = neg ? -d : d;
	return 0;
}

int bb__csv_parse_double(const char *s, size_t len, double *v)
{
	char buf[64], *end;

	if (fast_double(s, s + len, v) == 0)
		return 0;
	if (len == 0 || len >= sizeof(buf) || memchr(s, 'x', len) ||
	    memchr(s, 'X', len))
		return BB_EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n')
		return BB_EINVAL; /* strtod would skip it */
	errno = 0;
	*v = strtod(buf, &end);
	return end == buf + len ? 0 : BB_EINVAL;
}

/*
 * v as m / 10^k with m < 10^15 and k <= 8 the smallest that reads back, as
 * %.15g would print it (15 significant digits always suffice for such a
 * decimal, and %.15g uses fixed notation in [1e-4, 1e15)). 0: not such.
 */
static int fmt_fast(char *buf, size_t len, double v)
{
	double a = fabs(v);
	char d[32];
	int k = 0, n = 0, o = 0;

	if (!(a == 0 || (a >= 1e-4 && a < 1e15)) || len < 32)
		return 0;
	double x = 0;
	for (; k <= 8; k++) {
		x = round(a * pow10_exact[k]); /* the product itself may round */
		if (x < 1e15 && x / pow10_exact[k] == a)
			break;
	}
	if (k > 8)
		return 0;
	uint64_t m = (uint64_t)x;
	do
		d[n++] = (char)('0' + m % 10);
	while ((m /= 10) != 0);
	while (n <= k)
		d[n++] = '0';
	if (signbit(v))
		buf[o++] = '-';
	while (n > 0) {
		if (n == k)
			buf[o++] = '.';
		buf[o++] = d[--n];
	}
	buf[o] = '\0';
	return o;
}

int bb__csv_fmt_double(char *buf, size_t len, double v)
{
	int n = fmt_fast(buf, len, v);

	for (int prec = 15; n == 0 && prec <= 17; prec++) {
		int k = snprintf(buf, len, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			n = k;
	}
	return n;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

size_t bb__csv_format(char *buf, size_t len, const char *symbol,
                      const bb_bar *b)
{
	const double px[5] = { b->open, b->high, b->low, b->close, b->volume };
	char tmp[BB__CSV_LINE_MAX + 32], *p = tmp;

	if (strlen(symbol) > BB_SYMBOL_MAX || len == 0)
		return 0;
	p = put_str(p, symbol);
	*p++ = ',';
	bb_time_format(b->time, p);
	p += strlen(p);
	for (int i = 0; i < 5; i++) {
		*p++ = ',';
		p += bb__csv_fmt_double(p, 32, px[i]);
	}
	*p++ = '\n';
	size_t n = (size_t)(p - tmp) < len ? (size_t)(p - tmp) : len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

/* Column c's number into *v; a reason when it is not a finite number. */
static int number(const struct field *f, const bb__csv_hdr *h, int c,
                  double *v, char *reason, size_t rlen)
{
	char e[ECHO_MAX + 4];
	const struct field *x = &f[h->pos[c]];

	if (bb__csv_parse_double(x->s, x->len, v) != 0)
		return bb__fail(reason, rlen, "%s: unparsable number \"%s\"",
		            col_names[c], echo(e, *x));
	if (!isfinite(*v))
		return bb__fail(reason, rlen, "%s: NaN or infinity", col_names[c]);
	return 0;
}

/* symbol and timestamp of a row into *row. */
static int key_fields(const bb__csv_hdr *h, const struct field *f,
                      bb__csv_row *row, char *reason, size_t rlen)
{
	const struct field *sy = &f[h->pos[BB__COL_SYMBOL]];
	const struct field *ts = &f[h->pos[BB__COL_TIMESTAMP]];
	char e[ECHO_MAX + 4], tbuf[40];
	int why;

	if (sy->len > BB_SYMBOL_MAX)
		return bb__fail(reason, rlen, "invalid symbol \"%s\"", echo(e, *sy));
	memcpy(row->symbol, sy->s, sy->len);
	row->symbol[sy->len] = '\0';
	if (bb_symbol_check(row->symbol) != 0)
		return bb__fail(reason, rlen, "invalid symbol \"%s\"", echo(e, *sy));
	if (ts->len >= sizeof(tbuf))
		return bb__fail(reason, rlen, "unparsable timestamp \"%s\"", echo(e, *ts));
	memcpy(tbuf, ts->s, ts->len);
	tbuf[ts->len] = '\0';
	if (bb__time_parse_unit(tbuf, h->time_unit, &row->bar.time, &why) != 0)
		return bb__fail(reason, rlen, why == BB__TIME_FRACTION
		                ? "timestamp has a fraction of a second \"%s\": bars "
		                  "are whole minutes"
		                : "unparsable timestamp \"%s\"", echo(e, *ts));
	if (row->bar.time < BB__TIME_MIN || row->bar.time >= BB__TIME_END)
		return bb__fail(reason, rlen, "timestamp \"%s\" outside 1970-01-01 to "
		                "9999-12-31: the store cannot hold it", echo(e, *ts));
	if (row->bar.time % 60 != 0) {
		bb_time_format(row->bar.time, tbuf);
		return bb__fail(reason, rlen, "timestamp not on a minute boundary: %s",
		            tbuf);
	}
	return 0;
}

/* trades and vwap, when present. */
static int extra_fields(const bb__csv_hdr *h, const struct field *f,
                        bb__csv_row *row, char *reason, size_t rlen)
{
	char e[ECHO_MAX + 4];
	int rc;

	row->trades = -1;
	row->vwap = NAN;
	if (h->pos[BB__COL_TRADES] >= 0) {
		const struct field *x = &f[h->pos[BB__COL_TRADES]];
		int64_t t = 0;
		size_t i = 0;
		for (; i < x->len && i < 18 && x->s[i] >= '0' && x->s[i] <= '9'; i++)
			t = t * 10 + (x->s[i] - '0');
		if (i == 0 || i != x->len)
			return bb__fail(reason, rlen,
			            "trades: not a non-negative integer \"%s\"",
			            echo(e, *x));
		row->trades = t;
	}
	if (h->pos[BB__COL_VWAP] >= 0 &&
	    (rc = number(f, h, BB__COL_VWAP, &row->vwap, reason, rlen)) != 0)
		return rc;
	return 0;
}

/* A reason when price v (column name) is outside [lo, hi]. */
static int inside(const char *name, double v, double lo, double hi,
                  char *reason, size_t rlen)
{
	char o[32], l[32], h[32];

	if (v >= lo && v <= hi)
		return 0;
	bb__csv_fmt_double(o, sizeof(o), v);
	bb__csv_fmt_double(l, sizeof(l), lo);
	bb__csv_fmt_double(h, sizeof(h), hi);
	return bb__fail(reason, rlen, "%s outside [low, high]: %s not in [%s, %s]",
	            name, o, l, h);
}

/* The checks between fields of a parsed row. */
static int relations(const bb__csv_row *row, char *reason, size_t rlen)
{
	const bb_bar *b = &row->bar;
	char x[32], y[32];
	int rc;

	if (b->high < b->low) {
		bb__csv_fmt_double(x, sizeof(x), b->high);
		bb__csv_fmt_double(y, sizeof(y), b->low);
		return bb__fail(reason, rlen, "high below low: high %s < low %s", x, y);
	}
	if ((rc = inside("open", b->open, b->low, b->high, reason, rlen)) ||
	    (rc = inside("close", b->close, b->low, b->high, reason, rlen)))
		return rc;
	if (b->volume < 0) {
		bb__csv_fmt_double(x, sizeof(x), b->volume);
		return bb__fail(reason, rlen, "negative volume: %s", x);
	}
	if (!isnan(row->vwap))
		return inside("vwap", row->vwap, b->low, b->high, reason, rlen);
	return 0;
}

int bb__csv_parse_row(const bb__csv_hdr *h, const char *s, size_t len,
                      bb__csv_row *row, char *reason, size_t rlen)
{
	struct field f[FIELDS_MAX];
	double *px[5] = { &row->bar.open, &row->bar.high, &row->bar.low,
	                  &row->bar.close, &row->bar.volume };
	int nul, n = split(s, len, f, &nul), rc;

	if (n != h->nfields)
		return bb__fail(reason, rlen, "wrong column count: %d fields, expected %d",
		            n, h->nfields);
	row->bar = (bb_bar){ 0 };
	if (nul >= 0)
		return bb__fail(reason, rlen, "NUL byte in field %d (%s)",
		                nul + 1, h->col[nul] >= 0 && h->col[nul] < BB__NCOLS
		                ? col_names[h->col[nul]] : "ignored");
	if ((rc = key_fields(h, f, row, reason, rlen)) != 0)
		return rc;
	for (int c = BB__COL_OPEN; c <= BB__COL_VOLUME; c++)
		if ((rc = number(f, h, c, px[c - BB__COL_OPEN], reason, rlen)) != 0)
			return rc;
	if ((rc = extra_fields(h, f, row, reason, rlen)) != 0)
		return rc;
	return relations(row, reason, rlen);
}
