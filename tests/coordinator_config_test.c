/* coordinator_config_test.c: barbus-coordinator's settings and argv. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Compiled in so the Makefile needs no rule for it. */
#include "../coordinator/config.c"

static struct co_config c;
static char err[512];
static char paths[2][64];
static int npaths;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	npaths = 0;
}

static void teardown(void)
{
	co_config_free(&c);
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
}

TestSuite(co_config, .init = setup, .fini = teardown, .timeout = 10);

/* A new temp file holding text; its name is returned. */
static char *file_with(const char *text)
{
	char *p = paths[npaths++];

	strcpy(p, "/tmp/bb-coconf-XXXXXX");
	int fd = mkstemp(p);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return p;
}

static int parse_argv(char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return co_config_parse(&c, argc, argv, err, sizeof(err));
}

#define PARSE(...) \
	parse_argv((char *[]){ "barbus-coordinator", __VA_ARGS__, NULL })
#define BACKTEST(...) PARSE("--bus", "b1", "--db", "/tmp/db", "backtest", \
                            "--from", "2024-01-02", "--to", "2024-01-31", \
                            __VA_ARGS__)
#define LIVE(...) PARSE("--bus", "b1", "--db", "/tmp/db", "live", \
                        "--feed", "-", __VA_ARGS__)

/* ---- whole command lines ------------------------------------------------ */

Test(co_config, backtest_parses_with_defaults)
{
	cr_assert(eq(int, BACKTEST("--history-days", "3"), 0), "%s", err);
	cr_assert(eq(int, (int)c.mode, BB_MODE_BACKTEST));
	cr_assert(eq(str, c.bus, "b1"));
	cr_assert(eq(str, c.db, "/tmp/db"));
	cr_assert(eq(i32, c.from, 20240102));
	cr_assert(eq(i32, c.to, 20240131));
	cr_assert(eq(u32, c.history_days, 3));
	cr_assert(eq(str, c.calendar, "XNYS"));
	cr_assert(eq(int, (int)c.speed, CO_SPEED_MAX));
	cr_assert(eq(sz, c.nsymbols, 0));
	cr_assert(eq(u64, c.ring_capacity, 1048576));
	cr_assert(eq(u32, c.max_symbols, 8192));
	cr_assert(eq(u32, c.heartbeat_ms, 100));
	cr_assert(eq(u32, c.upkeep_wait_ms, 1000));
	cr_assert(eq(u32, (uint32_t)c.segment_mode, 0640));
	cr_assert(eq(u32, (uint32_t)c.segment_group, 0));
}

Test(co_config, live_parses_with_defaults)
{
	cr_assert(eq(int, LIVE("--clock", "feed"), 0), "%s", err);
	cr_assert(eq(int, (int)c.mode, BB_MODE_LIVE));
	cr_assert(eq(str, c.feed, "-"));
	cr_assert(eq(int, (int)c.clock, CO_CLOCK_FEED));
	cr_assert(eq(u32, c.no_data_timeout_s, 60));
	cr_assert(eq(u32, c.history_days, 5));
	cr_assert(eq(u32, c.grace_ms, 2000));
	cr_assert(eq(i64, c.clock_start, 0));
}

Test(co_config, options_may_follow_or_precede_the_subcommand)
{
	cr_assert(eq(int, PARSE("live", "--feed=/tmp/f", "--bus=b2",
	                        "--no-data-timeout", "5", "--db", "/d"), 0), "%s",
	          err);
	cr_assert(eq(str, c.bus, "b2"));
	cr_assert(eq(u32, c.no_data_timeout_s, 5));
}

Test(co_config, missing_subcommand)
{
	cr_assert(eq(int, PARSE("--bus", "b1", "--db", "/d"), BB_EINVAL));
	cr_assert(eq(str, err, "no subcommand: give 'backtest' or 'live'"));
}

Test(co_config, two_subcommands)
{
	cr_assert(eq(int, PARSE("--bus", "b1", "backtest", "live"), BB_EINVAL));
	cr_assert(eq(str, err, "more than one subcommand: 'backtest' and 'live'"));
}

