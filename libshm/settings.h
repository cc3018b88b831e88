/*
 * settings.h: table-driven settings for the daemons (internal; not installed).
 *
 * A program describes each setting once, in an array of struct bb__setting:
 * its key (the same in the INI file and as --key), type, the field of the
 * program's own struct that receives it, bounds, default and one line of
 * documentation. The same parsers serve defaults, the INI file and flags, so
 * the three can never disagree. Order of application is the caller's: by
 * convention defaults, then the file, then flags (flags override the file).
 *
 * Errors go to a caller's buffer, never to stdout or stderr:
 *   file:  "FILE:LINE: key 'x': reason"
 *   flag:  "--x: reason"
 * Every function returns 0, BB_EINVAL for a bad key or value, or an errno
 * (ENOMEM; the file's open error).
 */
#ifndef BB_SETTINGS_H
#define BB_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BB__REASON_MAX 512 /* room for one "why" of a bad value */

enum bb__setting_type {
	BB__SETTING_BOOL,        /* bool; true/false yes/no on/off 1/0 */
	BB__SETTING_UINT,        /* unsigned integer of the field's width */
	BB__SETTING_INT,         /* signed integer of the field's width */
	BB__SETTING_DOUBLE,      /* double, finite */
	BB__SETTING_STRING,      /* char[size], copied; check() if set */
	BB__SETTING_DATE,        /* int32_t YYYYMMDD from "YYYY-MM-DD" */
	BB__SETTING_DURATION_MS, /* unsigned ms: "250ms" "2s" "1m" "1h" "250" */
	BB__SETTING_ENUM,        /* int: index of the value in names[] */
	BB__SETTING_LIST,        /* char ** + size_t count; "A,B" or "@FILE" */
	BB__SETTING_CUSTOM,      /* parse() does it all */
};

/* Validate one string (STRING value, LIST item): 0, or nonzero with a
 * reason written to reason[len]. */
typedef int bb__setting_check_fn(const char *value, char *reason, size_t len);
/* CUSTOM: parse value into dst (the field at offset): 0, or nonzero with a
 * reason. Called for the default too, so it must accept its own def text. */
typedef int bb__setting_parse_fn(void *dst, const char *value, char *reason,
                                 size_t len);

/* Bounds, inclusive. Both 0: the field's own limits (UINT, INT, DURATION)
 * or any finite value (DOUBLE). DURATION bounds are in ms. */
union bb__setting_range {
	struct { uint64_t min, max; } u;
	struct { int64_t  min, max; } i;
	struct { double   min, max; } d;
};

struct bb__setting {
	const char *key;        /* "history-days": INI key and --history-days */
	enum bb__setting_type type;
	size_t offset;          /* of the field in the caller's struct */
	size_t size;            /* sizeof the field (integer width, STRING cap) */
	size_t count_offset;    /* LIST: the size_t item count */
	union bb__setting_range lim;
	const char *const *names;     /* ENUM: NULL-terminated; value = index */
	bb__setting_check_fn *check;  /* STRING, LIST items: optional */
	bb__setting_parse_fn *parse;  /* CUSTOM */
	unsigned tags;          /* the caller's own bits (e.g. which mode) */
	const char *meta;       /* VALUE in --help; NULL: derived from type */
	const char *def;        /* default as text; NULL: none (field kept) */
	const char *doc;        /* one line */
};

/* .offset and .size of field f of struct type T, for table entries. */
#define BB__FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)

/* Which setting "--x", "--x=v" or "--no-x" names, its value, and how many
 * argv words it takes (1 or 2). name holds the flag as written ("--x"). */
struct bb__flag {
	const struct bb__setting *s;
	const char *value;
	int used;
	char name[64];
};

/* Parse v into s's field of obj: 0, or BB_EINVAL (or ENOMEM) with a reason
 * in reason[len]. */
int bb__settings_value(const struct bb__setting *s, void *obj, const char *v,
                       char *reason, size_t len);
/* The setting called key, or NULL. */
const struct bb__setting *bb__settings_find(const struct bb__setting *t,
                                            size_t n, const char *key);
