/*
 * config.c: barbus-coordinator's settings table and command line.
 *
 *   barbus-coordinator [options] backtest|live [options]
 *
 * Options may come before or after the subcommand word. Precedence:
 * defaults < section [coordinator] of --config FILE < flags. A flag of the
 * other mode is an error; a key of the other mode in the file is accepted
 * (one file may serve both modes) and has no effect.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "log.h"
#include "config.h"
#include "error.h"
#include "settings.h"

#define CO_HELP 1 /* co_config_parse(): --help was given */
#define CO_VERSION (-2) /* scan(): --version was given */

/* bb__setting.tags: the mode a setting belongs to; 0 for both. */
enum { TAG_BACKTEST = 1u << 0, TAG_LIVE = 1u << 1 };

/* The struct co_config holding field f, from a pointer p to that field. */
#define CONFIG_OF(p, f) \
	((struct co_config *)(void *)((char *)(p) - offsetof(struct co_config, f)))

_Static_assert(sizeof(enum co_clock) == sizeof(int),
               "ENUM settings are stored as int");

/* ---- value checks and custom parsers ------------------------------------ */

static int check_symbol(const char *v, char *reason, size_t len)
{
	if (bb_symbol_check(v) == 0)
		return 0;
	return bb__fail(reason, len, "invalid symbol name '%s'", v);
}

/* "max", "realtime" or "Nx", N a positive decimal like 10 or 0.5. */
static int parse_speed(void *dst, const char *v, char *reason, size_t len)
{
	struct co_config *c = CONFIG_OF(dst, speed);
	size_t n = strlen(v);
	char *end = NULL;
	double x = 0;

	if (strcmp(v, "max") == 0 || strcmp(v, "realtime") == 0) {
		c->speed = v[0] == 'm' ? CO_SPEED_MAX : CO_SPEED_REALTIME;
		c->speed_factor = v[0] == 'm' ? 0.0 : 1.0;
		return 0;
	}
	/* Digits and dots only: no sign, exponent, hex, "inf" or "nan". */
	if (n >= 2 && v[n - 1] == 'x' && strspn(v, "0123456789.") == n - 1)
		x = strtod(v, &end);
	if (end != v + n - 1 || !(x > 0) || !isfinite(x))
		return bb__fail(reason, len, "'%s' is not max, realtime or a positive "
		            "factor like 10x or 0.5x", v);
	c->speed = CO_SPEED_FACTOR;
	c->speed_factor = x;
	return 0;
}

/* Tests: "TIME@RATE[@EPOCH_MS]", a wall clock that reads TIME at real
 * UTC millisecond EPOCH_MS (default: when the coordinator starts) and runs
 * RATE x faster; "" for the real clock. */
static int parse_test_clock(void *dst, const char *v, char *reason,
                            size_t len)
{
	struct co_config *c = CONFIG_OF(dst, clock_start);
	const char *at = strchr(v, '@'), *at2 = at ? strchr(at + 1, '@') : NULL;
	char when[64], rate_s[16];
	uint64_t rate, epoch = 0;

	c->clock_start = c->clock_epoch_ms = 0;
	c->clock_rate = 0;
	if (v[0] == '\0')
		return 0;
	size_t nrate = at2 ? (size_t)(at2 - at - 1) : at ? strlen(at + 1) : 0;
	if (at == NULL || (size_t)(at - v) >= sizeof(when) ||
	    nrate >= sizeof(rate_s))
		return bb__fail(reason, len, "'%s' is not TIME@RATE[@EPOCH_MS], "
		                "like 2024-07-02T13:25:00Z@60", v);
	memcpy(when, v, (size_t)(at - v));
	when[at - v] = '\0';
	memcpy(rate_s, at + 1, nrate);
	rate_s[nrate] = '\0';
	if (bb_time_parse(when, &c->clock_start) != 0 || c->clock_start <= 0)
		return bb__fail(reason, len, "'%s' is not a time like "
		                "2024-07-02T13:25:00Z", when);
	if (bb__settings_parse_uint(rate_s, 1, 3600, &rate, reason, len) != 0 ||
	    (at2 && bb__settings_parse_uint(at2 + 1, 1, INT64_MAX, &epoch,
	                                    reason, len) != 0))
		return BB_EINVAL;
	c->clock_rate = (uint32_t)rate;
	c->clock_epoch_ms = (int64_t)epoch;
	return 0;
}