Test(co_config, stray_word)
{
	cr_assert(eq(int, PARSE("backtest", "extra"), BB_EINVAL));
	cr_assert(eq(str, err, "unexpected argument 'extra' (subcommands: "
	             "backtest, live)"));
}

Test(co_config, value_equal_to_a_subcommand_is_a_value)
{
	cr_assert(eq(int, LIVE("--calendar", "backtest"), 0), "%s", err);
	cr_assert(eq(str, c.calendar, "backtest"));
}

Test(co_config, from_after_to)
{
	cr_assert(eq(int, PARSE("--bus", "b", "--db", "d", "backtest", "--from",
	                        "2024-02-01", "--to", "2024-01-01"), BB_EINVAL));
	cr_assert(eq(str, err, "--to 2024-01-01 is before --from 2024-02-01"));
}

Test(co_config, from_equal_to_is_one_day)
{
	cr_assert(eq(int, PARSE("--bus", "b", "--db", "d", "backtest", "--from",
	                        "2024-02-01", "--to", "2024-02-01"), 0), "%s", err);
}

Test(co_config, backtest_needs_from)
{
	cr_assert(eq(int, PARSE("--bus", "b", "--db", "d", "backtest", "--to",
	                        "2024-01-01"), BB_EINVAL));
	cr_assert(eq(str, err, "--from DATE is required for backtest"));
}

Test(co_config, bad_date)
{
	cr_assert(eq(int, BACKTEST("--from", "2024-1-2"), BB_EINVAL));
	cr_assert(eq(str, err, "--from: '2024-1-2' is not a date YYYY-MM-DD"));
}

Test(co_config, live_needs_feed)
{
	cr_assert(eq(int, PARSE("--bus", "b", "--db", "d", "live"), BB_EINVAL));
	cr_assert(eq(str, err, "--feed PATH|- is required for live"));
}

Test(co_config, bus_is_required)
{
	cr_assert(eq(int, PARSE("--db", "d", "live", "--feed", "-"), BB_EINVAL));
	cr_assert(eq(str, err, "--bus NAME is required"));
}

Test(co_config, db_is_required)
{
	cr_assert(eq(int, PARSE("--bus", "b", "live", "--feed", "-"), BB_EINVAL));
	cr_assert(eq(str, err, "--db DIR is required"));
}

Test(co_config, bad_bus_name)
{
	cr_assert(eq(int, LIVE("--bus", "a.b"), BB_EINVAL));
	cr_assert(eq(str, err, "--bus: invalid bus name 'a.b' (expected "
	             "[A-Za-z0-9_-]{1,64})"));
}

Test(co_config, unknown_flag)
{
	cr_assert(eq(int, LIVE("--bogus", "1"), BB_EINVAL));
	cr_assert(eq(str, err, "--bogus: unknown option"));
}

Test(co_config, unknown_short_option)
{
	cr_assert(eq(int, LIVE("-x"), BB_EINVAL));
	cr_assert(eq(str, err, "-x: unknown option"));
}

Test(co_config, flag_missing_its_value)
{
	cr_assert(eq(int, LIVE("--heartbeat-ms"), BB_EINVAL));
	cr_assert(eq(str, err, "--heartbeat-ms: needs a value"));
}

Test(co_config, live_flag_in_backtest)
{
	cr_assert(eq(int, BACKTEST("--feed", "/tmp/f"), BB_EINVAL));
	cr_assert(eq(str, err, "--feed is a live setting, not a backtest one"));
}

Test(co_config, backtest_flag_in_live)
{
	cr_assert(eq(int, LIVE("--speed=10x"), BB_EINVAL));
	cr_assert(eq(str, err, "--speed is a backtest setting, not a live one"));
}

Test(co_config, help_returns_1_and_prints_usage)
{
	char out[8192] = "";

	cr_redirect_stdout();
	cr_assert(eq(int, PARSE("live", "--help"), 1));
	fflush(stdout);
	size_t n = fread(out, 1, sizeof(out) - 1, cr_get_redirected_stdout());
	out[n] = '\0';
	cr_assert_not_null(strstr(out, "usage: barbus-coordinator --bus NAME"));
	cr_assert_not_null(strstr(out, "--history-days N"));
	cr_assert_not_null(strstr(out, "(default: 5)"));
	cr_assert_not_null(strstr(out, "--clock wall|feed"));
	cr_assert_not_null(strstr(out, "--segment-mode OCTAL"));
}

