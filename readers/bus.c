/*
 * barbus-bus: the buses in the shared-memory directory, for operators.
 *
 * usage: barbus-bus list
 *        barbus-bus show NAME
 *        barbus-bus rm NAME [--force]
 *        barbus-bus gc [--older-than DUR]
 *
 * list: one line per bus: segments, bytes, age, the coordinator's and the
 * upkeep's liveness (running, stuck, stopped, crashed, none), and a note:
 * "live" (a writer holds a segment), "orphan" (its control segment is
 * gone), both, or "-". show: one line per segment.
 * rm: unlinks every segment of the bus; refused while a writer lives
 * unless --force. gc: removes every bus without a live writer (with
 * --older-than, only those made longer ago than DUR: 90s, 10m, 2h, 1d).
 * The directory is $BB_SHM_DIR, else /dev/shm. Exit 0, 1 on a runtime
 * error (no such bus, a live writer), 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "barbus.h"
#include "upkeep_status.h"

#define PROG "barbus-bus"
#define MAX_BUSES 1024

static const char *const run_words[] = { "damaged", "running", "stuck",
	"stopped", "crashed" };

#define RUN_WORD(r) ((r) < sizeof(run_words) / sizeof(run_words[0]) \
                     ? run_words[r] : "unknown")

struct bus_row {
	char     name[BB_NAME_MAX + 1];
	unsigned segments;
	uint64_t bytes;
	int64_t  newest;     /* mtime of its newest segment */
	int      live;       /* a segment's writer holds its lock */
	int      control;    /* its control segment exists */
	const char *coordinator, *upkeep;
};

struct bus_list {
	struct bus_row row[MAX_BUSES];
	size_t n;
	int    full;
};

static struct bus_row *row_of(struct bus_list *l, const char *bus)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->row[i].name, bus) == 0)
			return &l->row[i];
	if (l->n == MAX_BUSES) {
		l->full = 1;
		return NULL;
	}
	struct bus_row *r = &l->row[l->n++];
	*r = (struct bus_row){ .coordinator = "none", .upkeep = "none" };
	snprintf(r->name, sizeof(r->name), "%s", bus);
	return r;
}

static int add_segment(void *arg, const char *bus, const char *role)
{
	bb_seg_info in;
	struct bus_row *r = row_of(arg, bus);

	if (r == NULL || bb_seg_inspect(bus, role, &in) != 0)
		return 0; /* gone meanwhile: not counted */
	r->segments++;
	r->bytes += in.bytes;
	if (in.mtime > r->newest)
		r->newest = in.mtime;
	if (in.err == 0 &&
	    (in.run == BB_RUN_RUNNING || in.run == BB_RUN_STUCK))
		r->live = 1;
	if (strcmp(role, "control") == 0) {
		r->control = 1;
		r->coordinator = in.err ? "damaged" : RUN_WORD(in.run);
	} else if (strcmp(role, BB__UP_STATUS_ROLE) == 0) {
		r->upkeep = in.err ? "damaged" : RUN_WORD(in.run);
	}
	return 0;
}

static int collect(struct bus_list *l)
{
	int rc = bb_shm_foreach(add_segment, l);

	if (rc != 0)
		fprintf(stderr, PROG ": shared-memory directory: %s\n",
		        bb_strerror(rc));
	else if (l->full)
		fprintf(stderr, PROG ": more than %d buses: the rest not shown\n",
		        MAX_BUSES);
	return rc;
}

static int cmd_list(void)
{
	static struct bus_list l;
	int64_t now = (int64_t)time(NULL);

	if (collect(&l) != 0)
		return 1;
	printf("%-24s %8s %12s %8s %-12s %-12s %s\n", "bus", "segments",
	       "bytes", "age_s", "coordinator", "upkeep", "note");
	for (size_t i = 0; i < l.n; i++) {
		const struct bus_row *r = &l.row[i];
		printf("%-24s %8u %12" PRIu64 " %8" PRId64 " %-12s %-12s %s\n",
		       r->name, r->segments, r->bytes, now - r->newest,
		       r->coordinator, r->upkeep, r->live && !r->control
		       ? "live,orphan" : r->live ? "live" : !r->control
		       ? "orphan" : "-");
	}
	return 0;
}

static int show_segment(void *arg, const char *bus, const char *role)
{
	bb_seg_info in;
	int64_t now = (int64_t)time(NULL);

	if (strcmp(bus, arg) != 0 || bb_seg_inspect(bus, role, &in) != 0)
		return 0;
	if (in.err != 0) {
		printf("%-14s %12" PRIu64 " %-8s %8s %6s %10s %8" PRId64 " %s\n",
		       role, in.bytes, "damaged", "-", "-", "-", now - in.mtime,
		       bb_strerror(in.err));
		return 0;
	}
	char hb[32] = "-";
	if (in.heartbeat_age_ms >= 0)
		snprintf(hb, sizeof(hb), "%.1f", in.heartbeat_age_ms / 1e3);
	printf("%-14s %12" PRIu64 " %-8s %8d %6" PRIu64 " %10s %8" PRId64 "\n",
	       role, in.bytes, RUN_WORD(in.run), (int)in.pid, in.epoch, hb,
	       now - in.mtime);
	return 0;
}