static int parse_ring(void *dst, const char *v, char *reason, size_t len)
{
	uint64_t n;

	if (bb__settings_parse_uint(v, 1024, UINT64_C(1) << 28, &n, reason,
	                            len) != 0)
		return BB_EINVAL;
	if ((n & (n - 1)) != 0)
		return bb__fail(reason, len, "'%s' is not a power of two", v);
	*(uint64_t *)dst = n;
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

#define F(f) BB__FIELD(struct co_config, f)

static const char *const clocks[] = { "wall", "feed", NULL };

/* Grouped by tags (both modes, backtest, live) for the help text. */
static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__settings_check_bus, .meta = "NAME",
	  .doc = "bus name, [A-Za-z0-9_-]{1,64} (required)" },
	{ .key = "db", .type = BB__SETTING_STRING, F(db), .meta = "DIR",
	  .doc = "bar store directory (required)" },
	{ .key = "calendar", .type = BB__SETTING_STRING, F(calendar),
	  .meta = "NAME|FILE", .def = "XNYS",
	  .doc = "trading calendar: built-in name or calendar file" },
	{ .key = "history-days", .type = BB__SETTING_UINT, F(history_days),
	  .lim.u = { 0, 60 }, .def = "5",
	  .doc = "trailing sessions kept as history, 0..60" },
	{ .key = "upkeep-wait-ms", .type = BB__SETTING_UINT, F(upkeep_wait_ms),
	  .lim.u = { 0, 60000 }, .meta = "MS", .def = "1000",
	  .doc = "longest wait for barbus-upkeep at a session boundary, 0..60000" },
	{ .key = "ring-capacity", .type = BB__SETTING_CUSTOM, F(ring_capacity),
	  .parse = parse_ring, .meta = "N", .def = "1048576",
	  .doc = "ring slots, a power of two 1024..268435456" },
	{ .key = "max-symbols", .type = BB__SETTING_UINT, F(max_symbols),
	  .lim.u = { 1, 1048576 }, .def = "8192",
	  .doc = "symbol directory capacity, 1..1048576" },
	{ .key = "heartbeat-ms", .type = BB__SETTING_UINT, F(heartbeat_ms),
	  .lim.u = { 10, 10000 }, .meta = "MS", .def = "100",
	  .doc = "writer heartbeat interval, 10..10000" },
	{ .key = "segment-mode", .type = BB__SETTING_CUSTOM, F(segment_mode),
	  .parse = bb__settings_parse_mode, .meta = "OCTAL", .def = "0640",
	  .doc = "permissions of the bus segments; owner keeps rw" },
	{ .key = "segment-group", .type = BB__SETTING_CUSTOM, F(segment_group),
	  .parse = bb__settings_parse_group, .meta = "GROUP", .def = "",
	  .doc = "group of the bus segments, name or gid (default: as created)" },
	{ .key = "log-level", .type = BB__SETTING_CUSTOM, F(log_level),
	  .parse = bb__log_level_parse, .meta = "LEVEL", .def = "info",
	  .doc = "lowest level logged: error, warning, notice, info, debug" },

	{ .key = "from", .type = BB__SETTING_DATE, F(from), .tags = TAG_BACKTEST,
	  .doc = "first session date (required)" },
	{ .key = "to", .type = BB__SETTING_DATE, F(to), .tags = TAG_BACKTEST,
	  .doc = "last session date, inclusive (required)" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(symbols),
	  .count_offset = offsetof(struct co_config, nsymbols),
	  .check = check_symbol, .tags = TAG_BACKTEST,
	  .doc = "symbols to replay; @FILE: one per line, # comments "
	         "(default: all)" },
	{ .key = "speed", .type = BB__SETTING_CUSTOM, F(speed),
	  .parse = parse_speed, .tags = TAG_BACKTEST, .meta = "max|realtime|Nx",
	  .def = "max", .doc = "replay pace: flat out, real time, or N x real time" },

	{ .key = "feed", .type = BB__SETTING_STRING, F(feed), .tags = TAG_LIVE,
	  .meta = "PATH|-", .doc = "bar feed file or FIFO, - for stdin (required)" },
	{ .key = "clock", .type = BB__SETTING_ENUM, F(clock), .names = clocks,
	  .tags = TAG_LIVE, .def = "wall",
	  .doc = "what completes a minute: wall time or the feed's bar times" },
	{ .key = "no-data-timeout", .type = BB__SETTING_UINT,
	  F(no_data_timeout_s), .lim.u = { 1, 86400 }, .tags = TAG_LIVE,
	  .meta = "SEC", .def = "60",
	  .doc = "SEC seconds without data: the session is stalled; at the "
	         "feed's end, it ends; 1..86400" },
	{ .key = "grace-ms", .type = BB__SETTING_DURATION_MS, F(grace_ms),
	  .lim.u = { 0, 60000 }, .tags = TAG_LIVE, .meta = "MS", .def = "2s",
	  .doc = "wall clock: a minute is complete this long after its end "
	         "(later bars are late), 0..60s" },
	{ .key = "test-clock", .type = BB__SETTING_CUSTOM, F(clock_start),
	  .parse = parse_test_clock, .tags = TAG_LIVE,
	  .meta = "TIME@RATE[@MS]", .def = "",
	  .doc = "for tests: a wall clock reading TIME at real epoch "
	         "millisecond MS (default: the start), RATE (1..3600) times "
	         "faster" },
};

