/*
 * barbus-bridge: a bus over NATS JetStream (docs/bridge.md).
 *
 * usage: barbus-bridge publish --bus NAME --nats URL [--stream NAME]
 *                      [--max-age DURATION] [--max-bytes N] [--replicas N]
 *                      [--dup-window DURATION] [--retry DURATION]
 *                      [--in-flight N] [--exit-at-done] [--json-subjects]
 *                      [--symbols A,B,...] [--intervals 1m,5m,...]
 *        barbus-bridge mirror --nats URL --stream NAME --bus LOCALNAME
 *                      [--durable NAME] [--retry DURATION] [--exit-at-done]
 *
 * The command line is every program's (libshm/args.c): --help, --version,
 * usage errors name the flag and exit 2; runtime errors exit 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bridge.h"
#include "up.h"

#define PROG "barbus-bridge"

/* Tags: the command a flag belongs to (both when neither). */
#define FOR_PUBLISH 1u
#define FOR_MIRROR  2u

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* DURATION: "90", "90s", "15m", "2h", "7d" into int64_t seconds. */
static int parse_duration(void *dst, const char *v, char *reason, size_t len)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	int64_t unit = *end == '\0' || strcmp(end, "s") == 0 ? 1
	               : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600
	               : strcmp(end, "d") == 0 ? 86400 : -1;

	if (end == v || n < 0 || unit < 0 || n > INT32_MAX) {
		snprintf(reason, len, "'%s': want a duration (90, 90s, 15m, 2h, 7d)",
		         v);
		return BB_EINVAL;
	}
	*(int64_t *)dst = (int64_t)n * unit;
	return 0;
}

/* --max-bytes: a byte count, or -1 for no limit. */
static int parse_bytes(void *dst, const char *v, char *reason, size_t len)
{
	char *end;
	long long n = strtoll(v, &end, 10);

	if (end == v || *end != '\0' || n < -1 || n == 0) {
		snprintf(reason, len, "'%s': want a byte count, or -1 for no limit",
		         v);
		return BB_EINVAL;
	}
	*(int64_t *)dst = n;
	return 0;
}

/* --intervals: 1m and intervals the upkeep derives (5m, 15m, 1h, ...). */
static int check_intervals(const char *v, char *reason, size_t len)
{
	uint32_t min[BB_UPKEEP_MAX_INTERVALS], n;
	char why[160];

	if (br_up_intervals(v, min, &n, why, sizeof(why)) == 0)
		return 0;
	snprintf(reason, len, "'%s': %s", v, why);
	return BB_EINVAL;
}

#define F(f) BB__FIELD(struct br_opts, f)

