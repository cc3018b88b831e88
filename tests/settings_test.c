/* settings_test.c: the table-driven settings (libshm/settings.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barbus.h"
#include "settings.h"

struct opts {
	bool     verbose;
	uint32_t days;
	uint8_t  small;
	int32_t  offset;
	double   ratio;
	char     name[8];
	int32_t  date;
	uint32_t wait_ms;
	int      color;
	char   **tags;
	size_t   ntags;
	int      even;
};

static int check_tag(const char *v, char *reason, size_t len)
{
	if (strchr(v, '$') == NULL)
		return 0;
	snprintf(reason, len, "bad tag '%s'", v);
	return 1;
}

static int parse_even(void *dst, const char *v, char *reason, size_t len)
{
	uint64_t x;

	if (bb__settings_parse_uint(v, 0, 100, &x, reason, len) != 0)
		return BB_EINVAL;
	if (x % 2 != 0) {
		snprintf(reason, len, "'%s' is odd", v);
		return BB_EINVAL;
	}
	*(int *)dst = (int)x;
	return 0;
}

static const char *const colors[] = { "red", "green", "blue", NULL };

#define F(f) BB__FIELD(struct opts, f)
static const struct bb__setting table[] = {
	{ .key = "verbose", .type = BB__SETTING_BOOL, F(verbose),
	  .def = "false", .doc = "say more" },
	{ .key = "days", .type = BB__SETTING_UINT, F(days), .lim.u = { 0, 60 },
	  .def = "5", .doc = "days kept" },
	{ .key = "small", .type = BB__SETTING_UINT, F(small), .doc = "a byte" },
	{ .key = "offset", .type = BB__SETTING_INT, F(offset),
	  .lim.i = { -10, 10 }, .def = "0", .doc = "signed" },
	{ .key = "ratio", .type = BB__SETTING_DOUBLE, F(ratio),
	  .lim.d = { 0, 1 }, .def = "0.5", .doc = "a fraction" },
	{ .key = "name", .type = BB__SETTING_STRING, F(name), .def = "anon",
	  .doc = "a name" },
	{ .key = "date", .type = BB__SETTING_DATE, F(date), .doc = "a day" },
	{ .key = "wait", .type = BB__SETTING_DURATION_MS, F(wait_ms),
	  .lim.u = { 0, 3600000 }, .def = "2s", .doc = "how long" },
	{ .key = "color", .type = BB__SETTING_ENUM, F(color), .names = colors,
	  .def = "green", .doc = "a color" },
	{ .key = "tags", .type = BB__SETTING_LIST, F(tags),
	  .count_offset = offsetof(struct opts, ntags), .check = check_tag,
	  .doc = "labels" },
	{ .key = "even", .type = BB__SETTING_CUSTOM, F(even), .parse = parse_even,
	  .doc = "an even number" },
};
#define N (sizeof(table) / sizeof(table[0]))

static struct opts o;
static char err[512];
static char path[64];

static void setup(void)
{
	memset(&o, 0, sizeof(o));
	err[0] = '\0';
	path[0] = '\0';
}

static void teardown(void)
{
	bb__settings_free(table, N, &o);
	if (path[0] != '\0')
		unlink(path);
}

TestSuite(settings, .init = setup, .fini = teardown, .timeout = 10);

/* Write text to a new temp file; its name in path. */
static void file_with(const char *text)
{
	strcpy(path, "/tmp/bb-settings-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static int set(const char *key, const char *value)
{
	return bb__settings_set(table, N, &o, key, value, err, sizeof(err));
}

static int load(void)
{
	return bb__settings_load_ini(table, N, &o, path, "prog", err, sizeof(err));
}

/* Apply argv (NULL-terminated) as flags, all of them. */
static int flags(char **argv)
{
	int argc = 0, rc = 0;

	while (argv[argc] != NULL)
		argc++;
	for (int i = 0; rc == 0 && i < argc;)
		rc = bb__settings_flag(table, N, &o, argc, argv, &i, err, sizeof(err));
	return rc;
}

/* ---- defaults --------------------------------------------------------- */

Test(settings, defaults_applied_through_the_parsers)
{
	cr_assert(eq(int, bb__settings_defaults(table, N, &o, err, sizeof(err)), 0));
	cr_assert(eq(u32, o.days, 5));
	cr_assert(eq(dbl, o.ratio, 0.5));
	cr_assert(eq(str, o.name, "anon"));
	cr_assert(eq(u32, o.wait_ms, 2000));
	cr_assert(eq(int, o.color, 1));
	cr_assert_not(o.verbose);
}

Test(settings, defaults_leave_fields_without_one)
{
	o.date = 20240102;
	cr_assert(eq(int, bb__settings_defaults(table, N, &o, err, sizeof(err)), 0));
	cr_assert(eq(i32, o.date, 20240102));
}

Test(settings, bad_default_names_the_key)
{
	static const struct bb__setting bad[] = {
		{ .key = "days", .type = BB__SETTING_UINT, F(days),
		  .lim.u = { 0, 60 }, .def = "99" },
	};
	cr_assert(eq(int, bb__settings_defaults(bad, 1, &o, err, sizeof(err)),
	             BB_EINVAL));
	cr_assert(eq(str, err, "default of 'days': '99' is out of range 0..60"));
}

/* ---- unsigned, signed, double ----------------------------------------- */

Test(settings, uint_accepts_a_value_in_range)
{
	cr_assert(eq(int, set("days", "60"), 0));
	cr_assert(eq(u32, o.days, 60));
}

Test(settings, uint_rejects_trailing_junk)
{
	cr_assert(eq(int, set("days", "12abc"), BB_EINVAL));
	cr_assert(eq(str, err, "--days: '12abc' is not a whole number"));
}

Test(settings, uint_rejects_empty)
{
	cr_assert(eq(int, set("days", ""), BB_EINVAL));
	cr_assert(eq(str, err, "--days: '' is not a whole number"));
}

Test(settings, uint_rejects_negative_and_signs_and_blanks)
{
	cr_assert(eq(int, set("days", "-1"), BB_EINVAL));
	cr_assert(eq(str, err, "--days: '-1' is not a whole number"));
	cr_assert(eq(int, set("days", "+1"), BB_EINVAL));
	cr_assert(eq(int, set("days", " 1"), BB_EINVAL));
	cr_assert(eq(int, set("days", "0x10"), BB_EINVAL));
}

Test(settings, uint_out_of_range)
{
	cr_assert(eq(int, set("days", "61"), BB_EINVAL));
	cr_assert(eq(str, err, "--days: '61' is out of range 0..60"));
	cr_assert(eq(u32, o.days, 0)); /* unchanged */
}

Test(settings, uint_overflow_is_out_of_range)
{
	cr_assert(eq(int, set("days", "99999999999999999999999"), BB_EINVAL));
	cr_assert(eq(str, err,
	             "--days: '99999999999999999999999' is out of range 0..60"));
}

Test(settings, uint_without_bounds_is_bounded_by_its_field)
{
	cr_assert(eq(int, set("small", "255"), 0));
	cr_assert(eq(u8, o.small, 255));
	cr_assert(eq(int, set("small", "256"), BB_EINVAL));
	cr_assert(eq(str, err, "--small: '256' is out of range 0..255"));
}

Test(settings, int_accepts_negative_and_checks_range)
{
	cr_assert(eq(int, set("offset", "-10"), 0));
	cr_assert(eq(i32, o.offset, -10));
	cr_assert(eq(int, set("offset", "-11"), BB_EINVAL));
	cr_assert(eq(str, err, "--offset: '-11' is out of range -10..10"));
	cr_assert(eq(int, set("offset", "3x"), BB_EINVAL));
	cr_assert(eq(str, err, "--offset: '3x' is not an integer"));
}

Test(settings, double_must_be_finite)
{
	cr_assert(eq(int, set("ratio", "0.25"), 0));
	cr_assert(eq(dbl, o.ratio, 0.25));
	cr_assert(eq(int, set("ratio", "nan"), BB_EINVAL));
	cr_assert(eq(str, err, "--ratio: 'nan' is not a finite number"));
	cr_assert(eq(int, set("ratio", "inf"), BB_EINVAL));
	cr_assert(eq(int, set("ratio", "1.5"), BB_EINVAL));
	cr_assert(eq(str, err, "--ratio: '1.5' is out of range 0..1"));
}

/* ---- dates, durations, booleans, enums, strings ------------------------ */

Test(settings, date_parsed_as_yyyymmdd)
{
	cr_assert(eq(int, set("date", "2024-02-29"), 0));
	cr_assert(eq(i32, o.date, 20240229));
}

Test(settings, date_rejects_impossible_day)
{
	cr_assert(eq(int, set("date", "2023-02-29"), BB_EINVAL));
	cr_assert(eq(str, err, "--date: '2023-02-29' is not a date YYYY-MM-DD"));
}

Test(settings, duration_units)
{
	static const struct { const char *v; uint32_t ms; } cases[] = {
		{ "250ms", 250 }, { "2s", 2000 }, { "1m", 60000 },
		{ "1h", 3600000 }, { "250", 250 }, { "0", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(eq(int, set("wait", cases[i].v), 0), "%s", cases[i].v);
		cr_assert(eq(u32, o.wait_ms, cases[i].ms), "%s", cases[i].v);
	}
}

Test(settings, duration_rejects_unknown_unit)
{
	cr_assert(eq(int, set("wait", "5d"), BB_EINVAL));
	cr_assert(eq(str, err, "--wait: '5d' is not a duration (like 250ms, 2s, "
	             "1m, or a number of ms)"));
	cr_assert(eq(int, set("wait", "s"), BB_EINVAL));
	cr_assert(eq(int, set("wait", "1.5s"), BB_EINVAL));
}

Test(settings, duration_range_is_in_ms)
{
	cr_assert(eq(int, set("wait", "61m"), BB_EINVAL));
	cr_assert(eq(str, err, "--wait: '61m' is out of range 0ms..3600000ms"));
}

Test(settings, bool_words)
{
	static const char *yes[] = { "true", "yes", "on", "1", "TRUE" };
	static const char *no[] = { "false", "no", "off", "0", "Off" };
	for (size_t i = 0; i < 5; i++) {
		cr_assert(eq(int, set("verbose", yes[i]), 0));
		cr_assert(o.verbose, "%s", yes[i]);
		cr_assert(eq(int, set("verbose", no[i]), 0));
		cr_assert_not(o.verbose, "%s", no[i]);
	}
}

Test(settings, bool_rejects_other_words)
{
	cr_assert(eq(int, set("verbose", "maybe"), BB_EINVAL));
	cr_assert(eq(str, err, "--verbose: 'maybe' is not a boolean (true/false, "
	             "yes/no, on/off, 1/0)"));
}

Test(settings, enum_maps_names_to_their_index)
{
	cr_assert(eq(int, set("color", "blue"), 0));
	cr_assert(eq(int, o.color, 2));
}

Test(settings, enum_rejects_other_names_listing_them)
{
	cr_assert(eq(int, set("color", "pink"), BB_EINVAL));
	cr_assert(eq(str, err, "--color: 'pink' is not one of red, green, blue"));
}

Test(settings, string_too_long_for_its_field)
{
	cr_assert(eq(int, set("name", "1234567"), 0));
	cr_assert(eq(int, set("name", "12345678"), BB_EINVAL));
	cr_assert(eq(str, err, "--name: value is longer than 7 characters"));
	cr_assert(eq(str, o.name, "1234567"));
}

Test(settings, custom_parser_gives_its_reason)
{
	cr_assert(eq(int, set("even", "4"), 0));
	cr_assert(eq(int, o.even, 4));
	cr_assert(eq(int, set("even", "5"), BB_EINVAL));
	cr_assert(eq(str, err, "--even: '5' is odd"));
}

Test(settings, unknown_key_to_set)
{
	cr_assert(eq(int, set("nope", "1"), BB_EINVAL));
	cr_assert(eq(str, err, "--nope: unknown option"));
}

/* ---- lists ------------------------------------------------------------- */

Test(settings, list_from_commas_trimmed)
{
	cr_assert(eq(int, set("tags", "a, b ,c"), 0));
	cr_assert(eq(sz, o.ntags, 3));
	cr_assert(eq(str, o.tags[0], "a"));
	cr_assert(eq(str, o.tags[1], "b"));
	cr_assert(eq(str, o.tags[2], "c"));
}

Test(settings, list_empty_value_is_empty_list)
{
	cr_assert(eq(int, set("tags", "a"), 0));
	cr_assert(eq(int, set("tags", ""), 0));
	cr_assert(eq(sz, o.ntags, 0));
	cr_assert_null(o.tags);
}

Test(settings, list_rejects_empty_item)
{
	cr_assert(eq(int, set("tags", "a,,b"), BB_EINVAL));
	cr_assert(eq(str, err, "--tags: empty item in list"));
}

Test(settings, list_item_check_names_the_item)
{
	cr_assert(eq(int, set("tags", "a,b$"), BB_EINVAL));
	cr_assert(eq(str, err, "--tags: bad tag 'b$'"));
}

Test(settings, list_rejects_duplicates)
{
	cr_assert(eq(int, set("tags", "a,b,a"), BB_EINVAL));
	cr_assert(eq(str, err, "--tags: 'a' is listed twice"));
}

Test(settings, list_from_file_skips_comments_and_blanks)
{
	char v[80];

	file_with("# header\nx\n\n  y  # trailing comment\nz\n");
	snprintf(v, sizeof(v), "@%s", path);
	cr_assert(eq(int, set("tags", v), 0));
	cr_assert(eq(sz, o.ntags, 3));
	cr_assert(eq(str, o.tags[1], "y"));
}

Test(settings, list_file_error_names_file_and_line)
{
	char v[80], want[200];

	file_with("x\n# comment\nb$d\n");
	snprintf(v, sizeof(v), "@%s", path);
	cr_assert(eq(int, set("tags", v), BB_EINVAL));
	snprintf(want, sizeof(want), "--tags: %s:3: bad tag 'b$d'", path);
	cr_assert(eq(str, err, want));
}

Test(settings, list_missing_file_names_it)
{
	cr_assert(eq(int, set("tags", "@/nonexistent/tags"), BB_EINVAL));
	cr_assert(eq(str, err,
	             "--tags: /nonexistent/tags: No such file or directory"));
}

Test(settings, list_bad_value_keeps_the_old_list)
{
	cr_assert(eq(int, set("tags", "a,b"), 0));
	cr_assert(eq(int, set("tags", "c,d$"), BB_EINVAL));
	cr_assert(eq(sz, o.ntags, 2));
	cr_assert(eq(str, o.tags[0], "a"));
}

Test(settings, free_empties_lists)
{
	cr_assert(eq(int, set("tags", "a,b"), 0));
	bb__settings_free(table, N, &o);
	cr_assert(eq(sz, o.ntags, 0));
	cr_assert_null(o.tags);
}

/* ---- INI files --------------------------------------------------------- */

Test(settings, ini_sets_keys_of_its_section)
{
	file_with("[prog]\ndays = 7\nname = bob ; comment\nwait = 1m\n"
	          "tags = p, q\nverbose = yes\n");
	cr_assert(eq(int, load(), 0), "%s", err);
	cr_assert(eq(u32, o.days, 7));
	cr_assert(eq(str, o.name, "bob"));
	cr_assert(eq(u32, o.wait_ms, 60000));
	cr_assert(eq(sz, o.ntags, 2));
	cr_assert(o.verbose);
}

Test(settings, ini_unknown_key_names_file_line_and_key)
{
	char want[200];

	file_with("# settings\n[prog]\ndayz = 7\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:3: key 'dayz': unknown key in [prog]",
	         path);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_bad_value_names_file_line_and_key)
{
	char want[200];

	file_with("[prog]\nname = x\n\ndays = 12abc\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:4: key 'days': '12abc' is not a whole "
	         "number", path);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_other_sections_are_ignored)
{
	file_with("[other]\nwhatever = 1\ndays = 99\n[prog]\ndays = 3\n"
	          "[other]\nmore = x\n");
	cr_assert(eq(int, load(), 0), "%s", err);
	cr_assert(eq(u32, o.days, 3));
}

Test(settings, ini_missing_file_names_the_path)
{
	strcpy(path, "/tmp/bb-settings-none-XXXXXX");
	cr_assert(eq(int, load(), ENOENT));
	cr_assert(eq(str, err, "/tmp/bb-settings-none-XXXXXX: No such file or "
	             "directory"));
	path[0] = '\0';
}

Test(settings, ini_key_given_twice)
{
	char want[200];

	file_with("[prog]\ndays = 1\nname = a\ndays = 2\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:4: key 'days': given twice (first at "
	         "line 2)", path);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_syntax_error_names_the_line)
{
	char want[200];

	file_with("[prog]\ndays = 1\njust words\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:3: syntax error (expected 'key = value' "
	         "or '[section]')", path);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_syntax_error_before_a_bad_key_wins)
{
	char want[200];

	file_with("[prog]\nwords\nnope = 1\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:2: syntax error (expected 'key = value' "
	         "or '[section]')", path);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_stops_at_first_error)
{
	char want[200];

	file_with("[prog]\ndays = 99\nnope = 1\nname = late\n");
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:2: key 'days': '99' is out of range "
	         "0..60", path);
	cr_assert(eq(str, err, want));
	cr_assert(eq(str, o.name, ""));
}

Test(settings, ini_line_too_long_is_refused)
{
	char text[600], want[200];

	snprintf(text, sizeof(text), "[prog]\ntags = %0500d\n", 7);
	file_with(text);
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:2: line longer than", path);
	cr_assert(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
}

static void file_with_n(const char *text, size_t n)
{
	strcpy(path, "/tmp/bb-settings-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, n) == (ssize_t)n);
	close(fd);
}

Test(settings, ini_dev_zero_is_refused_not_read_forever)
{
	path[0] = '\0';
	cr_assert(eq(int, bb__settings_load_ini(table, N, &o, "/dev/zero", "prog",
	                                        err, sizeof(err)), EINVAL));
	cr_assert(eq(str, err, "/dev/zero: not a regular file"));
	cr_assert(eq(int, bb__settings_load_ini(table, N, &o, "/tmp", "prog",
	                                        err, sizeof(err)), EINVAL));
	cr_assert(eq(str, err, "/tmp: not a regular file"));
}

Test(settings, ini_bigger_than_the_bound_is_refused)
{
	char want[200];

	file_with("");
	cr_assert(eq(int, truncate(path, BB__INI_FILE_MAX + 1), 0));
	cr_assert(eq(int, load(), EFBIG));
	snprintf(want, sizeof(want), "%s: larger than %u bytes", path,
	         BB__INI_FILE_MAX);
	cr_assert(eq(str, err, want));
}

Test(settings, ini_nul_in_a_value_names_the_line)
{
	static const char text[] = "[prog]\nname = ab\0cd\ndays = 3\n";
	char want[200];

	file_with_n(text, sizeof(text) - 1);
	cr_assert(eq(int, load(), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	cr_assert(eq(str, err, want));
	cr_assert(eq(str, o.name, ""));
}

Test(settings, ini_last_line_without_newline_is_read)
{
	file_with("[prog]\ndays = 7");
	cr_assert(eq(int, load(), 0), "%s", err);
	cr_assert(eq(u32, o.days, 7));
}

Test(settings, list_file_dev_zero_and_nul_are_refused)
{
	static const char text[] = "x\ny\0z\n";
	char v[80], want[200];

	cr_assert(eq(int, set("tags", "@/dev/zero"), BB_EINVAL));
	cr_assert(eq(str, err, "--tags: /dev/zero: not a regular file"));
	file_with_n(text, sizeof(text) - 1);
	snprintf(v, sizeof(v), "@%s", path);
	cr_assert(eq(int, set("tags", v), BB_EINVAL));
	snprintf(want, sizeof(want), "--tags: %s:2: NUL byte in line", path);
	cr_assert(eq(str, err, want));
}

/* ---- flags ------------------------------------------------------------- */

Test(settings, flag_key_space_value)
{
	char *argv[] = { "--days", "9", NULL };

	cr_assert(eq(int, flags(argv), 0), "%s", err);
	cr_assert(eq(u32, o.days, 9));
}

Test(settings, flag_key_equals_value)
{
	char *argv[] = { "--days=9", "--name=", NULL };

	strcpy(o.name, "x");
	cr_assert(eq(int, flags(argv), 0), "%s", err);
	cr_assert(eq(u32, o.days, 9));
	cr_assert(eq(str, o.name, ""));
}

Test(settings, flag_bad_value_names_the_flag)
{
	char *argv[] = { "--days=abc", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--days: 'abc' is not a whole number"));
}

Test(settings, flag_bool_bare_is_true)
{
	char *argv[] = { "--verbose", NULL };

	cr_assert(eq(int, flags(argv), 0));
	cr_assert(o.verbose);
}

Test(settings, flag_bool_no_prefix_is_false)
{
	char *argv[] = { "--verbose", "--no-verbose", NULL };

	cr_assert(eq(int, flags(argv), 0));
	cr_assert_not(o.verbose);
}

Test(settings, flag_bool_takes_next_word_only_when_boolean)
{
	char *argv[] = { "--verbose", "off", NULL };
	char *argv2[] = { "--verbose", "run", NULL };
	struct bb__flag f;

	cr_assert(eq(int, flags(argv), 0));
	cr_assert_not(o.verbose);
	cr_assert(eq(int, bb__settings_flag_split(table, N, 2, argv2, 0, &f, err,
	                                          sizeof(err)), 0));
	cr_assert(eq(int, f.used, 1));
	cr_assert(eq(str, (char *)f.value, "true"));
}

Test(settings, flag_no_prefix_takes_no_value)
{
	char *argv[] = { "--no-verbose=1", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--no-verbose: takes no value"));
}

Test(settings, flag_no_prefix_only_for_booleans)
{
	char *argv[] = { "--no-days", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--no-days: unknown option"));
}

Test(settings, flag_unknown)
{
	char *argv[] = { "--dayz=1", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--dayz: unknown option"));
}

Test(settings, flag_missing_value_at_end)
{
	char *argv[] = { "--days", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--days: needs a value"));
}

Test(settings, flag_value_may_not_look_like_a_flag)
{
	char *argv[] = { "--name", "--days", "3", NULL };

	cr_assert(eq(int, flags(argv), BB_EINVAL));
	cr_assert(eq(str, err, "--name: needs a value"));
}

Test(settings, flags_override_file)
{
	char *argv[] = { "--days", "9", NULL };

	file_with("[prog]\ndays = 7\nname = file\n");
	cr_assert(eq(int, bb__settings_defaults(table, N, &o, err, sizeof(err)), 0));
	cr_assert(eq(int, load(), 0), "%s", err);
	cr_assert(eq(int, flags(argv), 0), "%s", err);
	cr_assert(eq(u32, o.days, 9));
	cr_assert(eq(str, o.name, "file"));
}

/* ---- help -------------------------------------------------------------- */

Test(settings, help_lists_every_setting_with_doc_and_default)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	bb__settings_help(table, N, f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "  --days N "));
	cr_assert_not_null(strstr(buf, "days kept (default: 5)\n"));
	cr_assert_not_null(strstr(buf, "--[no-]verbose "));
	cr_assert_not_null(strstr(buf, "--color red|green|blue "));
	cr_assert_not_null(strstr(buf, "--tags A,B,...|@FILE "));
	size_t lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	cr_assert(eq(sz, lines, N));
	free(buf);
}