/* ---- values ------------------------------------------------------------- */

Test(co_config, speed_max)
{
	cr_assert(eq(int, BACKTEST("--speed", "max"), 0), "%s", err);
	cr_assert(eq(int, (int)c.speed, CO_SPEED_MAX));
}

Test(co_config, speed_realtime_is_factor_one)
{
	cr_assert(eq(int, BACKTEST("--speed", "realtime"), 0), "%s", err);
	cr_assert(eq(int, (int)c.speed, CO_SPEED_REALTIME));
	cr_assert(eq(dbl, c.speed_factor, 1.0));
}

Test(co_config, speed_factor_whole)
{
	cr_assert(eq(int, BACKTEST("--speed", "10x"), 0), "%s", err);
	cr_assert(eq(int, (int)c.speed, CO_SPEED_FACTOR));
	cr_assert(eq(dbl, c.speed_factor, 10.0));
}

Test(co_config, speed_factor_fraction)
{
	cr_assert(eq(int, BACKTEST("--speed=0.5x"), 0), "%s", err);
	cr_assert(eq(dbl, c.speed_factor, 0.5));
}

Test(co_config, speed_bad_forms)
{
	static char *bad[] = { "x", "-2x", "fast", "0x", "1.2.3x", "10",
	                             "infx", "1e3x", "" };
	char want[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, BACKTEST("--speed", bad[i]), BB_EINVAL), "%s",
		          bad[i]);
		snprintf(want, sizeof(want), "--speed: '%s' is not max, realtime or "
		         "a positive factor like 10x or 0.5x", bad[i]);
		cr_assert(eq(str, err, want));
	}
}

Test(co_config, symbols_list)
{
	cr_assert(eq(int, BACKTEST("--symbols", "AAPL,MSFT,BRK.B"), 0), "%s", err);
	cr_assert(eq(sz, c.nsymbols, 3));
	cr_assert(eq(str, c.symbols[0], "AAPL"));
	cr_assert(eq(str, c.symbols[2], "BRK.B"));
}

Test(co_config, symbols_bad_name)
{
	cr_assert(eq(int, BACKTEST("--symbols", "AAPL,$X"), BB_EINVAL));
	cr_assert(eq(str, err, "--symbols: invalid symbol name '$X'"));
}

Test(co_config, symbols_from_file)
{
	char arg[80];

	snprintf(arg, sizeof(arg), "@%s",
	         file_with("# watch list\nAAPL\nMSFT  # big\n\nSPY\n"));
	cr_assert(eq(int, BACKTEST("--symbols", arg), 0), "%s", err);
	cr_assert(eq(sz, c.nsymbols, 3));
	cr_assert(eq(str, c.symbols[1], "MSFT"));
}

Test(co_config, symbols_file_bad_symbol_names_file_line)
{
	char arg[80], want[200];
	char *p = file_with("AAPL\n# comment\nB@D\nMSFT\n");

	snprintf(arg, sizeof(arg), "@%s", p);
	cr_assert(eq(int, BACKTEST("--symbols", arg), BB_EINVAL));
	snprintf(want, sizeof(want), "--symbols: %s:3: invalid symbol name "
	         "'B@D'", p);
	cr_assert(eq(str, err, want));
}

Test(co_config, history_days_range)
{
	cr_assert(eq(int, BACKTEST("--history-days", "61"), BB_EINVAL));
	cr_assert(eq(str, err, "--history-days: '61' is out of range 0..60"));
}

Test(co_config, no_data_timeout_range)
{
	cr_assert(eq(int, LIVE("--no-data-timeout", "0"), BB_EINVAL));
	cr_assert(eq(str, err, "--no-data-timeout: '0' is out of range 1..86400"));
}

Test(co_config, grace_ms_duration)
{
	cr_assert(eq(int, LIVE("--grace-ms", "500ms"), 0), "%s", err);
	cr_assert(eq(u32, c.grace_ms, 500));
}