static const struct bb__setting table[] = {
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = BB__ARG_REQUIRED,
	  .doc = "publish: the source bus; mirror: the local bus (required)" },
	{ .key = "nats", .type = BB__SETTING_STRING, F(url), .meta = "URL",
	  .tags = BB__ARG_REQUIRED,
	  .doc = "NATS server URL; URL,URL,... for a cluster (required)" },
	{ .key = "stream", .type = BB__SETTING_STRING, F(stream),
	  .check = bb__args_check_bus, .meta = "NAME",
	  .doc = "the JetStream stream (publish: barbus-<bus>; mirror: required)" },
	{ .key = "max-age", .type = BB__SETTING_CUSTOM, F(max_age_s),
	  .parse = parse_duration, .meta = "DURATION", .def = "7d",
	  .tags = FOR_PUBLISH, .doc = "publish: stream retention by age (0: none)" },
	{ .key = "max-bytes", .type = BB__SETTING_CUSTOM, F(max_bytes),
	  .parse = parse_bytes, .meta = "N", .def = "-1", .tags = FOR_PUBLISH,
	  .doc = "publish: stream retention by size (-1: none)" },
	{ .key = "replicas", .type = BB__SETTING_INT, F(replicas),
	  .lim.i = { 1, 5 }, .meta = "N", .def = "1", .tags = FOR_PUBLISH,
	  .doc = "publish: stream replicas on a NATS cluster" },
	{ .key = "dup-window", .type = BB__SETTING_CUSTOM, F(dup_window_s),
	  .parse = parse_duration, .meta = "DURATION", .def = "2m",
	  .tags = FOR_PUBLISH, .doc = "publish: JetStream de-duplication window" },
	{ .key = "retry", .type = BB__SETTING_CUSTOM, F(retry_s),
	  .parse = parse_duration, .meta = "DURATION", .def = "30s",
	  .doc = "how long a failing publish is retried, the bus or stream "
	         "waited for" },
	{ .key = "in-flight", .type = BB__SETTING_UINT, F(in_flight),
	  .lim.u = { 1, 4096 }, .meta = "N", .def = "64", .tags = FOR_PUBLISH,
	  .doc = "publish: frames sent and not yet acknowledged, at most" },
	{ .key = "durable", .type = BB__SETTING_STRING, F(durable),
	  .check = bb__args_check_bus, .meta = "NAME", .tags = FOR_MIRROR,
	  .doc = "mirror: its durable consumer (default: mirror-<bus>)" },
	{ .key = "json-subjects", .type = BB__SETTING_BOOL, F(json_subjects),
	  .tags = FOR_PUBLISH,
	  .doc = "publish: each bar also as JSON on barbus.<bus>.<interval>.<symbol>" },
	{ .key = "symbols", .type = BB__SETTING_LIST, F(symbols),
	  .count_offset = offsetof(struct br_opts, nsymbols),
	  .check = bb__args_check_symbol, .meta = "A,B|@FILE",
	  .tags = FOR_PUBLISH, .doc = "publish: only these symbols (default: all)" },
	{ .key = "intervals", .type = BB__SETTING_STRING, F(intervals),
	  .check = check_intervals, .meta = "1m,5m,...",
	  .tags = FOR_PUBLISH,
	  .doc = "publish: the intervals carried (default: 1m and every one "
	         "the upkeep derives)" },
	{ .key = "exit-at-done", .type = BB__SETTING_BOOL, F(exit_at_done),
	  .doc = "exit once the source's backtest is DONE (published; applied)" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " publish --bus NAME --nats URL [--stream NAME]\n"
	"                     [--max-age DURATION] [--max-bytes N] [--replicas N]\n"
	"                     [--dup-window DURATION] [--retry DURATION]\n"
	"                     [--in-flight N] [--exit-at-done] [--json-subjects]\n"
	"                     [--symbols A,B,...] [--intervals 1m,5m,...]\n"
	"       " PROG " mirror --nats URL --stream NAME --bus LOCALNAME\n"
	"                     [--durable NAME] [--retry DURATION] [--exit-at-done]\n"
	"Carries a bus to other hosts over a NATS JetStream stream.\n",
	.about =
	"publish follows bus NAME and publishes it to the stream (made when\n"
	"absent; one of other settings is refused); mirror consumes the stream\n"
	"and is the coordinator of the local bus. Either goes on where it stood\n"
	"when restarted. DURATION: seconds, or a number followed by s, m, h or d.\n"
	"Exit status: 0, 1 on a runtime error (NATS, the bus), 2 on a usage\n"
	"error. See docs/bridge.md and docs/operations.md.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
	.flags = BB__ARGS_POSITIONAL,
};

/* The command word and the flags that go with it: 0, or 2. */
static int check_words(struct br_opts *o, char **argv, int npos)
{
	if (npos < 1)
		return bb__args_usage_error(PROG, "a command is required (publish, "
		                            "mirror)");
	o->cmd = argv[1];
	if (strcmp(o->cmd, "publish") != 0 && strcmp(o->cmd, "mirror") != 0)
		return bb__args_usage_error(PROG, "%s: unknown command", o->cmd);
	if (npos > 1)
		return bb__args_usage_error(PROG, "unexpected argument '%s'",
		                            argv[2]);
	if (o->cmd[0] == 'p')
		return 0;
	if (!o->stream[0])
		return bb__args_usage_error(PROG, "--stream NAME is required with "
		                            "mirror");
	if (o->json_subjects)
		return bb__args_usage_error(PROG, "--json-subjects: only with "
		                            "publish");
	if (o->nsymbols > 0)
		return bb__args_usage_error(PROG, "--symbols: only with publish");
	return 0;
}

/* The names derived from the options: stream, durable, subjects. */
static void derive(struct br_opts *o)
{
	if (!o->stream[0])
		snprintf(o->stream, sizeof(o->stream), "barbus-%s", o->bus);
	if (!o->durable[0])
		snprintf(o->durable, sizeof(o->durable), "mirror-%s", o->bus);
	if (o->cmd[0] == 'm')
		return; /* the mirror's subjects: from its stream */
	snprintf(o->subjects, sizeof(o->subjects), "barbus.%s.>", o->bus);
	snprintf(o->subject, sizeof(o->subject), "barbus.%s.frames", o->bus);
	snprintf(o->hello, sizeof(o->hello), "barbus.%s.hello", o->bus);
}

int main(int argc, char **argv)
{
	struct br_opts o = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int npos = 0;
	int rc = bb__args_parse(&args, &o, argc, argv, &npos);

	if (rc != BB__ARGS_GO)
		return rc;
	if ((rc = check_words(&o, argv, npos)) != 0) {
		bb__settings_free(table, sizeof(table) / sizeof(table[0]), &o);
		return rc;
	}
	derive(&o);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = o.cmd[0] == 'p' ? br_publish_run(&o, &stop) : br_mirror_run(&o, &stop);
	nats_Close();
	bb__settings_free(table, sizeof(table) / sizeof(table[0]), &o);
	return rc;
}