static int cmd_show(const char *bus)
{
	static struct bus_list l;

	if (collect(&l) != 0)
		return 1;
	size_t i = 0;
	while (i < l.n && strcmp(l.row[i].name, bus) != 0)
		i++;
	if (i == l.n) {
		fprintf(stderr, PROG ": bus %s: no such bus\n", bus);
		return 1;
	}
	printf("%-14s %12s %-8s %8s %6s %10s %8s\n", "segment", "bytes",
	       "writer", "pid", "epoch", "heartbeat", "age_s");
	return bb_shm_foreach(show_segment, (void *)bus) == 0 ? 0 : 1;
}

static int remove_bus(const char *bus, unsigned flags)
{
	unsigned n = 0;
	int rc = bb_bus_remove(bus, flags, &n);

	if (rc == BB_EBUSY) {
		fprintf(stderr, PROG ": bus %s: a writer is alive; stop it first "
		        "(or --force)\n", bus);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, PROG ": bus %s: %s\n", bus, bb_strerror(rc));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, PROG ": bus %s: no such bus\n", bus);
		return 1;
	}
	printf("removed %s (%u segments)\n", bus, n);
	return 0;
}

static int cmd_gc(int64_t older_s)
{
	static struct bus_list l;
	int64_t now = (int64_t)time(NULL);
	int status = 0;

	if (collect(&l) != 0)
		return 1;
	for (size_t i = 0; i < l.n; i++) {
		const struct bus_row *r = &l.row[i];
		if (r->live || now - r->newest < older_s)
			continue;
		/* Not forced: a writer that started since is not removed. */
		if (remove_bus(r->name, 0) != 0)
			status = 1;
	}
	return status;
}

/* "90", "90s", "10m", "2h", "1d" in seconds; -1 when malformed. */
static int64_t duration_s(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);

	if (errno != 0 || end == s || v < 0 || v > 100LL * 365 * 86400)
		return -1;
	int64_t unit = *end == '\0' || strcmp(end, "s") == 0 ? 1
	             : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600
	             : strcmp(end, "d") == 0 ? 86400 : 0;
	return unit ? v * unit : -1;
}

/* --older-than DUR into an int64_t of seconds. */
static int parse_duration(void *dst, const char *v, char *reason, size_t len)
{
	int64_t s = duration_s(v);

	if (s < 0) {
		snprintf(reason, len, "'%s': a duration expected (90s, 10m, 2h, "
		         "1d)", v);
		return BB_EINVAL;
	}
	*(int64_t *)dst = s;
	return 0;
}

struct opts {
	int     force;
	int64_t older_s; /* -1: not given */
};

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "force", .type = BB__SETTING_BOOL, F(force),
	  .doc = "rm: remove even while a writer lives" },
	{ .key = "older-than", .type = BB__SETTING_CUSTOM, F(older_s),
	  .parse = parse_duration, .meta = "DUR",
	  .doc = "gc: only buses made longer ago than DUR (90s, 10m, 2h, 1d)" },
};

static const struct bb__args args = {
	.prog = PROG,
	.synopsis =
	"usage: " PROG " list\n"
	"       " PROG " show NAME\n"
	"       " PROG " rm NAME [--force]\n"
	"       " PROG " gc [--older-than DUR]\n"
	"Lists, shows and removes the buses in the shared-memory directory.\n",
	.about =
	"list: one line per bus (segments, bytes, age, the coordinator's and the\n"
	"upkeep's liveness, a note: live, orphan). show: one line per segment.\n"
	"rm: refused while a writer lives unless --force. gc: removes every bus\n"
	"without a live writer. The directory is $BB_SHM_DIR, else /dev/shm.\n"
	"Exit status: 0, 1 on a runtime error (no such bus, a live writer),\n"
	"2 on a usage error.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
	.flags = BB__ARGS_POSITIONAL,
};

/* The command words argv[1..npos] and the flags that go with them: 0, or
 * the usage error's 2. */
static int check_words(char **argv, int npos, const struct opts *o)
{
	if (npos < 1)
		return bb__args_usage_error(PROG, "a command is required (list, "
		                            "show, rm, gc)");
	const char *cmd = argv[1];
	int want_bus = strcmp(cmd, "show") == 0 || strcmp(cmd, "rm") == 0;
	if (!want_bus && strcmp(cmd, "list") != 0 && strcmp(cmd, "gc") != 0)
		return bb__args_usage_error(PROG, "%s: unknown command", cmd);
	if (want_bus && npos < 2)
		return bb__args_usage_error(PROG, "%s: a bus NAME is required", cmd);
	if (npos > 1 + want_bus)
		return bb__args_usage_error(PROG, "unexpected argument '%s'",
		                            argv[2 + want_bus]);
	if (want_bus && bb_bus_name_check(argv[2]) != 0)
		return bb__args_usage_error(PROG, "%s: %s", argv[2],
		                            bb_strerror(BB_ENAME));
	if (o->force && strcmp(cmd, "rm") != 0)
		return bb__args_usage_error(PROG, "--force: only with rm");
	if (o->older_s >= 0 && strcmp(cmd, "gc") != 0)
		return bb__args_usage_error(PROG, "--older-than: only with gc");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .older_s = -1 }; /* no default: kept when not given */
	int npos = 0;
	int st = bb__args_parse(&args, &o, argc, argv, &npos);

	if (st != BB__ARGS_GO)
		return st;
	if ((st = check_words(argv, npos, &o)) != 0)
		return st;
	if (strcmp(argv[1], "list") == 0)
		return cmd_list();
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argv[2]);
	if (strcmp(argv[1], "rm") == 0)
		return remove_bus(argv[2], o.force ? BB_REMOVE_FORCE : 0);
	return cmd_gc(o.older_s < 0 ? 0 : o.older_s);
}
