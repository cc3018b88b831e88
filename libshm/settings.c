/*
 * settings.c: one value parser per setting type, shared by defaults, the
 * INI file (through libinih) and command-line flags. See settings.h.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "barbus.h"
#include "error.h"
#include "settings.h"

#define REASON_MAX 512

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

/* One item per line; '#' starts a comment; blank lines skipped. Errors
 * name "PATH:LINE". */
static int list_from_file(const struct bb__setting *s, struct list *l,
                          const char *path, char *reason, size_t len)
{
	char *line = NULL, why[REASON_MAX];
	size_t cap = 0;
	int rc = 0, lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return bb__fail(reason, len, "%s: %s", path, strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		char *hash = strchr(line, '#');
		lineno++;
		if (hash != NULL)
			*hash = '\0';
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		rc = list_add(s, l, line, strlen(line), why, sizeof(why));
		if (rc != 0)
			bb__fail(reason, len, "%s:%d: %s", path, lineno, why);
	}
	if (rc == 0 && ferror(f))
		rc = bb__fail(reason, len, "%s: read error", path);
	free(line);
	fclose(f);
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

/* Parse v into s's field of obj: 0, or an error with a reason. */
static int value_parse(const struct bb__setting *s, void *obj, const char *v,
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

static const struct bb__setting *find_n(const struct bb__setting *t, size_t n,
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
	return find_n(t, n, key, strlen(key));
}

int bb__settings_defaults(const struct bb__setting *t, size_t n, void *obj,
                          char *err, size_t errlen)
{
	char why[REASON_MAX];

	for (size_t i = 0; i < n; i++) {
		if (t[i].def == NULL)
			continue;
		int rc = value_parse(&t[i], obj, t[i].def, why, sizeof(why));
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
	char why[REASON_MAX];
	const struct bb__setting *s = bb__settings_find(t, n, key);

	if (s == NULL)
		return bb__fail(err, errlen, "--%s: unknown option", key);
	int rc = value_parse(s, obj, value, why, sizeof(why));
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

/* ---- flags ------------------------------------------------------------ */

static int is_bool_word(const char *w)
{
	int b;

	return bb__settings_parse_bool(w, &b, NULL, 0) == 0;
}

/* "--no-KEY" for a BOOL KEY: the setting, else NULL. */
static const struct bb__setting *negated(const struct bb__setting *t,
                                         size_t n, const char *key,
                                         size_t klen)
{
	const struct bb__setting *s = NULL;

	if (klen > 3 && strncmp(key, "no-", 3) == 0)
		s = find_n(t, n, key + 3, klen - 3);
	return s != NULL && s->type == BB__SETTING_BOOL ? s : NULL;
}

int bb__settings_flag_split(const struct bb__setting *t, size_t n, int argc,
                            char **argv, int i, struct bb__flag *f,
                            char *err, size_t errlen)
{
	const char *key = argv[i] + 2, *eq;
	size_t klen;

	*f = (struct bb__flag){ .used = 1 };
	if (strncmp(argv[i], "--", 2) != 0)
		return bb__fail(err, errlen, "%s: not an option", argv[i]);
	eq = strchr(key, '=');
	klen = eq ? (size_t)(eq - key) : strlen(key);
	snprintf(f->name, sizeof(f->name), "--%.*s", (int)klen, key);
	if ((f->s = find_n(t, n, key, klen)) == NULL &&
	    (f->s = negated(t, n, key, klen)) != NULL) {
		f->value = "false";
		return eq ? bb__fail(err, errlen, "%s: takes no value", f->name) : 0;
	}
	if (f->s == NULL)
		return bb__fail(err, errlen, "%s: unknown option", f->name);
	if (eq != NULL) {
		f->value = eq + 1;
	} else if (f->s->type == BB__SETTING_BOOL) {
		f->value = "true";
		if (i + 1 < argc && is_bool_word(argv[i + 1]))
			f->value = argv[i + 1], f->used = 2;
	} else if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
		return bb__fail(err, errlen, "%s: needs a value", f->name);
	} else {
		f->value = argv[i + 1];
		f->used = 2;
	}
	return 0;
}

int bb__settings_flag_apply(void *obj, const struct bb__flag *f,
                            char *err, size_t errlen)
{
	char why[REASON_MAX];
	int rc = value_parse(f->s, obj, f->value, why, sizeof(why));

	if (rc != 0)
		bb__fail(err, errlen, "%s: %s", f->name, why);
	return rc;
}

int bb__settings_flag(const struct bb__setting *t, size_t n, void *obj,
                      int argc, char **argv, int *i, char *err, size_t errlen)
{
	struct bb__flag f;
	int rc = bb__settings_flag_split(t, n, argc, argv, *i, &f, err, errlen);

	if (rc == 0)
		rc = bb__settings_flag_apply(obj, &f, err, errlen);
	if (rc == 0)
		*i += f.used;
	return rc;
}

/* ---- INI files -------------------------------------------------------- */

struct ini_ctx {
	const struct bb__setting *t;
	size_t n;
	void *obj;
	const char *path, *section;
	FILE *f;
	int line;      /* lines read so far: the handler's current line */
	int err_line;  /* line of the first error, 0: none */
	int rc;
	int *seen;     /* per setting: line it was given at, 0: not yet */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static void ini_fail(struct ini_ctx *c, int rc, const char *fmt, ...)
{
	char why[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->rc = rc;
	c->err_line = c->line;
	bb__fail(c->err, c->errlen, "%s:%d: %s", c->path, c->line, why);
}

/* fgets that counts lines (inih of Debian passes no line number to the
 * handler) and refuses a line longer than inih's buffer, which inih would
 * otherwise split into two. Returns NULL after the first error: stop. */
static char *read_line(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	int ch;

	if (c->rc != 0 || fgets(str, num, c->f) == NULL)
		return NULL;
	c->line++;
	size_t len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' &&
	    (ch = getc(c->f)) != EOF) {
		ungetc(ch, c->f);
		ini_fail(c, BB_EINVAL, "line longer than %d characters", num - 2);
		return NULL;
	}
	return str;
}

static int on_key(void *user, const char *section, const char *name,
                       const char *value)
{
	struct ini_ctx *c = user;
	char why[REASON_MAX];

	if (c->rc != 0 || strcmp(section, c->section) != 0)
		return 1;
	const struct bb__setting *s = bb__settings_find(c->t, c->n, name);
	if (s == NULL) {
		ini_fail(c, BB_EINVAL, "key '%s': unknown key in [%s]", name,
		         c->section);
		return 0;
	}
	if (c->seen[s - c->t] != 0) {
		ini_fail(c, BB_EINVAL, "key '%s': given twice (first at line %d)",
		         name, c->seen[s - c->t]);
		return 0;
	}
	c->seen[s - c->t] = c->line;
	int rc = value_parse(s, c->obj, value, why, sizeof(why));
	if (rc != 0)
		ini_fail(c, rc, "key '%s': %s", name, why);
	return rc == 0;
}

int bb__settings_load_ini(const struct bb__setting *t, size_t n, void *obj,
                          const char *path, const char *section,
                          char *err, size_t errlen)
{
	struct ini_ctx c = { .t = t, .n = n, .obj = obj, .path = path,
	                     .section = section, .err = err, .errlen = errlen };
	int line;

	if ((c.f = fopen(path, "r")) == NULL) {
		int rc = errno;
		bb__fail(err, errlen, "%s: %s", path, strerror(rc));
		return rc;
	}
	if ((c.seen = calloc(n + 1, sizeof(*c.seen))) == NULL) {
		fclose(c.f);
		bb__fail(err, errlen, "%s: out of memory", path);
		return ENOMEM;
	}
	line = ini_parse_stream(read_line, &c, on_key, &c);
	/* inih reports the first bad line, ours or a syntax error. */
	if (line > 0 && (c.rc == 0 || line < c.err_line))
		c.rc = bb__fail(err, errlen, "%s:%d: syntax error (expected "
		            "'key = value' or '[section]')", path, line);
	else if (line == -2 && c.rc == 0)
		c.rc = ENOMEM;
	if (c.rc == ENOMEM)
		bb__fail(err, errlen, "%s: out of memory", path);
	if (c.rc == 0 && ferror(c.f))
		c.rc = bb__fail(err, errlen, "%s: read error", path);
	free(c.seen);
	fclose(c.f);
	return c.rc;
}

/* ---- help ------------------------------------------------------------- */

/* "--key VALUE" (or "--[no-]key") of s into buf. */
static void help_left(const struct bb__setting *s, char *buf, size_t len)
{
	static const char *const meta[] = {
		[BB__SETTING_UINT] = "N", [BB__SETTING_INT] = "N",
		[BB__SETTING_DOUBLE] = "X", [BB__SETTING_STRING] = "STR",
		[BB__SETTING_DATE] = "YYYY-MM-DD",
		[BB__SETTING_DURATION_MS] = "DURATION",
		[BB__SETTING_LIST] = "A,B,...|@FILE",
		[BB__SETTING_CUSTOM] = "VALUE",
	};
	size_t used;

	if (s->type == BB__SETTING_BOOL) {
		snprintf(buf, len, "--[no-]%s", s->key);
		return;
	}
	used = (size_t)snprintf(buf, len, "--%s ", s->key);
	if (s->meta != NULL || s->type != BB__SETTING_ENUM) {
		snprintf(buf + used, len - used, "%s", s->meta ? s->meta
		         : meta[s->type]);
		return;
	}
	for (int i = 0; s->names[i] != NULL && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		                         i ? "|" : "", s->names[i]);
}

static int help_width(const struct bb__setting *t, size_t n)
{
	char left[128];
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		help_left(&t[i], left, sizeof(left));
		w = strlen(left) > w ? strlen(left) : w;
	}
	return (int)(w > 34 ? 34 : w);
}

static void help_line(const struct bb__setting *s, int width, FILE *out)
{
	char left[128];

	help_left(s, left, sizeof(left));
	fprintf(out, "  %-*s  %s", width, left, s->doc ? s->doc : "");
	if (s->def != NULL && s->def[0] != '\0')
		fprintf(out, " (default: %s)", s->def);
	fputc('\n', out);
}

void bb__settings_help_tags(const struct bb__setting *t, size_t n,
                            unsigned tags, FILE *out)
{
	int width = help_width(t, n);

	for (size_t i = 0; i < n; i++)
		if (t[i].tags == tags)
			help_line(&t[i], width, out);
}

void bb__settings_help(const struct bb__setting *t, size_t n, FILE *out)
{
	int width = help_width(t, n);

	for (size_t i = 0; i < n; i++)
		help_line(&t[i], width, out);
}
