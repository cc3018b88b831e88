/*
 * args.c: the command line of every barbus program (args.h), on the
 * settings table's parsers (settings.c, settings_args.c).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "barbus.h"
#include "error.h"

#define ERR_MAX 1024

/* Parsing state: what each setting got so far. */
struct run {
	const struct bb__args *a;
	void  *obj;
	char **pos;   /* positional words */
	int    npos;
	char  *seen;  /* per setting: given */
	char **list;  /* per LIST setting: values joined with ',' */
	char   err[ERR_MAX];
};

static int vmsg(const char *prog, const char *fmt, va_list ap)
{
	char buf[ERR_MAX];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return fprintf(stderr, "%s: %s\n", prog, buf);
}

int bb__args_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(prog, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return 2;
}

int bb__args_fail(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(prog, fmt, ap);
	va_end(ap);
	return 1;
}

void bb__args_version(const char *prog, FILE *out)
{
	fprintf(out, "%s %s (libbarbus %s)\n", prog, BB_VERSION, bb_version());
}

void bb__args_help(const struct bb__args *a, FILE *out)
{
	fputs(a->synopsis, out);
	fputs("\nOptions:\n", out);
	bb__settings_help(a->table, a->n, out);
	for (size_t i = 0; i < a->nshorts; i++)
		fprintf(out, "  -%c                       as --%s\n", a->shorts[i].c,
		        a->shorts[i].key);
	fputs("  -h, --help               print this help\n"
	      "  --version                print the version\n", out);
	if (a->about != NULL)
		fprintf(out, "\n%s", a->about);
}

/* A LIST given again adds its items: join the texts, applied at the end. */
static int list_add(struct run *r, size_t k, const char *flag,
                    const char *value)
{
	char *old = r->list[k];

	if (old != NULL && (old[0] == '@' || value[0] == '@'))
		return bb__fail(r->err, sizeof(r->err),
		                "%s: an @FILE list cannot be combined with others",
		                flag);
	size_t n = (old ? strlen(old) + 1 : 0) + strlen(value) + 1;
	char *s = malloc(n);
	if (s == NULL)
		return bb__fail(r->err, sizeof(r->err), "out of memory");
	snprintf(s, n, "%s%s%s", old ? old : "", old ? "," : "", value);
	free(old);
	r->list[k] = s;
	return 0;
}

static int apply(struct run *r, const struct bb__setting *s, const char *flag,
                 const char *value)
{
	size_t k = (size_t)(s - r->a->table);
	char why[BB__REASON_MAX];

	if (s->type == BB__SETTING_LIST) {
		r->seen[k] = 1;
		return list_add(r, k, flag, value);
	}
	if (r->seen[k])
		return bb__fail(r->err, sizeof(r->err), "%s: given twice", flag);
	r->seen[k] = 1;
	if (bb__settings_value(s, r->obj, value, why, sizeof(why)) != 0)
		return bb__fail(r->err, sizeof(r->err), "%s: %s", flag, why);
	return 0;
}

/* -c [VALUE]: the word(s) it takes into *used. */
static int short_flag(struct run *r, int argc, char **argv, int i, int *used)
{
	const struct bb__args *a = r->a;
	const struct bb__setting *s = NULL;
	char flag[3] = { '-', argv[i][1], '\0' };

	for (size_t k = 0; argv[i][2] == '\0' && k < a->nshorts; k++)
		if (a->shorts[k].c == argv[i][1])
			s = bb__settings_find(a->table, a->n, a->shorts[k].key);
	if (s == NULL)
		return bb__fail(r->err, sizeof(r->err), "%s: unknown option",
		                argv[i]);
	if (s->type == BB__SETTING_BOOL)
		return apply(r, s, flag, "true");
	if (i + 1 >= argc)
		return bb__fail(r->err, sizeof(r->err), "%s: needs a value", flag);
	*used = 2;
	return apply(r, s, flag, argv[i + 1]);
}

static int positional(struct run *r, char *word)
{
	if (!(r->a->flags & BB__ARGS_POSITIONAL))
		return bb__fail(r->err, sizeof(r->err), "unexpected argument '%s'",
		                word);
	r->pos[r->npos++] = word;
	return 0;
}

