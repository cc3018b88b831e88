/*
 * settings.c: one value parser per setting type, shared by defaults, the
 * INI file and command-line flags (settings_args.c). See settings.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barbus.h"
#include "error.h"
#include "settings.h"


static void *field(const struct bb__setting *s, void *obj)
{
	return (char *)obj + s->offset;
}

/* ---- numbers ---------------------------------------------------------- */

static uint64_t uint_field_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

static void put_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(p, &u8, 1); break;
	case 2: memcpy(p, &u16, 2); break;
	case 4: memcpy(p, &u32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

static void put_int(void *p, size_t size, int64_t v)
{
	int8_t i8 = (int8_t)v;
	int16_t i16 = (int16_t)v;
	int32_t i32 = (int32_t)v;

	switch (size) {
	case 1: memcpy(p, &i8, 1); break;
	case 2: memcpy(p, &i16, 2); break;
	case 4: memcpy(p, &i32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* The unsigned bounds of s: its own, clipped to what its field holds. */
static void uint_bounds(const struct bb__setting *s, uint64_t *min,
                        uint64_t *max)
{
	uint64_t top = uint_field_max(s->size);

	*min = s->lim.u.min;
	*max = (s->lim.u.min == 0 && s->lim.u.max == 0) || s->lim.u.max > top
	       ? top : s->lim.u.max;
}

/* Leading decimal digits of v as *x; *end after them. ERANGE on overflow,
 * EINVAL when v does not start with a digit (strtoull would accept
 * blanks, signs and "-1" as a huge number). */
static int scan_digits(const char *v, uint64_t *x, char **end)
{
	if (!isdigit((unsigned char)v[0]))
		return EINVAL;
	errno = 0;
	unsigned long long r = strtoull(v, end, 10);
	if (errno == ERANGE)
		return ERANGE;
	*x = r;
	return 0;
}

int bb__settings_parse_uint(const char *value, uint64_t min, uint64_t max,
                            uint64_t *out, char *reason, size_t len)
{
	char *end;
	uint64_t x = 0;
	int rc = scan_digits(value, &x, &end);

	if (rc == EINVAL || (rc == 0 && *end != '\0'))
		return bb__fail(reason, len, "'%s' is not a whole number", value);
	if (rc == ERANGE || x < min || x > max)
		return bb__fail(reason, len, "'%s' is out of range %llu..%llu", value,
		            (unsigned long long)min, (unsigned long long)max);
	*out = x;
	return 0;
}

static int parse_int(const struct bb__setting *s, void *dst, const char *v,
                     char *reason, size_t len)
{
	int bits = (int)(s->size >= 8 ? 64 : 8 * s->size);
	int64_t lo = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
	int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
	char *end;

	if (s->lim.i.min != 0 || s->lim.i.max != 0) {
		lo = s->lim.i.min > lo ? s->lim.i.min : lo;
		hi = s->lim.i.max < hi ? s->lim.i.max : hi;
	}
	if (!isdigit((unsigned char)v[v[0] == '-']))
		return bb__fail(reason, len, "'%s' is not an integer", v);
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (*end != '\0')
		return bb__fail(reason, len, "'%s' is not an integer", v);
	if (errno == ERANGE || x < lo || x > hi)
		return bb__fail(reason, len, "'%s' is out of range %lld..%lld", v,
		            (long long)lo, (long long)hi);
	put_int(dst, s->size, x);
	return 0;
}

static int parse_double(const struct bb__setting *s, void *dst, const char *v,
                        char *reason, size_t len)
{
	char *end;
	double x;

	if (v[0] == '\0' || isspace((unsigned char)v[0]))
		return bb__fail(reason, len, "'%s' is not a number", v);
	x = strtod(v, &end);
	if (*end != '\0' || !isfinite(x))
		return bb__fail(reason, len, "'%s' is not a finite number", v);
	if ((s->lim.d.min != 0 || s->lim.d.max != 0) &&
	    (x < s->lim.d.min || x > s->lim.d.max))
		return bb__fail(reason, len, "'%s' is out of range %g..%g", v,
		            s->lim.d.min, s->lim.d.max);
	memcpy(dst, &x, sizeof(x));
	return 0;
}

/* "250ms", "2s", "1m", "1h" or a bare number of milliseconds. */
static int parse_duration(const struct bb__setting *s, void *dst,
                          const char *v, char *reason, size_t len)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	uint64_t x = 0, mult = 0, min, max;
	char *end;
	int rc = scan_digits(v, &x, &end);

	for (size_t i = 0; rc != EINVAL && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			mult = units[i].ms;
	if (rc == EINVAL || mult == 0)
		return bb__fail(reason, len, "'%s' is not a duration (like 250ms, 2s, "
		            "1m, or a number of ms)", v);
	uint_bounds(s, &min, &max);
	if (rc == ERANGE || x > UINT64_MAX / mult || x * mult < min ||
	    x * mult > max)
		return bb__fail(reason, len, "'%s' is out of range %llums..%llums", v,
		            (unsigned long long)min, (unsigned long long)max);
	put_uint(dst, s->size, x * mult);
	return 0;
}

/* ---- words ------------------------------------------------------------ */

static const char *const bool_words[] = {
	"false", "true", "no", "yes", "off", "on", "0", "1", NULL,
};

int bb__settings_parse_bool(const char *value, int *out, char *reason,
                            size_t len)
{
	for (size_t i = 0; bool_words[i] != NULL; i++)
		if (strcasecmp(value, bool_words[i]) == 0) {
			*out = (int)(i % 2); /* odd entries are the true ones */
			return 0;
		}
	return bb__fail(reason, len, "'%s' is not a boolean (true/false, yes/no, "
	            "on/off, 1/0)", value);
}

static int parse_enum(const struct bb__setting *s, void *dst, const char *v,
                      char *reason, size_t len)
{
	char names[256] = "";
	size_t used = 0;

	for (int i = 0; s->names[i] != NULL; i++)
		if (strcmp(v, s->names[i]) == 0) {
			memcpy(dst, &i, sizeof(i));
			return 0;
		}
	for (int i = 0; s->names[i] != NULL && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
		                         i ? ", " : "", s->names[i]);
	return bb__fail(reason, len, "'%s' is not one of %s", v, names);
}

static int parse_string(const struct bb__setting *s, void *dst, const char *v,
                        char *reason, size_t len)
{
	size_t n = strlen(v);

	if (s->check != NULL && s->check(v, reason, len) != 0)
		return BB_EINVAL;
	if (n >= s->size)
		return bb__fail(reason, len, "value is longer than %zu characters",
		            s->size - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

/* ---- lists ------------------------------------------------------------ */

struct list {
	char **v;
	size_t n, cap;
};

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct list){ 0 };
}

/* Append item [p, p+n) with blanks trimmed, after s->check. */
static int list_add(const struct bb__setting *s, struct list *l,
                    const char *p, size_t n, char *reason, size_t len)
{
	while (n > 0 && isspace((unsigned char)*p))
		p++, n--;
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n == 0)
		return bb__fail(reason, len, "empty item in list");
	char *item = strndup(p, n);
	if (item == NULL)
		return ENOMEM;
	if (s->check != NULL && s->check(item, reason, len) != 0) {
		free(item);
		return BB_EINVAL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			free(item);
			return ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = item;
	return 0;
}

static int list_from_text(const struct bb__setting *s, struct list *l,
                          const char *v, char *reason, size_t len)
{
	if (v[0] == '\0')
		return 0; /* the empty list */
	for (;;) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		int rc = list_add(s, l, v, n, reason, len);
		if (rc != 0 || comma == NULL)
			return rc;
		v = comma + 1;
	}
}

/* The rest of an open fd into buf (cap bytes, one kept for the NUL). */
static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			break;
		if ((n += (size_t)r) == cap - 1)
			return EFBIG; /* grew since fstat */
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

int bb__settings_read_file(const char *path, size_t max, char **buf,
                           size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *b = NULL;
	int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		rc = errno;
		bb__fail(err, errlen, "%s: %s", path, strerror(rc));
		return rc;
	}
	if (fstat(fd, &st) != 0)
		rc = errno;
	else if (!S_ISREG(st.st_mode))
		rc = EINVAL;
	else if ((uint64_t)st.st_size > max)
		rc = EFBIG;
	else if ((b = malloc((size_t)st.st_size + 2)) == NULL)
		rc = ENOMEM;
	else
		rc = read_all(fd, b, (size_t)st.st_size + 2, len);
	close(fd);
	if (rc == EINVAL)
		bb__fail(err, errlen, "%s: not a regular file", path);
	else if (rc == EFBIG)
		bb__fail(err, errlen, "%s: larger than %zu bytes", path, max);
	else if (rc != 0)
		bb__fail(err, errlen, "%s: %s", path, strerror(rc));
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	return 0;
}

/* One item per line; '#' starts a comment; blank lines skipped. Errors
 * name "PATH:LINE". */
static int list_from_file(const struct bb__setting *s, struct list *l,
                          const char *path, char *reason, size_t len)
{
	char *text, why[BB__REASON_MAX];
	size_t n;
	int rc = bb__settings_read_file(path, BB__LIST_FILE_MAX, &text, &n,
	                                reason, len), lineno = 0;

	if (rc != 0)
		return BB_EINVAL;
	for (char *line = text, *nl; rc == 0 && line < text + n; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + n - line));
		nl = nl ? nl : text + n;
		lineno++;
		if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
			rc = bb__fail(reason, len, "%s:%d: NUL byte in line", path,
			              lineno);
			break;
		}
		*nl = '\0';
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		rc = list_add(s, l, line, strlen(line), why, sizeof(why));
		if (rc != 0)
			bb__fail(reason, len, "%s:%d: %s", path, lineno, why);
	}
	free(text);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* BB_EINVAL naming the first item (in sorted order) listed twice. */
