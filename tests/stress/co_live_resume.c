/*
 * co_live_resume: a live coordinator (--clock feed) killed with SIGKILL
 * three times in the middle of a session and started again with the same
 * arguments while the feed keeps coming, for each kind of feed:
 *
 *  - file:  the feed is a file being appended to; the restarted
 *           coordinator reads it from its first line again;
 *  - stdin: the feed comes through a pipe on stdin; the feed source
 *           connects a new pipe and sends again from its first line;
 *  - fifo:  the same through a FIFO.
 *
 * Each time the coordinator resumes the open session: a ring reader held
 * throughout sees one SESSION_START, every bar exactly once and none
 * flagged late; no stall is counted; after the last line the feed ends and
 * the session with it (timer-expired), exit 0. Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#include "stress.h"

#define NSYM  4
#define NMIN  120
#define OPEN  1719927000 /* 2024-07-02 13:30Z */
#define HDR   "symbol,timestamp,open,high,low,close,volume\n"

enum kind { FILE_FEED, STDIN_FEED, FIFO_FEED };
static const char *const kind_names[] = { "file", "stdin", "fifo" };

static char dir[64], db[96], exe[PATH_MAX];
static char lines[NSYM * NMIN][96];

static struct seen {
	int starts, ends, bars[NSYM][NMIN], late, others;
} seen;
static atomic_int stop_reader;

/* One record the reader saw, into seen. */
static void tally(const bb_bar *b, void *unused)
{
	int m = (int)((b->time - OPEN) / 60);

	(void)unused;
	switch (BB_KIND(b->flags)) {
	case BB_KIND_SESSION_START: seen.starts++; break;
	case BB_KIND_SESSION_END: seen.ends++; break;
	case BB_KIND_BAR:
		if (b->symbol >= NSYM || m < 0 || m >= NMIN)
			seen.others++;
		else
			seen.bars[b->symbol][m]++;
		seen.late += (b->flags & BB_BAR_LATE) != 0;
		break;
	}
}

static void *reader(void *arg)
{
	stress_ring_drain(arg, &stop_reader, tally, NULL);
	return NULL;
}

/* Start the coordinator; *wfd: the write end of its stdin pipe (stdin). */
static pid_t start(enum kind k, const char *bus, const char *feed, int *wfd,
                   const char *err)
{
	int p[2] = { -1, -1 };

	if (k == STDIN_FEED && pipe(p) != 0)
		stress_fatal("pipe");
	pid_t pid = stress_fork();
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		if (k == STDIN_FEED) {
			dup2(p[0], 0);
			close(p[1]);
		}
		execl(exe, exe, "--bus", bus, "--db", db, "--history-days", "0",
		      "--ring-capacity", "4096", "live", "--feed",
		      k == STDIN_FEED ? "-" : feed, "--clock", "feed",
		      "--no-data-timeout", "2", (char *)NULL);
		_exit(127);
	}
	if (k == STDIN_FEED) {
		close(p[0]);
		*wfd = p[1];
	}
	return pid;
}