#define NSETTINGS (sizeof(table) / sizeof(table[0]))

/* ---- usage -------------------------------------------------------------- */

void co_config_usage(FILE *out)
{
	fputs("usage: barbus-coordinator --bus NAME --db DIR [options] backtest "
	      "--from DATE --to DATE\n"
	      "                          [--symbols A,B,...|@FILE] "
	      "[--speed max|realtime|Nx]\n"
	      "       barbus-coordinator --bus NAME --db DIR [options] live "
	      "--feed PATH|- [--clock wall|feed]\n"
	      "                          [--no-data-timeout SEC]\n"
	      "\n"
	      "Options may come before or after the subcommand. Every option is "
	      "also a key of\nsection [coordinator] in the --config file; flags "
	      "override the file.\n\n"
	      "  --config FILE            read section [coordinator] of FILE "
	      "first\n"
	      "  --help                   print this help\n"
	      "  --version                print the version\n"
	      "\nOptions of both modes:\n", out);
	bb__settings_help_tags(table, NSETTINGS, 0, out);
	fputs("\nbacktest:\n", out);
	bb__settings_help_tags(table, NSETTINGS, TAG_BACKTEST, out);
	fputs("\nlive:\n", out);
	bb__settings_help_tags(table, NSETTINGS, TAG_LIVE, out);
}

/* ---- argv --------------------------------------------------------------- */

/* argv[i] is --config or --config=FILE: the words it takes (1 or 2). */
static int config_flag(const char *a)
{
	if (strcmp(a, "--config") == 0)
		return 2;
	return strncmp(a, "--config=", 9) == 0 ? 1 : 0;
}

static int take_config(struct co_config *c, int argc, char **argv, int i,
                       char *err, size_t errlen)
{
	const char *path = config_flag(argv[i]) == 1 ? argv[i] + 9
	                   : i + 1 < argc ? argv[i + 1] : "";

	if (path[0] == '\0' || strncmp(path, "--", 2) == 0)
		return bb__fail(err, errlen, "--config: needs a value");
	if (c->config_path[0] != '\0')
		return bb__fail(err, errlen, "--config: given twice");
	if (strlen(path) >= sizeof(c->config_path))
		return bb__fail(err, errlen, "--config: path too long");
	strcpy(c->config_path, path);
	return 0;
}

static const char *mode_name(enum bb_mode m)
{
	return m == BB_MODE_BACKTEST ? "backtest" : "live";
}

static int subcommand(struct co_config *c, const char *w, char *err,
                      size_t errlen)
{
	enum bb_mode m;

	if (strcmp(w, "backtest") == 0)
		m = BB_MODE_BACKTEST;
	else if (strcmp(w, "live") == 0)
		m = BB_MODE_LIVE;
	else
		return bb__fail(err, errlen, "unexpected argument '%s' (subcommands: "
		            "backtest, live)", w);
	if (c->mode != 0)
		return bb__fail(err, errlen, "more than one subcommand: '%s' and '%s'",
		            mode_name(c->mode), w);
	c->mode = m;
	return 0;
}

/* First pass: --help, --config and the subcommand; every flag is checked
 * for existence and value presence so values are told from words. */