Test(co_config, test_clock_time_and_rate)
{
	cr_assert(eq(int, LIVE("--test-clock", "2024-07-02T13:25:00Z@60"), 0),
	          "%s", err);
	cr_assert(eq(i64, c.clock_start, 1719926700));
	cr_assert(eq(u32, c.clock_rate, 60));
	cr_assert(eq(i64, c.clock_epoch_ms, 0));
}

Test(co_config, test_clock_with_epoch)
{
	cr_assert(eq(int, LIVE("--test-clock",
	                       "2024-07-02T13:25:00Z@120@1765000000123"), 0),
	          "%s", err);
	cr_assert(eq(u32, c.clock_rate, 120));
	cr_assert(eq(i64, c.clock_epoch_ms, 1765000000123));
}

Test(co_config, test_clock_bad_forms)
{
	cr_assert(eq(int, LIVE("--test-clock", "2024-07-02T13:25:00Z"),
	             BB_EINVAL));
	cr_assert(eq(str, err, "--test-clock: '2024-07-02T13:25:00Z' is not "
	             "TIME@RATE[@EPOCH_MS], like 2024-07-02T13:25:00Z@60"));
	cr_assert(eq(int, LIVE("--test-clock", "noon@60"), BB_EINVAL));
	cr_assert(eq(str, err, "--test-clock: 'noon' is not a time like "
	             "2024-07-02T13:25:00Z"));
	cr_assert(eq(int, LIVE("--test-clock", "2024-07-02T13:25:00Z@0"),
	             BB_EINVAL));
}

Test(co_config, clock_names)
{
	cr_assert(eq(int, LIVE("--clock", "fast"), BB_EINVAL));
	cr_assert(eq(str, err, "--clock: 'fast' is not one of wall, feed"));
}

Test(co_config, ring_capacity_power_of_two)
{
	cr_assert(eq(int, LIVE("--ring-capacity", "2048"), 0), "%s", err);
	cr_assert(eq(u64, c.ring_capacity, 2048));
}

Test(co_config, ring_capacity_not_power_of_two)
{
	cr_assert(eq(int, LIVE("--ring-capacity", "3000"), BB_EINVAL));
	cr_assert(eq(str, err, "--ring-capacity: '3000' is not a power of two"));
}

Test(co_config, ring_capacity_out_of_range)
{
	cr_assert(eq(int, LIVE("--ring-capacity", "512"), BB_EINVAL));
	cr_assert(eq(str, err, "--ring-capacity: '512' is out of range "
	             "1024..268435456"));
}

Test(co_config, segment_mode_octal)
{
	cr_assert(eq(int, LIVE("--segment-mode", "0660"), 0), "%s", err);
	cr_assert(eq(u32, (uint32_t)c.segment_mode, 0660));
}

Test(co_config, segment_mode_rejects_non_permission_bits)
{
	cr_assert(eq(int, LIVE("--segment-mode", "4640"), BB_EINVAL));
	cr_assert(eq(str, err, "--segment-mode: '4640' has bits other than "
	             "permissions (at most 0777)"));
}

Test(co_config, segment_mode_rejects_non_octal)
{
	cr_assert(eq(int, LIVE("--segment-mode", "0648"), BB_EINVAL));
	cr_assert(eq(str, err, "--segment-mode: '0648' is not an octal mode "
	             "like 0640"));
}

Test(co_config, segment_mode_keeps_owner_rw)
{
	cr_assert(eq(int, LIVE("--segment-mode", "0440"), BB_EINVAL));
	cr_assert(eq(str, err, "--segment-mode: '0440' denies the owner read "
	             "and write"));
}

Test(co_config, segment_group_numeric)
{
	cr_assert(eq(int, LIVE("--segment-group", "1234"), 0), "%s", err);
	cr_assert(eq(u32, (uint32_t)c.segment_group, 1234));
}

Test(co_config, segment_group_by_name)
{
	cr_assert(eq(int, LIVE("--segment-group", "root"), 0), "%s", err);
	cr_assert(eq(u32, (uint32_t)c.segment_group, 0));
}

Test(co_config, segment_group_unknown)
{
	cr_assert(eq(int, LIVE("--segment-group", "no-such-group-bb"), BB_EINVAL));
	cr_assert(eq(str, err, "--segment-group: no such group "
	             "'no-such-group-bb'"));
}