static int list_dups(const struct list *l, char *reason, size_t len)
{
	int rc = 0;
	char **sorted;

	if (l->n < 2)
		return 0;
	if ((sorted = malloc(l->n * sizeof(*sorted))) == NULL)
		return ENOMEM;
	memcpy(sorted, l->v, l->n * sizeof(*sorted));
	qsort(sorted, l->n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; rc == 0 && i < l->n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			rc = bb__fail(reason, len, "'%s' is listed twice", sorted[i]);
	free(sorted);
	return rc;
}

/* Replace the list field only when the whole new list is good. */
static int parse_list(const struct bb__setting *s, void *obj, const char *v,
                      char *reason, size_t len)
{
	struct list l = { 0 };
	int rc = v[0] == '@' ? list_from_file(s, &l, v + 1, reason, len)
	                     : list_from_text(s, &l, v, reason, len);

	if (rc == 0)
		rc = list_dups(&l, reason, len);
	if (rc == ENOMEM)
		bb__fail(reason, len, "out of memory");
	if (rc != 0) {
		list_free(&l);
		return rc;
	}
	struct list old = { 0 };
	memcpy(&old.v, field(s, obj), sizeof(old.v));
	memcpy(&old.n, (char *)obj + s->count_offset, sizeof(old.n));
	list_free(&old);
	memcpy(field(s, obj), &l.v, sizeof(l.v));
	memcpy((char *)obj + s->count_offset, &l.n, sizeof(l.n));
	return 0;
}

/* ---- one value -------------------------------------------------------- */

int bb__settings_value(const struct bb__setting *s, void *obj, const char *v,
                       char *reason, size_t len)
{
	void *dst = field(s, obj);
	uint64_t u, min, max;
	int32_t date;
	int b = 0;

	switch (s->type) {
	case BB__SETTING_BOOL:
		if (bb__settings_parse_bool(v, &b, reason, len) != 0)
			return BB_EINVAL;
		*(bool *)dst = b;
		return 0;
	case BB__SETTING_UINT:
		uint_bounds(s, &min, &max);
		if (bb__settings_parse_uint(v, min, max, &u, reason, len) != 0)
			return BB_EINVAL;
		put_uint(dst, s->size, u);
		return 0;
	case BB__SETTING_INT:         return parse_int(s, dst, v, reason, len);
	case BB__SETTING_DOUBLE:      return parse_double(s, dst, v, reason, len);
	case BB__SETTING_STRING:      return parse_string(s, dst, v, reason, len);
	case BB__SETTING_DURATION_MS: return parse_duration(s, dst, v, reason, len);
	case BB__SETTING_ENUM:        return parse_enum(s, dst, v, reason, len);
	case BB__SETTING_LIST:        return parse_list(s, obj, v, reason, len);
	case BB__SETTING_CUSTOM:      return s->parse(dst, v, reason, len);
	case BB__SETTING_DATE:
		if (bb_date_parse(v, &date) != 0)
			return bb__fail(reason, len, "'%s' is not a date YYYY-MM-DD", v);
		memcpy(dst, &date, sizeof(date));
		return 0;
	}
	return bb__fail(reason, len, "setting of unknown type %d", (int)s->type);
}

const struct bb__setting *bb__settings_find_n(const struct bb__setting *t,
                                              size_t n,
                                        const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(t[i].key, key, klen) == 0 && t[i].key[klen] == '\0')
			return &t[i];
	return NULL;
}

