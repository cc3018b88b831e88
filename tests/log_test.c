/*
 * log_test: the daemons' log lines (log.c): the journal's "<N>" prefix or
 * a time and a level word, --log-level filtering, and the level setting.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "barbus.h"
#include "log.h"

static FILE *f;
static char text[4096];

static void open_log(void)
{
	f = tmpfile();
	cr_assert(f != NULL);
	unsetenv("JOURNAL_STREAM");
}

static void close_log(void)
{
	if (f != NULL)
		fclose(f);
}

/* What was logged so far. */
static const char *logged(void)
{
	fflush(f);
	rewind(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	return text;
}

TestSuite(log, .init = open_log, .fini = close_log, .timeout = 5);

Test(log, plain_prefix_has_time_and_level_word)
{
	char buf[48];

	bb__log_prefix(BB__LOG_WARNING, 0, 1733480000123LL, buf, sizeof(buf));
	cr_assert(eq(str, buf, "2024-12-06T10:13:20.123Z WARNING "));
}

Test(log, journal_prefix_is_the_priority)
{
	char buf[48];

	bb__log_prefix(BB__LOG_ERR, 1, 1733480000123LL, buf, sizeof(buf));
	cr_assert(eq(str, buf, "<3>"));
}

Test(log, lines_below_the_level_are_dropped)
{
	bb__log_setup("barbus-x", BB__LOG_NOTICE, f);
	bb__log(BB__LOG_INFO, "dropped");
	bb__log(BB__LOG_ERR, "kept %d", 1);
	const char *t = logged();
	cr_assert(eq(int, strstr(t, "dropped") == NULL, 1));
	cr_assert(eq(str, strchr(t, ' ') + 1, "ERROR barbus-x: kept 1\n"));
}

Test(log, journal_stream_of_this_stream_gives_priorities)
{
	struct stat st;
	char v[64];

	cr_assert(eq(int, fstat(fileno(f), &st), 0));
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	bb__log_setup("barbus-x", BB__LOG_DEBUG, f);
	bb__log(BB__LOG_NOTICE, "started");
	cr_assert(eq(str, (char *)logged(), "<5>barbus-x: started\n"));
}

Test(log, journal_stream_of_another_file_is_ignored)
{
	setenv("JOURNAL_STREAM", "1:1", 1);
	bb__log_setup("barbus-x", BB__LOG_DEBUG, f);
	bb__log(BB__LOG_NOTICE, "started");
	cr_assert(eq(int, strstr(logged(), " NOTICE barbus-x: started\n") != NULL,
	             1));
}

Test(log, level_setting)
{
	int l = 0;
	char why[128];

	cr_assert(eq(int, bb__log_level_parse(&l, "debug", why, sizeof(why)), 0));
	cr_assert(eq(int, l, BB__LOG_DEBUG));
	cr_assert(eq(int, bb__log_level_parse(&l, "loud", why, sizeof(why)), BB_EINVAL));
	cr_assert(eq(str, why, "'loud' is not error, warning, notice, info or "
	             "debug"));
}
