/*
 * config.c: barbus-upkeep's settings table and command line.
 *
 *   barbus-upkeep --bus NAME --db DIR [--config FILE] [options]
 *
 * Precedence: defaults < section [upkeep] of --config FILE < flags. The
 * table below is the one source of truth (docs/upkeep.md lists it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "error.h"
#include "log.h"
#include "settings.h"
#include "upkeep.h"

#define UP_HELP 1
#define UP_VERSION (-2) /* scan(): --version was given */

/* ---- intervals -------------------------------------------------------------- */

int up_interval_parse(const char *s, uint32_t *minutes, char *reason,
                      size_t len)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	uint64_t x = 0;

	if (n < 2 || digits != n - 1 || digits > 6 || (s[n - 1] != 'm' &&
	    s[n - 1] != 'h'))
		return bb__fail(reason, len, "interval '%s' is not Nm or Nh "
		                "(like 5m, 15m, 1h)", s);
	for (size_t i = 0; i < digits; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	if (s[n - 1] == 'h')
		x *= 60;
	if (x < 2)
		return bb__fail(reason, len, "interval '%s' is shorter than 2 "
		                "minutes (1-minute bars are the session table's)", s);
	if (x > UP_MAX_INTERVAL_MIN)
		return bb__fail(reason, len, "interval '%s' is longer than a day "
		                "(%u minutes)", s, UP_MAX_INTERVAL_MIN);
	*minutes = (uint32_t)x;
	return 0;
}

int up_intervals_parse(const char *s, struct up_intervals *out, char *reason,
                       size_t len)
{
	struct up_intervals iv = { 0 };
	char item[32];

	for (const char *p = s; *p != '\0';) {
		size_t n = strcspn(p, ",");
		/* Items are trimmed of blanks: "5m, 15m" is fine. */
		size_t lead = strspn(p, " \t");
		size_t k = n > lead ? n - lead : 0;
		while (k > 0 && (p[lead + k - 1] == ' ' || p[lead + k - 1] == '\t'))
			k--;
		if (k >= sizeof(item))
			return bb__fail(reason, len, "interval '%.*s' is not Nm or Nh",
			                (int)n, p);
		memcpy(item, p + lead, k);
		item[k] = '\0';
		uint32_t m;
		if (up_interval_parse(item, &m, reason, len) != 0)
			return BB_EINVAL;
		for (uint32_t i = 0; i < iv.n; i++)
			if (iv.min[i] == m)
				return bb__fail(reason, len, "interval '%s' given twice "
				                "(%u minutes)", item, m);
		if (iv.n == UP_MAX_INTERVALS)
			return bb__fail(reason, len, "more than %d intervals",
			                UP_MAX_INTERVALS);
		iv.min[iv.n++] = m;
		p += n;
		if (*p == ',' && *++p == '\0')
			return bb__fail(reason, len, "empty interval after ','");
	}
	*out = iv;
	return 0;
}

static int parse_intervals(void *dst, const char *v, char *reason, size_t len)
{
	return up_intervals_parse(v, dst, reason, len);
}

/* ---- the table -------------------------------------------------------------- */

#define F(f) BB__FIELD(struct up_config, f)

static const char *const policies[] = { "leave", "ffill", NULL };

_Static_assert(sizeof(int) == sizeof(((struct up_config *)0)->gap_policy),
               "ENUM settings are stored as int");

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__settings_check_bus, .meta = "NAME",
	  .doc = "bus name, [A-Za-z0-9_-]{1,64} (required)" },
	{ .key = "db", .type = BB__SETTING_STRING, F(db), .meta = "DIR",
	  .doc = "bar store directory, read for gap fills (required)" },
	{ .key = "enabled", .type = BB__SETTING_BOOL, F(enabled), .def = "true",
	  .doc = "run the upkeep; false: exit 0 at once" },
	{ .key = "intervals", .type = BB__SETTING_CUSTOM, F(intervals),
	  .parse = parse_intervals, .meta = "LIST", .def = "5m,15m,30m,1h",
	  .doc = "derived intervals: Nm or Nh, 2 minutes to a day, comma-separated" },
	{ .key = "auto-derive", .type = BB__SETTING_BOOL, F(auto_derive),
	  .def = "true", .doc = "compute derived bars; false: fills and quality only" },
	{ .key = "check-interval-ms", .type = BB__SETTING_DURATION_MS,
	  F(check_interval_ms), .lim.u = { 10, 60000 }, .meta = "MS",
	  .def = "1000",
	  .doc = "live: how often the session clock is checked for complete "
	         "minutes, 10ms..60s" },
	{ .key = "retry-missing", .type = BB__SETTING_BOOL, F(retry_missing),
	  .def = "true",
	  .doc = "live: retry gaps not yet in the store; false: unfillable at once" },
	{ .key = "max-retries", .type = BB__SETTING_UINT, F(max_retries),
	  .lim.u = { 0, 20 }, .def = "5",
	  .doc = "store lookups after the first before a gap is unfillable, 0..20" },
	{ .key = "retry-backoff-ms", .type = BB__SETTING_DURATION_MS,
	  F(retry_backoff_ms), .lim.u = { 1, 60000 }, .meta = "MS", .def = "200",
	  .doc = "delay before the first retry, doubling per retry, 1ms..60s" },
	{ .key = "gap-policy", .type = BB__SETTING_ENUM, F(gap_policy),
	  .names = policies, .def = "leave",
	  .doc = "unfillable minutes: leave them, or ffill a flat bar at the "
	         "previous close" },
	{ .key = "history-days", .type = BB__SETTING_UINT, F(history_days),
	  .lim.u = { 0, 60 }, .def = "5",
	  .doc = "trailing sessions of derived bars and fills kept as history, "
	         "0..60" },
	{ .key = "heartbeat-ms", .type = BB__SETTING_UINT, F(heartbeat_ms),
	  .lim.u = { 10, 10000 }, .meta = "MS", .def = "100",
	  .doc = "writer heartbeat interval, 10..10000" },
	{ .key = "segment-mode", .type = BB__SETTING_CUSTOM, F(segment_mode),
	  .parse = bb__settings_parse_mode, .meta = "OCTAL", .def = "0640",
	  .doc = "permissions of the upkeep's segments; owner keeps rw" },
	{ .key = "segment-group", .type = BB__SETTING_CUSTOM, F(segment_group),
	  .parse = bb__settings_parse_group, .meta = "GROUP", .def = "",
	  .doc = "group of the upkeep's segments, name or gid" },
	{ .key = "wait-bus-ms", .type = BB__SETTING_DURATION_MS, F(wait_bus_ms),
	  .meta = "MS", .def = "0",
	  .doc = "give up (exit 1) when the bus is not there after MS; 0: wait "
	         "forever" },
	{ .key = "log-level", .type = BB__SETTING_CUSTOM, F(log_level),
	  .parse = bb__log_level_parse, .meta = "LEVEL", .def = "info",
	  .doc = "lowest level logged: error, warning, notice, info, debug" },
};

