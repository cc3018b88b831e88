/*
 * tz.c: TZif files (RFC 8536), version 2 and later: the 64-bit section's
 * transitions, then the footer's POSIX TZ string (e.g.
 * "GMT0BST,M3.5.0/1,M10.5.0") for times past the last transition. The
 * 32-bit section is skipped, leap-second ("right/") zones are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barbus.h"
#include "error.h"
#include "tz.h"

#define DAY        86400
#define HOUR       3600
#define FILE_MAX   (256u << 10) /* the largest zone file is ~4 KiB */
#define HDR_LEN    44
#define UTOFF_MAX  (26 * HOUR)   /* RFC 8536: -25:59:59 .. 25:59:59 */

/* One POSIX TZ rule date: Mm.w.d, Jn (no Feb 29) or n (0-based). */
struct rule {
	char    kind;     /* 'M', 'J' or 'N' */
	int     m, w, d;  /* M: month, week 1..5, weekday 0..6; J/N: d */
	int32_t time;     /* local seconds after midnight, may be < 0 or > 24h */
};

struct bb__tz {
	size_t   n;        /* transitions */
	int64_t *at;       /* n UTC times, strictly increasing */
	uint8_t *type;     /* n indexes into utoff */
	size_t   ntypes;
	int32_t *utoff;    /* seconds east */
	int      footer;   /* 0: none (last type holds), 1: fixed, 2: DST */
	int32_t  std_off, dst_off;
	struct rule start, end; /* into and out of DST */
};