/* One word (or two) of argv; BB__ARGS_GO, or the exit status. */
static int word(struct run *r, int argc, char **argv, int *i, int *rest)
{
	char *w = argv[*i];
	struct bb__flag f;
	int used = 1, rc;

	if (*rest || strcmp(w, "-") == 0 || w[0] != '-') {
		rc = positional(r, w);
	} else if (strcmp(w, "--") == 0) {
		*rest = 1;
		rc = 0;
	} else if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
		bb__args_help(r->a, stdout);
		return 0;
	} else if (strcmp(w, "--version") == 0) {
		bb__args_version(r->a->prog, stdout);
		return 0;
	} else if (w[1] != '-') {
		rc = short_flag(r, argc, argv, *i, &used);
	} else {
		rc = bb__settings_flag_split(r->a->table, r->a->n, argc, argv, *i,
		                             &f, r->err, sizeof(r->err));
		if (rc == 0)
			rc = apply(r, f.s, f.name, f.value);
		used = f.used;
	}
	*i += used;
	return rc == 0 ? BB__ARGS_GO : 2;
}

/* After argv: the lists, then the required flags. */
static int finish(struct run *r)
{
	const struct bb__args *a = r->a;
	char why[BB__REASON_MAX];

	for (size_t k = 0; k < a->n; k++)
		if (r->list[k] != NULL &&
		    bb__settings_value(&a->table[k], r->obj, r->list[k], why,
		                       sizeof(why)) != 0)
			return bb__fail(r->err, sizeof(r->err), "--%s: %s",
			                a->table[k].key, why);
	for (size_t k = 0; k < a->n; k++)
		if ((a->table[k].tags & BB__ARG_REQUIRED) && !r->seen[k])
			return bb__fail(r->err, sizeof(r->err), "--%s %s is required",
			                a->table[k].key,
			                a->table[k].meta ? a->table[k].meta : "VALUE");
	return 0;
}

static int parse(struct run *r, int argc, char **argv)
{
	int st = BB__ARGS_GO, rest = 0;

	if (bb__settings_defaults(r->a->table, r->a->n, r->obj, r->err,
	                          sizeof(r->err)) != 0)
		return 2;
	for (int i = 1; st == BB__ARGS_GO && i < argc;)
		st = word(r, argc, argv, &i, &rest);
	if (st == BB__ARGS_GO && finish(r) != 0)
		st = 2;
	return st;
}

int bb__args_parse(const struct bb__args *a, void *obj, int argc,
                   char **argv, int *npos)
{
	struct run r = { .a = a, .obj = obj };
	int st = 2;

	r.pos = calloc((size_t)argc + 1, sizeof(*r.pos));
	r.seen = calloc(a->n + 1, 1);
	r.list = calloc(a->n + 1, sizeof(*r.list));
	if (r.pos == NULL || r.seen == NULL || r.list == NULL)
		bb__fail(r.err, sizeof(r.err), "out of memory");
	else
		st = parse(&r, argc, argv);
	if (st == 2)
		bb__args_usage_error(a->prog, "%s", r.err);
	if (st == BB__ARGS_GO) {
		memcpy(argv + 1, r.pos, (size_t)r.npos * sizeof(*argv));
		if (npos != NULL)
			*npos = r.npos;
	} else {
		bb__settings_free(a->table, a->n, obj);
	}
	for (size_t k = 0; r.list != NULL && k < a->n; k++)
		free(r.list[k]);
	free(r.list);
	free(r.seen);
	free(r.pos);
	return st;
}

int bb__args_check_bus(const char *v, char *reason, size_t len)
{
	return bb_bus_name_check(v) == 0 ? 0
	       : bb__fail(reason, len, "'%s': %s", v, bb_strerror(BB_ENAME));
}

int bb__args_check_symbol(const char *v, char *reason, size_t len)
{
	return bb_symbol_check(v) == 0 ? 0
	       : bb__fail(reason, len, "'%s': %s", v, bb_strerror(BB_EBADSYMBOL));
}
