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

#include "barbus.h"

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
	} else if (strcmp(role, "up.status") == 0) {
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

struct opts {
	const char *cmd, *bus;
	unsigned    flags;
	int64_t     older_s;
};

static int usage(const char *why, const char *flag)
{
	if (why != NULL)
		fprintf(stderr, PROG ": %s%s%s\n", flag ? flag : "", flag ? ": " : "",
		        why);
	fprintf(why ? stderr : stdout,
	        "usage: " PROG " list\n"
	        "       " PROG " show NAME\n"
	        "       " PROG " rm NAME [--force]\n"
	        "       " PROG " gc [--older-than DUR]   (DUR: 90s, 10m, 2h, 1d)\n");
	return why ? 2 : 0;
}

/* Every argument; 0, or the exit status of a usage error (or --help). */
static int parse(int argc, char **argv, struct opts *o, int *done)
{
	*o = (struct opts){ 0 };
	*done = 0;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		*done = 1;
		return usage(NULL, NULL);
	}
	if (argc < 2)
		return usage("a command is required", NULL);
	o->cmd = argv[1];
	int want_bus = strcmp(o->cmd, "show") == 0 || strcmp(o->cmd, "rm") == 0;
	if (!want_bus && strcmp(o->cmd, "list") && strcmp(o->cmd, "gc"))
		return usage("unknown command", o->cmd);
	int i = 2;
	if (want_bus) {
		if (i >= argc || argv[i][0] == '-')
			return usage("a bus NAME is required", o->cmd);
		if (bb_bus_name_check(argv[i]) != 0)
			return usage(bb_strerror(BB_ENAME), argv[i]);
		o->bus = argv[i++];
	}
	for (; i < argc; i++) {
		if (strcmp(o->cmd, "rm") == 0 && strcmp(argv[i], "--force") == 0) {
			o->flags |= BB_REMOVE_FORCE;
		} else if (strcmp(o->cmd, "gc") == 0 &&
		           strcmp(argv[i], "--older-than") == 0) {
			if (i + 1 >= argc || (o->older_s = duration_s(argv[++i])) < 0)
				return usage("a duration is required (90s, 10m, 2h, "
				             "1d)", "--older-than");
		} else {
			return usage("unknown option", argv[i]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int done;
	int rc = parse(argc, argv, &o, &done);

	if (rc != 0 || done)
		return rc;
	if (strcmp(o.cmd, "list") == 0)
		return cmd_list();
	if (strcmp(o.cmd, "show") == 0)
		return cmd_show(o.bus);
	if (strcmp(o.cmd, "rm") == 0)
		return remove_bus(o.bus, o.flags);
	return cmd_gc(o.older_s);
}