static int put(int fd, const char *s)
{
	size_t n = strlen(s);

	return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

/* A connection to the coordinator's feed (stdin, FIFO); header sent. */
static int connect_feed(enum kind k, const char *feed, int pipe_fd)
{
	int fd = k == STDIN_FEED ? pipe_fd : open(feed, O_WRONLY);

	if (fd < 0 || put(fd, HDR) != 0)
		stress_fatal("%s: connect the feed: %s", kind_names[k],
		             strerror(errno));
	return fd;
}

/* Restarts counted by the bus so far. */
static uint64_t restarts_of(const char *bus)
{
	bb_bus *b;
	uint64_t n = 0;

	if (bb_bus_open(&b, bus) == 0) {
		n = bb_bus_counter(b, BB_CTR_RESTARTS);
		bb_bus_close(b);
	}
	return n;
}

static void run(enum kind k)
{
	const char *name = kind_names[k], *bus = stress_bus(name);
	char feed[128], err[128], why[64];
	int kills_at[] = { 90, 230, 380 }, nk = 0, pipe_fd = -1, fd;
	bb_ring_reader *r = NULL;
	pthread_t rt;

	memset(&seen, 0, sizeof(seen));
	atomic_store(&stop_reader, 0);
	snprintf(feed, sizeof(feed), "%s/feed-%s", dir, name);
	snprintf(err, sizeof(err), "%s/err-%s", dir, name);
	if (k == FIFO_FEED && mkfifo(feed, 0600) != 0)
		stress_fatal("mkfifo");
	if (k == FILE_FEED) {
		fd = open(feed, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || put(fd, HDR) != 0)
			stress_fatal("feed file");
	}
	pid_t co = start(k, bus, feed, &pipe_fd, err);
	if (k != FILE_FEED)
		fd = connect_feed(k, feed, pipe_fd);
	for (int i = 0; i < 2000 && r == NULL; i++) {
		stress_sleep_ns(1000000);
		if (bb_ring_reader_open(&r, bus, BB_WAIT_BLOCK, BB_RING_FROM_OLDEST))
			r = NULL;
	}
	if (r == NULL)
		stress_fatal("%s: the coordinator never opened the bus", name);
	pthread_create(&rt, NULL, reader, r);
	for (int i = 0; i < NSYM * NMIN; i++) {
		if (nk < 3 && i == kills_at[nk]) {
			/* the last one is at work (attached), and took some in */
			for (int w = 0; w < 5000 && restarts_of(bus) < (uint64_t)nk; w++)
				stress_sleep_ns(1000000);
			stress_sleep_ns(20000000);
			kill(co, SIGKILL);
			stress_reap(co, 5000);
			stress_forget(co);
			nk++;
			if (k != FILE_FEED)
				close(fd);
			co = start(k, bus, feed, &pipe_fd, err);
			if (k != FILE_FEED) { /* the source sends from the start */
				fd = connect_feed(k, feed, pipe_fd);
				for (int j = 0; j < i; j++)
					put(fd, lines[j]);
			}
		}
		if (put(fd, lines[i]) != 0)
			stress_fatal("%s: write line %d: %s", name, i, strerror(errno));
		stress_sleep_ns(500000);
	}
	close(fd);
	int status = stress_reap(co, 20000);
	stress_forget(co);
	atomic_store(&stop_reader, 1);
	pthread_join(rt, NULL);
	bb_ring_reader_close(r);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: after 3 kills "
	      "the last coordinator ends with its feed (%s)", name,
	      stress_status_str(status, why, sizeof(why)));
	int once = 1;
	for (int s = 0; s < NSYM; s++)
		for (int m = 0; m < NMIN; m++)
			once &= seen.bars[s][m] == 1;
	CHECK(once && seen.others == 0, "%s: every bar reached the ring "
	      "exactly once", name);
	CHECK(seen.late == 0, "%s: none flagged late (%d)", name, seen.late);
	CHECK(seen.starts == 1 && seen.ends == 1, "%s: the session resumed, "
	      "not started again: %d start, %d end", name, seen.starts,
	      seen.ends);
	bb_bus *b;
	bb_status st = { 0 };
	uint64_t stalls = 99, restarts = 0;
	if (bb_bus_open(&b, bus) == 0) {
		bb_bus_status(b, &st);
		stalls = bb_bus_counter(b, BB_CTR_STALLS);
		restarts = bb_bus_counter(b, BB_CTR_RESTARTS);
		bb_bus_close(b);
	}
	CHECK(stalls == 0 && restarts == 3, "%s: no stall, 3 restarts "
	      "(%llu, %llu)", name, (unsigned long long)stalls,
	      (unsigned long long)restarts);
	CHECK(st.state == BB_STATE_TIMER_EXPIRED, "%s: the feed over, the "
	      "session ended timer-expired (state %u)", name, st.state);
}

int main(int argc, char **argv)
{
	bb_store *st;
	uint32_t id;
	char name[8], iso[24];
	(void)argc;

	stress_init("co-live-resume", 120);
	signal(SIGPIPE, SIG_IGN); /* a killed coordinator: EPIPE */
	stress_bin(argv[0], "barbus-coordinator", exe, sizeof(exe));
	snprintf(dir, sizeof(dir), "/tmp/bb-liveresume-XXXXXX");
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	if (mkdir(db, 0700) != 0 || bb_store_open(&st, db, 0) != 0)
		stress_fatal("store");
	for (int k = 0; k < NSYM; k++) {
		snprintf(name, sizeof(name), "R%d", k);
		bb_store_symbol_add(st, name, &id);
	}
	bb_store_close(st);
	for (int m = 0; m < NMIN; m++)
		for (int s = 0; s < NSYM; s++) {
			bb_time_format(OPEN + 60 * m, iso);
			snprintf(lines[m * NSYM + s], sizeof(lines[0]),
			         "R%d,%s,10,11,9,10.5,%d\n", s, iso, m + 1);
		}
	for (int k = FILE_FEED; k <= FIFO_FEED; k++)
		run((enum kind)k);
	if (atomic_load(&g_stress.failed) != 0)
		stress_sh("cat %s/err-*", dir);
	stress_sh("rm -rf %s", dir);
	return stress_done();
}