#define NSETTINGS (sizeof(table) / sizeof(table[0]))

void up_config_usage(FILE *out)
{
	fputs("usage: barbus-upkeep --bus NAME --db DIR [--config FILE] "
	      "[options]\n\n"
	      "Fills gaps in a bus's 1-minute bars from the store, derives bars "
	      "of longer\nintervals and keeps a bar-quality figure per symbol. "
	      "Every option is also a key\nof section [upkeep] in the --config "
	      "file; flags override the file.\n\n"
	      "  --config FILE            read section [upkeep] of FILE first\n"
	      "  --help                   print this help\n"
	      "  --version                print the version\n", out);
	bb__settings_help(table, NSETTINGS, out);
}

/* argv[i] is --config or --config=FILE: the words it takes (1 or 2). */
static int config_flag(const char *a)
{
	if (strcmp(a, "--config") == 0)
		return 2;
	return strncmp(a, "--config=", 9) == 0 ? 1 : 0;
}

/* First pass: --help and --config; every other word must be a flag. */
static int scan(struct up_config *c, int argc, char **argv, char *err,
                size_t errlen)
{
	struct bb__flag f;

	for (int i = 1; i < argc; i += f.used) {
		const char *a = argv[i];
		f.used = config_flag(a);
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return UP_HELP;
		if (strcmp(a, "--version") == 0)
			return UP_VERSION;
		if (f.used != 0) {
			const char *p = f.used == 1 ? a + 9 : i + 1 < argc ? argv[i + 1]
			                                                   : "";
			if (p[0] == '\0' || strncmp(p, "--", 2) == 0)
				return bb__fail(err, errlen, "--config: needs a value");
			if (c->config_path[0] != '\0')
				return bb__fail(err, errlen, "--config: given twice");
			if (strlen(p) >= sizeof(c->config_path))
				return bb__fail(err, errlen, "--config: path too long");
			strcpy(c->config_path, p);
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return bb__fail(err, errlen, "unexpected argument '%s'", a);
		int rc = bb__settings_flag_split(table, NSETTINGS, argc, argv, i, &f,
		                                 err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int apply_flags(struct up_config *c, int argc, char **argv, char *err,
                       size_t errlen)
{
	int rc = 0;

	for (int i = 1; rc == 0 && i < argc;) {
		int used = config_flag(argv[i]);
		if (used != 0) {
			i += used;
			continue;
		}
		rc = bb__settings_flag(table, NSETTINGS, c, argc, argv, &i, err,
		                       errlen);
	}
	return rc;
}

int up_config_parse(struct up_config *c, int argc, char **argv, char *err,
                    size_t errlen)
{
	*c = (struct up_config){ 0 };
	int rc = scan(c, argc, argv, err, errlen);
	if (rc == 0)
		rc = bb__settings_defaults(table, NSETTINGS, c, err, errlen);
	if (rc == 0 && c->config_path[0] != '\0') {
		rc = bb__settings_load_ini(table, NSETTINGS, c, c->config_path,
		                           "upkeep", err, errlen);
		if (rc > 0 && rc != ENOMEM)
			rc = BB_EINVAL;
	}
	if (rc == 0)
		rc = apply_flags(c, argc, argv, err, errlen);
	if (rc == 0 && c->enabled && c->bus[0] == '\0')
		rc = bb__fail(err, errlen, "--bus NAME is required");
	if (rc == 0 && c->enabled && c->db[0] == '\0')
		rc = bb__fail(err, errlen, "--db DIR is required");
	if (rc == UP_VERSION) {
		bb__args_version("barbus-upkeep", stdout);
		rc = UP_HELP; /* the caller exits 0 */
	} else if (rc == UP_HELP) {
		up_config_usage(stdout);
	}
	return rc;
}
