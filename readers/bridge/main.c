/*
 * barbus-bridge: a bus over NATS JetStream (docs/bridge.md).
 *
 * usage: barbus-bridge publish --bus NAME --nats URL [--stream NAME]
 *                      [--max-age DURATION] [--max-bytes N] [--replicas N]
 *                      [--dup-window DURATION] [--retry DURATION]
 *                      [--exit-at-done] [--json-subjects]
 *                      [--symbols A,B,...] [--intervals 1m,5m,...]
 *        barbus-bridge mirror --nats URL --stream NAME --bus LOCALNAME
 *                      [--durable NAME] [--retry DURATION] [--exit-at-done]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "up.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: barbus-bridge publish --bus NAME --nats URL [--stream NAME]\n"
	    "                     [--max-age DURATION] [--max-bytes N] [--replicas N]\n"
	    "                     [--dup-window DURATION] [--retry DURATION]\n"
	    "                     [--exit-at-done] [--json-subjects]\n"
	    "                     [--symbols A,B,...] [--intervals 1m,5m,...]\n"
	    "       barbus-bridge mirror --nats URL --stream NAME --bus LOCALNAME\n"
	    "                     [--durable NAME] [--retry DURATION] [--exit-at-done]\n"
	    "DURATION: seconds, or a number followed by s, m, h or d.\n"
	    "Defaults: --stream barbus-<bus>, --max-age 7d, --max-bytes -1 (no\n"
	    "limit), --replicas 1, --dup-window 2m, --retry 30s, --durable\n"
	    "mirror-<bus>. See docs/bridge.md.\n");
}

/* "90", "90s", "15m", "2h", "7d" into seconds; -1 when malformed. */
static int64_t duration(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	int64_t unit = *end == '\0' || strcmp(end, "s") == 0 ? 1
	               : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600
	               : strcmp(end, "d") == 0 ? 86400 : -1;

	return end == v || n < 0 || unit < 0 ? -1 : (int64_t)n * unit;
}

static int bad(const char *opt, const char *v, const char *why)
{
	fprintf(stderr, "barbus-bridge: %s '%s': %s\n", opt, v, why);
	return 2;
}

/* One option with its value v; 0, or the exit status 2 after saying why. */
static int option(struct br_opts *o, const char *a, const char *v)
{
	int64_t d;
	char *end;

	if (strcmp(a, "--bus") == 0) {
		if (bb_bus_name_check(v) != 0)
			return bad(a, v, bb_strerror(BB_ENAME));
		o->bus = v;
	} else if (strcmp(a, "--nats") == 0) {
		o->url = v;
	} else if (strcmp(a, "--stream") == 0 || strcmp(a, "--durable") == 0) {
		if (bb_bus_name_check(v) != 0)
			return bad(a, v, "want [A-Za-z0-9_-]{1,64}");
		snprintf(a[2] == 's' ? o->stream : o->durable, sizeof(o->stream),
		         "%s", v);
	} else if (strcmp(a, "--max-age") == 0 || strcmp(a, "--dup-window") == 0 ||
	           strcmp(a, "--retry") == 0) {
		if ((d = duration(v)) < 0)
			return bad(a, v, "want a duration (90, 90s, 15m, 2h, 7d)");
		if (a[2] == 'm')
			o->max_age_s = d;
		else if (a[2] == 'd')
			o->dup_window_s = d;
		else
			o->retry_s = (uint32_t)d;
	} else if (strcmp(a, "--symbols") == 0 && o->cmd[0] == 'p') {
		if (v[0] == '\0' || v[0] == ',' || strstr(v, ",,") != NULL ||
		    v[strlen(v) - 1] == ',')
			return bad(a, v, "want symbol names separated by commas");
		o->symbols = v;
	} else if (strcmp(a, "--intervals") == 0 && o->cmd[0] == 'p') {
		uint32_t min[BB_UPKEEP_MAX_INTERVALS], n;
		char why[160];
		if (br_up_intervals(v, min, &n, why, sizeof(why)) != 0)
			return bad(a, v, why);
		o->intervals = v;
	} else if (strcmp(a, "--max-bytes") == 0) {
		o->max_bytes = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || o->max_bytes < -1 || o->max_bytes == 0)
			return bad(a, v, "want a byte count, or -1 for no limit");
	} else if (strcmp(a, "--replicas") == 0) {
		o->replicas = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || o->replicas < 1 || o->replicas > 5)
			return bad(a, v, "want 1 to 5");
	} else {
		fprintf(stderr, "barbus-bridge: unknown option %s\n", a);
		usage(stderr);
		return 2;
	}
	return 0;
}

static int parse(struct br_opts *o, int argc, char **argv)
{
	*o = (struct br_opts){ .max_age_s = 7 * 86400, .max_bytes = -1,
	                       .replicas = 1, .dup_window_s = 120, .retry_s = 30 };
	if (argc < 2 || (strcmp(argv[1], "publish") && strcmp(argv[1], "mirror"))) {
		usage(argc > 1 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc > 1 && strcmp(argv[1], "--help") == 0 ? 1 : 2;
	}
	o->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--exit-at-done") == 0) {
			o->exit_at_done = 1;
			continue;
		}
		if (strcmp(argv[i], "--json-subjects") == 0 && o->cmd[0] == 'p') {
			o->json_subjects = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "barbus-bridge: %s: value missing\n", argv[i]);
			return 2;
		}
		int rc = option(o, argv[i], argv[i + 1]);
		if (rc != 0)
			return rc;
		i++;
	}
	int mirror = o->cmd[0] == 'm';
	if (o->bus == NULL || o->url == NULL || (mirror && !o->stream[0])) {
		fprintf(stderr, "barbus-bridge: %s needs --bus, --nats%s\n", o->cmd,
		        mirror ? " and --stream" : "");
		return 2;
	}
	if (!o->stream[0])
		snprintf(o->stream, sizeof(o->stream), "barbus-%s", o->bus);
	if (!o->durable[0])
		snprintf(o->durable, sizeof(o->durable), "mirror-%s", o->bus);
	if (!mirror) {
		snprintf(o->subjects, sizeof(o->subjects), "barbus.%s.>", o->bus);
		snprintf(o->subject, sizeof(o->subject), "barbus.%s.frames", o->bus);
		snprintf(o->hello, sizeof(o->hello), "barbus.%s.hello", o->bus);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct br_opts o;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = parse(&o, argc, argv);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = o.cmd[0] == 'p' ? br_publish_run(&o, &stop) : br_mirror_run(&o, &stop);
	nats_Close();
	return rc;
}
