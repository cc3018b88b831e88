/*
 * settings_args.c: where settings come from besides their defaults:
 * command-line flags, an INI file (through libinih, with line numbers),
 * and the help that lists them. Values are parsed by settings.c.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barbus.h"
#include "error.h"
#include "settings.h"

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
		s = bb__settings_find_n(t, n, key + 3, klen - 3);
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
	if ((f->s = bb__settings_find_n(t, n, key, klen)) == NULL &&
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
	char why[BB__REASON_MAX];
	int rc = bb__settings_value(f->s, obj, f->value, why, sizeof(why));

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
	const char *p, *end; /* the file's bytes not read yet */
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
	char why[BB__REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->rc = rc;
	c->err_line = c->line;
	bb__fail(c->err, c->errlen, "%s:%d: %s", c->path, c->line, why);
}

/* fgets on the file's bytes that counts lines (inih of Debian passes no
 * line number to the handler), refuses a line longer than inih's buffer,
 * which inih would otherwise split into two, and a NUL byte, which would
 * cut the line short. Returns NULL after the first error: stop. */
static char *read_line(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;

	if (c->rc != 0 || c->p == c->end || num < 2)
		return NULL;
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	size_t len = nl ? (size_t)(nl - c->p) + 1 : (size_t)(c->end - c->p);
	c->line++;
	if (memchr(c->p, '\0', len) != NULL) {
		ini_fail(c, BB_EINVAL, "NUL byte in line");
		return NULL;
	}
	if (len > (size_t)num - 1) {
		ini_fail(c, BB_EINVAL, "line longer than %d characters", num - 2);
		return NULL;
	}
	memcpy(str, c->p, len);
	str[len] = '\0';
	c->p += len;
	return str;
}

static int on_key(void *user, const char *section, const char *name,
                       const char *value)
{
	struct ini_ctx *c = user;
	char why[BB__REASON_MAX];

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
	int rc = bb__settings_value(s, c->obj, value, why, sizeof(why));
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
	char *text;
	size_t len;
	int line, rc = bb__settings_read_file(path, BB__INI_FILE_MAX, &text, &len,
	                                      err, errlen);

	if (rc != 0)
		return rc;
	c.p = text;
	c.end = text + len;
	if ((c.seen = calloc(n + 1, sizeof(*c.seen))) == NULL) {
		free(text);
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
	free(c.seen);
	free(text);
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
