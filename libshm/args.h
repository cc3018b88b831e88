/*
 * args.h: the one command-line convention of every barbus program
 * (internal; not installed).
 *
 * A program describes its flags in a settings table (settings.h) and hands
 * argv to bb__args_parse(), which gives all programs the same rules:
 *   --key VALUE and --key=VALUE; a BOOL as --key or --no-key;
 *   -h/--help (usage on stdout, exit 0), --version (exit 0);
 *   a LIST flag given again adds to the list, any other flag given twice
 *   is an error; "--" ends the flags;
 *   usage errors print "PROG: --flag: reason" and a hint on stderr and
 *   exit 2; runtime errors are the program's and exit 1.
 * Messages are prefixed with the program's name, never a path.
 */
#ifndef BB_ARGS_H
#define BB_ARGS_H

#include <stdio.h>

#include "settings.h"

#define BB__ARGS_GO (-1) /* bb__args_parse(): go on */

/* Tag bit (struct bb__setting.tags) of a flag that must be given. */
#define BB__ARG_REQUIRED (1u << 31)

enum bb__args_flags {
	BB__ARGS_POSITIONAL = 1u << 0, /* words that are no flags are kept */
};

/* A one-letter alias: -c for --key (a BOOL, or taking the next word). */
struct bb__short {
	char        c;
	const char *key;
};

struct bb__args {
	const char *prog;     /* "barbus-tail": messages and --version */
	const char *synopsis; /* "usage: ..." lines and a short description */
	const char *about;    /* after the options in --help; may be NULL */
	const struct bb__setting *table;
	size_t      n;
	const struct bb__short *shorts; /* may be NULL */
	size_t      nshorts;
	unsigned    flags;    /* bb__args_flags */
};

/*
 * Defaults, then argv, into obj (zeroed by the caller; free it with
 * bb__settings_free()). BB__ARGS_GO to go on; with BB__ARGS_POSITIONAL the
 * words that are no flags are moved, in order, to argv[1..*npos]. Otherwise
 * the exit status to leave with, the message already printed: 0 after
 * --help or --version, 2 after a usage error (obj then freed).
 */
int  bb__args_parse(const struct bb__args *a, void *obj, int argc,
                    char **argv, int *npos);
/* "PROG: message" and "Try 'PROG --help'." on stderr; returns 2. */
int  bb__args_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "PROG: message" on stderr; returns 1 (a runtime error's status). */
int  bb__args_fail(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The --help text. */
void bb__args_help(const struct bb__args *a, FILE *out);
/* "PROG VERSION (libbarbus VERSION)": the program's and the library's. */
void bb__args_version(const char *prog, FILE *out);

/* settings.h check functions of a bus name and of a symbol name. */
int  bb__args_check_bus(const char *v, char *reason, size_t len);
int  bb__args_check_symbol(const char *v, char *reason, size_t len);

#endif /* BB_ARGS_H */