const struct bb__setting *bb__settings_find(const struct bb__setting *t,
                                            size_t n, const char *key)
{
	return bb__settings_find_n(t, n, key, strlen(key));
}

int bb__settings_defaults(const struct bb__setting *t, size_t n, void *obj,
                          char *err, size_t errlen)
{
	char why[BB__REASON_MAX];

	for (size_t i = 0; i < n; i++) {
		if (t[i].def == NULL)
			continue;
		int rc = bb__settings_value(&t[i], obj, t[i].def, why, sizeof(why));
		if (rc != 0) {
			bb__fail(err, errlen, "default of '%s': %s", t[i].key, why);
			return rc;
		}
	}
	return 0;
}

int bb__settings_set(const struct bb__setting *t, size_t n, void *obj,
                     const char *key, const char *value,
                     char *err, size_t errlen)
{
	char why[BB__REASON_MAX];
	const struct bb__setting *s = bb__settings_find(t, n, key);

	if (s == NULL)
		return bb__fail(err, errlen, "--%s: unknown option", key);
	int rc = bb__settings_value(s, obj, value, why, sizeof(why));
	if (rc != 0)
		bb__fail(err, errlen, "--%s: %s", key, why);
	return rc;
}

void bb__settings_free(const struct bb__setting *t, size_t n, void *obj)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].type != BB__SETTING_LIST)
			continue;
		struct list l = { 0 };
		memcpy(&l.v, field(&t[i], obj), sizeof(l.v));
		memcpy(&l.n, (char *)obj + t[i].count_offset, sizeof(l.n));
		list_free(&l);
		memcpy(field(&t[i], obj), &l.v, sizeof(l.v));
		memcpy((char *)obj + t[i].count_offset, &l.n, sizeof(l.n));
	}
}