struct hdr {
	uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int hdr_read(const unsigned char *p, size_t len, struct hdr *h,
                    char *why, size_t wl)
{
	if (len < HDR_LEN || memcmp(p, "TZif", 4) != 0)
		return bb__fail(why, wl, "not a TZif file");
	if (p[4] < '2')
		return bb__fail(why, wl, "TZif version 1 (want 2 or later)");
	*h = (struct hdr){ be32(p + 20), be32(p + 24), be32(p + 28),
	                   be32(p + 32), be32(p + 36), be32(p + 40) };
	if (h->type == 0 || h->type > 256 || h->time > (1u << 20) ||
	    h->chars > (1u << 16) || h->leap > (1u << 16) ||
	    (h->isut != 0 && h->isut != h->type) ||
	    (h->isstd != 0 && h->isstd != h->type))
		return bb__fail(why, wl, "impossible TZif header counts");
	if (h->leap != 0)
		return bb__fail(why, wl, "leap-second zones are not supported");
	return 0;
}

/* Bytes of a data block after its header, times of tsize bytes. */
static uint64_t block_len(const struct hdr *h, unsigned tsize)
{
	return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 +
	       h->chars + (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* ---- POSIX TZ strings --------------------------------------------------- */

static int num(const char **p, int max_digits, int *v)
{
	int n = 0;

	*v = 0;
	for (; **p >= '0' && **p <= '9' && n < max_digits; (*p)++, n++)
		*v = *v * 10 + (**p - '0');
	return n > 0 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, into seconds (sign applied). */
static int hms(const char **p, int max_h, int32_t *secs)
{
	int sign = 1, h, m = 0, s = 0;

	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (num(p, 3, &h) != 0 || h > max_h)
		return -1;
	if (**p == ':' && ((*p)++, num(p, 2, &m) != 0 || m > 59))
		return -1;
	if (**p == ':' && ((*p)++, num(p, 2, &s) != 0 || s > 59))
		return -1;
	*secs = sign * (h * HOUR + m * 60 + s);
	return 0;
}

/* A zone abbreviation: 3+ letters, or <[A-Za-z0-9+-]+>. */
static int abbr(const char **p)
{
	const char *q = *p;

	if (*q == '<') {
		for (q++; *q && *q != '>'; q++)
			if (!strchr("+-", *q) && !((*q | 32) >= 'a' && (*q | 32) <= 'z') &&
			    !(*q >= '0' && *q <= '9'))
				return -1;
		if (*q != '>' || q - *p < 2)
			return -1;
		*p = q + 1;
		return 0;
	}
	while ((*q | 32) >= 'a' && (*q | 32) <= 'z')
		q++;
	if (q - *p < 3)
		return -1;
	*p = q;
	return 0;
}

static int rule_parse(const char **p, struct rule *r)
{
	if (*(*p)++ != ',')
		return -1;
	if (**p == 'M') {
		(*p)++;
		r->kind = 'M';
		if (num(p, 2, &r->m) || r->m < 1 || r->m > 12 || *(*p)++ != '.' ||
		    num(p, 1, &r->w) || r->w < 1 || r->w > 5 || *(*p)++ != '.' ||
		    num(p, 1, &r->d) || r->d > 6)
			return -1;
	} else {
		r->kind = **p == 'J' ? 'J' : 'N';
		*p += r->kind == 'J';
		if (num(p, 3, &r->d) || r->d > 365 || (r->kind == 'J' && r->d < 1))
			return -1;
	}
	r->time = 2 * HOUR;
	if (**p == '/')
		return (*p)++, hms(p, 167, &r->time);
	return 0;
}

/* The footer's TZ string s (NUL-terminated) into z. */
static int posix_parse(bb__tz *z, const char *s)
{
	int32_t off;

	if (*s == '\0')
		return 0;
	if (abbr(&s) || hms(&s, 24, &off))
		return -1;
	z->std_off = -off; /* POSIX offsets are hours west */
	z->footer = 1;
	if (*s == '\0')
		return 0;
	if (abbr(&s))
		return -1;
	z->dst_off = z->std_off + HOUR;
	if (*s != ',' && *s != '\0') {
		if (hms(&s, 24, &off))
			return -1;
		z->dst_off = -off;
	}
	if (rule_parse(&s, &z->start) || rule_parse(&s, &z->end) || *s != '\0')
		return -1;
	z->footer = 2;
	return 0;
}

/* ---- the file ----------------------------------------------------------- */

static int data_read(bb__tz *z, const struct hdr *h, const unsigned char *p,
                     char *why, size_t wl)
{
	z->n = h->time;
	z->ntypes = h->type;
	z->at = malloc((z->n ? z->n : 1) * sizeof(*z->at));
	z->type = malloc(z->n ? z->n : 1);
	z->utoff = malloc(z->ntypes * sizeof(*z->utoff));
	if (z->at == NULL || z->type == NULL || z->utoff == NULL)
		return ENOMEM;
	for (size_t i = 0; i < z->n; i++) {
		z->at[i] = be64(p + 8 * i);
		if (i > 0 && z->at[i] <= z->at[i - 1])
			return bb__fail(why, wl, "transition times not increasing");
	}
	p += 8 * z->n;
	for (size_t i = 0; i < z->n; i++)
		if ((z->type[i] = p[i]) >= z->ntypes)
			return bb__fail(why, wl, "transition of an unknown type");
	p += z->n;
	for (size_t i = 0; i < z->ntypes; i++) {
		int32_t u = (int32_t)be32(p + 6 * i);
		if (u <= -UTOFF_MAX || u >= UTOFF_MAX || p[6 * i + 4] > 1 ||
		    p[6 * i + 5] >= h->chars)
			return bb__fail(why, wl, "impossible local time type");
		z->utoff[i] = u;
	}
	return 0;
}

int bb__tz_parse(bb__tz **out, const unsigned char *p, size_t len,
                 char *why, size_t wl)
{
	struct hdr h;
	char tzs[128];
	int rc;

	if ((rc = hdr_read(p, len, &h, why, wl)) != 0)
		return rc;
	uint64_t skip = HDR_LEN + block_len(&h, 4);
	if (skip + HDR_LEN > len)
		return bb__fail(why, wl, "truncated TZif file");
	p += skip;
	len -= (size_t)skip;
	if ((rc = hdr_read(p, len, &h, why, wl)) != 0)
		return rc;
	uint64_t body = block_len(&h, 8);
	if (HDR_LEN + body > len)
		return bb__fail(why, wl, "truncated TZif file");
	const char *f = (const char *)p + HDR_LEN + body;
	size_t flen = len - HDR_LEN - (size_t)body;
	const char *nl = flen > 1 ? memchr(f + 1, '\n', flen - 1) : NULL;
	if (flen < 2 || f[0] != '\n' || nl == NULL || (size_t)(nl - f) > sizeof(tzs))
		return bb__fail(why, wl, "no TZ string footer");
	memcpy(tzs, f + 1, (size_t)(nl - f - 1));
	tzs[nl - f - 1] = '\0';
	bb__tz *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return ENOMEM;
	if ((rc = data_read(z, &h, p + HDR_LEN, why, wl)) == 0 &&
	    posix_parse(z, tzs) != 0)
		rc = bb__fail(why, wl, "bad TZ string footer '%s'", tzs);
	if (rc != 0) {
		bb__tz_free(z);
		return rc;
	}
	*out = z;
	return 0;
}

int bb__tz_name_check(const char *name)
{
	size_t n = 0, part = 0;

	if (name == NULL)
		return BB_EINVAL;
	for (; name[n] != '\0'; n++) {
		char c = name[n];
		if (n + 1 >= BB__TZ_NAME_MAX)
			return BB_EINVAL;
		if (c == '/') {
			if (part == 0 || (part <= 2 && strncmp(name + n - part, "..", part) == 0))
				return BB_EINVAL;
			part = 0;
			continue;
		}
		if (!((c | 32) >= 'a' && (c | 32) <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '-' && c != '+' && c != '.')
			return BB_EINVAL;
		part++;
	}
	if (part == 0 || (part <= 2 && strncmp(name + n - part, "..", part) == 0))
		return BB_EINVAL;
	return 0;
}

static int utc_zone(bb__tz **out)
{
	bb__tz *z = calloc(1, sizeof(*z));

	if (z == NULL || (z->utoff = calloc(1, sizeof(*z->utoff))) == NULL) {
		free(z);
		return ENOMEM;
	}
	z->ntypes = 1;
	*out = z;
	return 0;
}

/* A regular file of at most FILE_MAX bytes into buf; 0 or errno. */
static int read_small(const char *path, unsigned char *buf, size_t *len)
{
	struct stat st;
	size_t n = 0;
	int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0)
		rc = errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	else if ((uint64_t)st.st_size > FILE_MAX)
		rc = EFBIG;
	while (rc == 0) {
		ssize_t r = read(fd, buf + n, FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = errno;
		else if (r == 0)
			break;
		else if ((n += (size_t)r) > FILE_MAX)
			rc = EFBIG;
	}
	close(fd);
	*len = n;
	return rc;
}

int bb__tz_load(bb__tz **out, const char *name, char *why, size_t wl)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	size_t len = 0;

	if (bb__tz_name_check(name) != 0)
		return bb__fail(why, wl, "bad zone name '%s'", name ? name : "");
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return utc_zone(out);
	if (dir == NULL || dir[0] == '\0')
		dir = BB__TZ_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return bb__fail(why, wl, "zone '%s': path too long", name);
	unsigned char *buf = malloc(FILE_MAX + 1);
	if (buf == NULL)
		return ENOMEM;
	int rc = read_small(path, buf, &len);
	if (rc == ENOENT)
		bb__fail(why, wl, "unknown zone '%s': no file %s (is tzdata "
		         "installed?)", name, path);
	else if (rc != 0)
		bb__fail(why, wl, "zone '%s': %s: %s", name, path, strerror(rc));
	else if ((rc = bb__tz_parse(out, buf, len, why, wl)) == BB_EINVAL) {
		char r[160];
		snprintf(r, sizeof(r), "%s", why ? why : "");
		bb__fail(why, wl, "zone '%s': %s: %s", name, path, r);
	}
	free(buf);
	return rc;
}

void bb__tz_free(bb__tz *z)
{
	if (z == NULL)
		return;
	free(z->at);
	free(z->type);
	free(z->utoff);
	free(z);
}

/* ---- queries ------------------------------------------------------------ */

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Day number (since 1970-01-01) of rule r in year y. */
static int64_t rule_day(const struct rule *r, int32_t y)
{
	int64_t jan1 = bb_date_to_days(y * 10000 + 101);

	if (r->kind == 'J')
		return jan1 + r->d - 1 + (is_leap(y) && r->d >= 60);
	if (r->kind == 'N')
		return jan1 + r->d;
	int32_t ny = r->m == 12 ? y + 1 : y, nm = r->m == 12 ? 1 : r->m + 1;
	int64_t first = bb_date_to_days(y * 10000 + r->m * 100 + 1);
	int64_t next = bb_date_to_days(ny * 10000 + nm * 100 + 1);
	int wd = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	int64_t day = first + (r->d - wd + 7) % 7 + 7 * (r->w - 1);
	while (day >= next)
		day -= 7;
	return day;
}

static int32_t footer_offset(const bb__tz *z, int64_t t)
{
	if (z->footer == 1)
		return z->std_off;
	int64_t days = floor_div(t + z->std_off, DAY);
	int32_t date = bb_days_to_date(days);
	if (date == 0)
		return z->std_off; /* outside years 0001..9999 */
	int32_t y = date / 10000;
	int64_t s = rule_day(&z->start, y) * DAY + z->start.time - z->std_off;
	int64_t e = rule_day(&z->end, y) * DAY + z->end.time - z->dst_off;
	int dst = s < e ? t >= s && t < e : !(t >= e && t < s);
	return dst ? z->dst_off : z->std_off;
}

int32_t bb__tz_offset_at(const bb__tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (z->n == 0 || t < z->at[0])
		return z->n == 0 && z->footer ? footer_offset(z, t) : z->utoff[0];
	if (t >= z->at[z->n - 1] && z->footer)
		return footer_offset(z, t);
	while (lo < hi) { /* the last transition at or before t */
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->utoff[z->type[lo - 1]];
}

int bb__tz_local_offsets(const bb__tz *z, int64_t local, int32_t off[2])
{
	int n = 0;

	/* Every offset in effect within two days of local is a candidate; one
	 * is right when the clock reads local at the instant it gives. */
	for (int k = -2; k <= 2; k++) {
		int32_t o = bb__tz_offset_at(z, local + k * DAY);
		if ((n > 0 && o == off[0]) || (n > 1 && o == off[1]))
			continue;
		if (bb__tz_offset_at(z, local - o) != o)
			continue;
		if (n == 2)
			continue;
		off[n++] = o;
	}
	if (n == 2 && off[1] > off[0]) { /* earlier instant (larger offset) first */
		int32_t t = off[0];
		off[0] = off[1];
		off[1] = t;
	}
	return n;
}