/* ---- config file -------------------------------------------------------- */

Test(co_config, config_file_supplies_settings)
{
	char *p = file_with("[coordinator]\nbus = filebus\ndb = /data\n"
	                          "history-days = 2\n");

	cr_assert(eq(int, PARSE("--config", p, "live", "--feed", "-"), 0), "%s",
	          err);
	cr_assert(eq(str, c.bus, "filebus"));
	cr_assert(eq(str, c.db, "/data"));
	cr_assert(eq(u32, c.history_days, 2));
	cr_assert(eq(str, c.config_path, p));
}

Test(co_config, flags_override_config_file)
{
	char *p = file_with("[coordinator]\nbus = filebus\n"
	                          "history-days = 2\nheartbeat-ms = 50\n");

	cr_assert(eq(int, LIVE("--history-days", "9", "--config", p), 0), "%s",
	          err);
	cr_assert(eq(str, c.bus, "b1"));
	cr_assert(eq(u32, c.history_days, 9));
	cr_assert(eq(u32, c.heartbeat_ms, 50));
}

Test(co_config, config_unknown_key_names_line)
{
	char want[200];
	char *p = file_with("; coordinator\n[coordinator]\nbus = b\n"
	                          "histroy-days = 2\n");

	cr_assert(eq(int, LIVE("--config", p), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:4: key 'histroy-days': unknown key in "
	         "[coordinator]", p);
	cr_assert(eq(str, err, want));
}

Test(co_config, config_bad_value_names_line)
{
	char want[200];
	char *p = file_with("[coordinator]\nring-capacity = 1000\n");

	cr_assert(eq(int, LIVE("--config", p), BB_EINVAL));
	snprintf(want, sizeof(want), "%s:2: key 'ring-capacity': '1000' is out "
	         "of range 1024..268435456", p);
	cr_assert(eq(str, err, want));
}

Test(co_config, config_upkeep_section_ignored)
{
	char *p = file_with("[upkeep]\nfill-retries = 3\nbus = other\n"
	                          "[coordinator]\nmax-symbols = 100\n");

	cr_assert(eq(int, LIVE("--config", p), 0), "%s", err);
	cr_assert(eq(u32, c.max_symbols, 100));
	cr_assert(eq(str, c.bus, "b1"));
}

Test(co_config, config_keys_of_other_mode_accepted)
{
	char *p = file_with("[coordinator]\nfeed = /tmp/feed\nclock = feed\n"
	                          "speed = 2x\nsymbols = AAPL\n");

	cr_assert(eq(int, BACKTEST("--config", p), 0), "%s", err);
	cr_assert(eq(dbl, c.speed_factor, 2.0));
	cr_assert(eq(sz, c.nsymbols, 1));
}

Test(co_config, config_missing_file)
{
	cr_assert(eq(int, LIVE("--config=/nonexistent/bb.ini"), BB_EINVAL));
	cr_assert(eq(str, err, "/nonexistent/bb.ini: No such file or directory"));
}

Test(co_config, config_given_twice)
{
	cr_assert(eq(int, LIVE("--config", "/a", "--config", "/b"), BB_EINVAL));
	cr_assert(eq(str, err, "--config: given twice"));
}

Test(co_config, config_needs_a_value)
{
	cr_assert(eq(int, LIVE("--config"), BB_EINVAL));
	cr_assert(eq(str, err, "--config: needs a value"));
}

Test(co_config, symbols_from_flag_replace_file_list)
{
	char *p = file_with("[coordinator]\nsymbols = AAPL, MSFT\n");

	cr_assert(eq(int, BACKTEST("--config", p, "--symbols", "SPY"), 0), "%s",
	          err);
	cr_assert(eq(sz, c.nsymbols, 1));
	cr_assert(eq(str, c.symbols[0], "SPY"));
}

Test(co_config, error_leaves_nothing_to_free)
{
	cr_assert(eq(int, BACKTEST("--symbols", "AAPL", "--feed", "x"),
	             BB_EINVAL));
	cr_assert_null(c.symbols);
	cr_assert(eq(sz, c.nsymbols, 0));
}