static int scan(struct co_config *c, int argc, char **argv, char *err,
                size_t errlen)
{
	struct bb__flag f;
	int rc = 0;

	for (int i = 1; rc == 0 && i < argc; i += f.used) {
		const char *a = argv[i];
		f.used = 1;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return CO_HELP;
		if (strcmp(a, "--version") == 0)
			return CO_VERSION;
		if (config_flag(a) != 0) {
			rc = take_config(c, argc, argv, i, err, errlen);
			f.used = config_flag(a);
		} else if (strncmp(a, "--", 2) == 0) {
			rc = bb__settings_flag_split(table, NSETTINGS, argc, argv, i, &f,
			                             err, errlen);
		} else if (a[0] == '-' && a[1] != '\0') {
			rc = bb__fail(err, errlen, "%s: unknown option", a);
		} else {
			rc = subcommand(c, a, err, errlen);
		}
	}
	if (rc == 0 && c->mode == 0)
		rc = bb__fail(err, errlen, "no subcommand: give 'backtest' or 'live'");
	return rc;
}

/* Second pass, after the file: apply the flags, refusing other modes'. */
static int apply_flags(struct co_config *c, int argc, char **argv, char *err,
                       size_t errlen)
{
	unsigned mine = c->mode == BB_MODE_BACKTEST ? TAG_BACKTEST : TAG_LIVE;
	struct bb__flag f;
	int rc = 0;

	for (int i = 1; rc == 0 && i < argc; i += f.used) {
		f.used = config_flag(argv[i]);
		if (f.used != 0)
			continue;
		f.used = 1;
		if (strncmp(argv[i], "--", 2) != 0)
			continue; /* the subcommand */
		rc = bb__settings_flag_split(table, NSETTINGS, argc, argv, i, &f,
		                             err, errlen);
		if (rc == 0 && f.s->tags != 0 && (f.s->tags & mine) == 0)
			rc = bb__fail(err, errlen, "%s is a %s setting, not a %s one",
			          f.name, f.s->tags & TAG_LIVE ? "live" : "backtest",
			          mode_name(c->mode));
		if (rc == 0)
			rc = bb__settings_flag_apply(c, &f, err, errlen);
	}
	return rc;
}

/* Settings required, and relations between settings, once all are in. */
static int check(const struct co_config *c, char *err, size_t errlen)
{
	char a[11], b[11];

	if (c->bus[0] == '\0')
		return bb__fail(err, errlen, "--bus NAME is required");
	if (c->db[0] == '\0')
		return bb__fail(err, errlen, "--db DIR is required");
	if (c->mode == BB_MODE_LIVE)
		return c->feed[0] != '\0' ? 0
		       : bb__fail(err, errlen, "--feed PATH|- is required for live");
	if (c->from == 0)
		return bb__fail(err, errlen, "--from DATE is required for backtest");
	if (c->to == 0)
		return bb__fail(err, errlen, "--to DATE is required for backtest");
	if (c->to < c->from) {
		bb_date_format(c->from, a);
		bb_date_format(c->to, b);
		return bb__fail(err, errlen, "--to %s is before --from %s", b, a);
	}
	return 0;
}

int co_config_parse(struct co_config *c, int argc, char **argv,
                    char *err, size_t errlen)
{
	int rc;

	*c = (struct co_config){ 0 };
	rc = scan(c, argc, argv, err, errlen);
	if (rc == 0)
		rc = bb__settings_defaults(table, NSETTINGS, c, err, errlen);
	if (rc == 0 && c->config_path[0] != '\0') {
		rc = bb__settings_load_ini(table, NSETTINGS, c, c->config_path,
		                           "coordinator", err, errlen);
		if (rc > 0 && rc != ENOMEM) /* could not open: err names it */
			rc = BB_EINVAL;
	}
	if (rc == 0)
		rc = apply_flags(c, argc, argv, err, errlen);
	if (rc == 0)
		rc = check(c, err, errlen);
	if (rc == CO_VERSION) {
		bb__args_version("barbus-coordinator", stdout);
		rc = CO_HELP; /* the caller exits 0 */
	} else if (rc == CO_HELP) {
		co_config_usage(stdout);
	}
	if (rc != 0)
		co_config_free(c);
	return rc;
}

void co_config_free(struct co_config *c)
{
	bb__settings_free(table, NSETTINGS, c);
}
