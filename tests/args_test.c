/*
 * args_test: the one command-line convention of every program (args.c):
 * both flag forms, -h/--help and --version, usage errors (exit 2) naming
 * the flag, flags given twice, lists given again, required flags, short
 * aliases and positional words.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>

#include "args.h"
#include "barbus.h"

struct o {
	char     bus[BB_NAME_MAX + 1];
	uint32_t n;
	int      quiet;
	char   **syms;
	size_t   nsyms;
};

#define F(f) BB__FIELD(struct o, f)

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "bus" },
	{ .key = "n", .type = BB__SETTING_UINT, F(n), .lim.u = { 1, 9 },
	  .def = "3", .doc = "a count" },
	{ .key = "quiet", .type = BB__SETTING_BOOL, F(quiet), .doc = "quiet" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(syms),
	  .count_offset = offsetof(struct o, nsyms),
	  .check = bb__args_check_symbol, .doc = "symbols" },
};

static const struct bb__short shorts[] = { { 'q', "quiet" } };

static const struct bb__args args = {
	.prog = "barbus-x", .synopsis = "usage: barbus-x --bus NAME\n",
	.table = table, .n = 4, .shorts = shorts, .nshorts = 1,
	.flags = BB__ARGS_POSITIONAL,
};

static struct o o;
static int npos;

/* Parse a NULL-terminated argument list after the program name. */
#define PARSE(...) parse((char *[]){ "barbus-x", __VA_ARGS__, NULL })

static int parse(char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	bb__settings_free(table, 4, &o);
	o = (struct o){ 0 };
	npos = 0;
	return bb__args_parse(&args, &o, argc, argv, &npos);
}

static void fini(void)
{
	bb__settings_free(table, 4, &o);
}

TestSuite(args, .fini = fini, .timeout = 5);

Test(args, both_flag_forms_and_defaults)
{
	cr_assert(eq(int, PARSE("--bus", "a", "--quiet"), BB__ARGS_GO));
	cr_assert(eq(str, o.bus, "a"));
	cr_assert(eq(u32, o.n, 3));
	cr_assert(eq(int, o.quiet, 1));
	cr_assert(eq(int, PARSE("--bus=b", "--n=7"), BB__ARGS_GO));
	cr_assert(eq(str, o.bus, "b"));
	cr_assert(eq(u32, o.n, 7));
}

Test(args, help_and_version_exit_0, .init = cr_redirect_stdout)
{
	cr_assert(eq(int, PARSE("-h"), 0));
	cr_assert(eq(int, PARSE("--version"), 0));
	fflush(stdout);
	cr_assert_stdout_neq_str("");
}

Test(args, version_names_program_and_library, .init = cr_redirect_stdout)
{
	cr_assert(eq(int, PARSE("--version"), 0));
	fflush(stdout);
	cr_assert_stdout_eq_str("barbus-x " BB_VERSION " (libbarbus " BB_VERSION
	                        ")\n");
}

Test(args, bad_value_names_the_flag, .init = cr_redirect_stderr)
{
	cr_assert(eq(int, PARSE("--bus", "a", "--n", "12"), 2));
	fflush(stderr);
	cr_assert_stderr_eq_str("barbus-x: --n: '12' is out of range 1..9\n"
	                        "Try 'barbus-x --help'.\n");
}

Test(args, unknown_flag_exits_2, .init = cr_redirect_stderr)
{
	cr_assert(eq(int, PARSE("--bus", "a", "--nope"), 2));
	fflush(stderr);
	cr_assert_stderr_eq_str("barbus-x: --nope: unknown option\n"
	                        "Try 'barbus-x --help'.\n");
}

Test(args, required_flag_missing, .init = cr_redirect_stderr)
{
	cr_assert(eq(int, PARSE("--n", "2"), 2));
	fflush(stderr);
	cr_assert_stderr_eq_str("barbus-x: --bus NAME is required\n"
	                        "Try 'barbus-x --help'.\n");
}

Test(args, flag_given_twice, .init = cr_redirect_stderr)
{
	cr_assert(eq(int, PARSE("--bus", "a", "--bus", "b"), 2));
	fflush(stderr);
	cr_assert_stderr_eq_str("barbus-x: --bus: given twice\n"
	                        "Try 'barbus-x --help'.\n");
}

Test(args, list_given_again_adds)
{
	cr_assert(eq(int, PARSE("--bus", "a", "--symbols", "A,B", "--symbols=C"),
	             BB__ARGS_GO));
	cr_assert(eq(sz, o.nsyms, 3));
	cr_assert(eq(str, o.syms[2], "C"));
}

Test(args, short_alias_and_positional_words)
{
	char *argv[] = { "barbus-x", "f1", "-q", "--bus", "a", "--", "-f2", NULL };

	cr_assert(eq(int, parse(argv), BB__ARGS_GO));
	cr_assert(eq(int, o.quiet, 1));
	cr_assert(eq(int, npos, 2));
	cr_assert(eq(str, argv[1], "f1"));
	cr_assert(eq(str, argv[2], "-f2"));
}
