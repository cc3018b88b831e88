/*
 * co_live_restart: SIGKILL a live coordinator at 20 random points while a
 * feed comes through a FIFO, restart it, and send the feed again from its
 * first line (as a feed source replays after a reconnect). One reader keeps
 * its ring open throughout: every bar of the feed must reach it exactly once,
 * and be in the store. Prints "N passed, N failed".
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#include "stress.h"

#define NSYM  10
#define NMIN  390 /* one whole session, then one minute of the next */
#define KILLS 20

static char dir[64], fifo[96], exe[PATH_MAX];
static const char *bus;
static char **lines;
static size_t nlines;
static uint8_t seen[2][NMIN][NSYM];
static uint64_t dups, strays;
static atomic_int stop_reader, writer_done;
static atomic_int writer_cuts; /* times the writer saw its reader go */

static void make_feed(void)
{
	int64_t opens[2] = { 1719927000, 1720013400 }; /* 07-02, 07-03 */
	char iso[24];

	lines = calloc(2 + 2 * NMIN * NSYM, sizeof(*lines));
	lines[nlines++] = strdup("symbol,timestamp,open,high,low,close,volume");
	for (int s = 0; s < 2; s++)
		for (int m = 0; m < (s ? 1 : NMIN); m++)
			for (int k = 0; k < NSYM; k++) {
				char buf[128];
				bb_time_format(opens[s] + 60 * m, iso);
				snprintf(buf, sizeof(buf), "L%d,%s,10,11,9,10.5,%d",
				         k, iso, m + 1);
				lines[nlines++] = strdup(buf);
			}
}

/* Feed the FIFO from the first line, a line per 20 us; start again from
 * the first line whenever the coordinator went away. */
static void *writer(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = open(fifo, O_WRONLY);
		size_t i = 0;
		for (; fd >= 0 && i < nlines; i++) {
			char buf[160];
			int n = snprintf(buf, sizeof(buf), "%s\n", lines[i]);
			if (write(fd, buf, (size_t)n) != n)
				break;
			stress_sleep_ns(50000);
		}
		if (fd >= 0)
			close(fd);
		if (i == nlines) {
			atomic_store(&writer_done, 1);
			return NULL;
		}
		atomic_fetch_add(&writer_cuts, 1);
	}
}

static void *reader(void *arg)
{
	bb_ring_reader *r = arg;
	bb_bar b;
	uint64_t lost;

	while (!atomic_load(&stop_reader)) {
		int rc = bb_ring_wait(r, &b, &lost, 20000000);
		if (rc == BB_ELAPPED)
			stress_check(0, __FILE__, __LINE__, "lapped", "%llu",
			             (unsigned long long)lost);
		if (rc != 0 || BB_KIND(b.flags) != BB_KIND_BAR)
			continue;
		int s = b.time >= 1720013400, m = (int)((b.time - (s ? 1720013400
		        : 1719927000)) / 60);
		if (b.symbol >= NSYM || m < 0 || m >= NMIN)
			strays++;
		else if (seen[s][m][b.symbol]++)
			dups++;
	}
	return NULL;
}

static pid_t start(void)
{
	pid_t pid = stress_fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		execl(exe, exe, "--bus", bus, "--db", dir, "--history-days", "0",
		      "live", "--feed", fifo, "--clock", "feed",
		      "--no-data-timeout", "1", (char *)NULL);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	pthread_t wt, rt;
	bb_ring_reader *r = NULL;
	bb_store *st;
	uint32_t id;
	uint64_t seed = (uint64_t)stress_now_ns();
	char name[8];
	(void)argc;

	stress_init("co-live-restart", 300);
	signal(SIGPIPE, SIG_IGN); /* the writer learns of a kill by EPIPE */
	stress_bin(argv[0], "barbus-coordinator", exe, sizeof(exe));
	snprintf(dir, sizeof(dir), "/tmp/bb-liverestart-XXXXXX");
	if (mkdtemp(dir) == NULL || bb_store_open(&st, dir, 0) != 0)
		stress_fatal("setup");
	for (int k = 0; k < NSYM; k++) { /* ids L0..L9 = 0..9 */
		snprintf(name, sizeof(name), "L%d", k);
		bb_store_symbol_add(st, name, &id);
	}
	bb_store_close(st);
	snprintf(fifo, sizeof(fifo), "%s/feed", dir);
	if (mkfifo(fifo, 0600) != 0)
		stress_fatal("mkfifo");
	bus = stress_bus(NULL);
	make_feed();
	printf("seed %llu, %zu feed lines\n", (unsigned long long)seed, nlines);
	pthread_create(&wt, NULL, writer, NULL);
	pid_t pid = start();
	for (int i = 0; i < 400 && r == NULL; i++) {
		stress_sleep_ns(5000000);
		if (bb_ring_reader_open(&r, bus, BB_WAIT_YIELD, BB_RING_FROM_OLDEST))
			r = NULL;
	}
	if (r == NULL)
		stress_fatal("the coordinator never opened the bus");
	pthread_create(&rt, NULL, reader, r);
	int kills = 0;
	for (; kills < KILLS && !atomic_load(&writer_done); kills++) {
		stress_sleep_ns((int64_t)stress_rand_in(&seed, 5, 40) * 1000000);
		int cuts = atomic_load(&writer_cuts);
		kill(pid, SIGKILL);
		stress_reap(pid, 5000);
		stress_forget(pid);
		/* A feed writer starts again from its header once it sees its
		 * reader gone (EPIPE); a coordinator opening the FIFO before
		 * that would read the old stream's middle, without a header. */
		for (int w = 0; w < 5000 && atomic_load(&writer_cuts) == cuts &&
		     !atomic_load(&writer_done); w++)
			stress_sleep_ns(1000000);
		pid = start();
	}
	printf("%d kills before the feed got through whole\n", kills);
	CHECK(kills >= KILLS / 2, "the feed was cut at least %d times: %d",
	      KILLS / 2, kills);
	int status = stress_reap(pid, 60000);
	stress_forget(pid);
	char why[64];
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "last coordinator ended with the feed (%s)",
	      stress_status_str(status, why, sizeof(why)));
	atomic_store(&stop_reader, 1);
	pthread_join(rt, NULL);
	pthread_join(wt, NULL);
	size_t got = 0, want = nlines - 1, stored = 0;
	for (int s = 0; s < 2; s++)
		for (int m = 0; m < NMIN; m++)
			for (int k = 0; k < NSYM; k++)
				got += seen[s][m][k] != 0;
	if (bb_store_open(&st, dir, BB_STORE_RDONLY) == 0) {
		bb_bar b;
		for (uint32_t k = 0; k < NSYM; k++)
			for (int m = 0; m < NMIN; m++)
				stored += bb_store_get(st, k, 1719927000 + 60 * m, &b) == 0;
		bb_store_close(st);
	}
	CHECK(got == want, "every feed bar received: %zu of %zu", got, want);
	CHECK(dups == 0, "no bar received twice: %llu", (unsigned long long)dups);
	CHECK(strays == 0, "no stray bar: %llu", (unsigned long long)strays);
	CHECK(stored == NMIN * NSYM, "first session stored: %zu of %d", stored,
	      NMIN * NSYM);
	bb_ring_reader_close(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return stress_done();
}