/* The setting named by key[0..klen) (not NUL-terminated), or NULL. */
const struct bb__setting *bb__settings_find_n(const struct bb__setting *t,
                                              size_t n, const char *key,
                                              size_t klen);

/* Apply every default (def != NULL) through the value parsers. Fields
 * without a default are left alone: zero the struct first. BB_EINVAL with
 * "default of 'x': reason" in err means the table itself is wrong. */
int bb__settings_defaults(const struct bb__setting *t, size_t n, void *obj,
                          char *err, size_t errlen);

/*
 * Load section [section] of the INI file path into obj. Keys of other
 * sections are skipped (other programs own them). Stops at the first
 * error: unknown key, bad value, key given twice, syntax error, line too
 * long for the parser, a NUL byte; err gets "FILE:LINE: ...". A file that
 * cannot be read, is not a regular file or is bigger than BB__INI_FILE_MAX
 * returns an errno (bb__settings_read_file) with "FILE: reason" in err.
 */
int bb__settings_load_ini(const struct bb__setting *t, size_t n, void *obj,
                          const char *path, const char *section,
                          char *err, size_t errlen);

/* Set one setting from text, as the flag --key VALUE would. */
int bb__settings_set(const struct bb__setting *t, size_t n, void *obj,
                     const char *key, const char *value,
                     char *err, size_t errlen);

/*
 * Split the flag argv[i] (it starts with "--") without applying it:
 * "--key VALUE", "--key=VALUE", and for BOOL "--key", "--no-key" and
 * "--key yes|no|..." (the next word is taken only when it is a boolean).
 * A separate VALUE may not start with "--" (a forgotten value).
 * BB_EINVAL with "--x: unknown option" / "--x: needs a value" / ... in err.
 */
int bb__settings_flag_split(const struct bb__setting *t, size_t n, int argc,
                            char **argv, int i, struct bb__flag *f,
                            char *err, size_t errlen);

/* Apply a flag split by bb__settings_flag_split(). */
int bb__settings_flag_apply(void *obj, const struct bb__flag *f,
                            char *err, size_t errlen);

/* Split and apply argv[*i]; advance *i past the words used. */
int bb__settings_flag(const struct bb__setting *t, size_t n, void *obj,
                      int argc, char **argv, int *i, char *err, size_t errlen);

#define BB__INI_FILE_MAX  (1u << 20)  /* bytes in a config file */
#define BB__LIST_FILE_MAX (16u << 20) /* bytes in an @FILE list */

/*
 * The whole of path, a regular file of at most max bytes, into a malloc'd
 * NUL-terminated *buf of *len bytes (free it). 0, or an errno value (EINVAL:
 * not a regular file, EFBIG: too big) with "PATH: reason" in err.
 */
int bb__settings_read_file(const char *path, size_t max, char **buf,
                           size_t *len, char *err, size_t errlen);

/* Free what the settings allocated in obj (LIST items); fields zeroed. */
void bb__settings_free(const struct bb__setting *t, size_t n, void *obj);

/* "  --key VALUE   doc (default: def)", one line per setting, aligned. */
void bb__settings_help(const struct bb__setting *t, size_t n, FILE *out);
/* As bb__settings_help(), only settings whose tags equal tags (columns
 * still aligned over the whole table). */
void bb__settings_help_tags(const struct bb__setting *t, size_t n,
                            unsigned tags, FILE *out);

/* Helpers for CUSTOM parsers: the UINT and BOOL value rules. */
int bb__settings_parse_uint(const char *value, uint64_t min, uint64_t max,
                            uint64_t *out, char *reason, size_t len);
int bb__settings_parse_bool(const char *value, int *out, char *reason,
                            size_t len);

/* The settings every writer of a bus takes alike (settings_bus.c): the
 * check of a STRING "bus", the parsers of a CUSTOM "segment-mode" (into a
 * mode_t: octal, at most 0777, owner rw) and "segment-group" (into a gid_t:
 * group name, numeric gid, or "" for 0). */
int bb__settings_check_bus(const char *value, char *reason, size_t len);
int bb__settings_parse_mode(void *dst, const char *value, char *reason,
                            size_t len);
int bb__settings_parse_group(void *dst, const char *value, char *reason,
                             size_t len);

#endif /* BB_SETTINGS_H */
