/*
 * barbus-ringdemo: one writer and three reader processes move a few million
 * bars through a ring, each reader with another wait strategy; every reader
 * checks order and content and prints what it got and the rate.
 *
 * usage: barbus-ringdemo [--bars N] [--bus NAME]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "barbus.h"
#include "clock.h"

#define NREADERS 3

static bb_bar demo_bar(uint64_t i)
{
	double px = 100.0 + (double)(i % 1000) / 100.0;

	return (bb_bar){
		.symbol = (uint32_t)(i % 500), .time = 1719840600 + (int64_t)(i / 500) * 60,
		.open = px, .high = px + 0.05, .low = px - 0.05, .close = px + 0.01,
		.volume = (double)(100 + i % 900),
	};
}

static int reader(const char *bus, int wait, uint64_t n, int ready_fd)
{
	static const char *names[] = { "spin", "yield", "block" };
	bb_ring_reader *r;
	bb_bar b;
	uint64_t got = 0, lost = 0, bad = 0, l;
	int rc = bb_ring_reader_open(&r, bus, wait, 0);

	if (rc != 0) {
		fprintf(stderr, "barbus-ringdemo: reader: %s\n", bb_strerror(rc));
		return 1;
	}
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	double t0 = 0;
	while (got + lost < n) {
		rc = bb_ring_wait(r, &b, &l, 5000000000);
		if (rc == BB_ELAPPED) {
			lost += l;
			continue;
		}
		if (rc != 0) {
			fprintf(stderr, "barbus-ringdemo: reader %s: %s\n", names[wait],
			        bb_strerror(rc));
			break;
		}
		if (got == 0)
			t0 = bb__mono_s();
		bb_bar want = demo_bar(got + lost);
		bad += memcmp(&b, &want, sizeof(b)) != 0;
		got++;
	}
	double dt = bb__mono_s() - t0;
	printf("reader %-5s  got %9llu bars  lost %7llu  bad %llu  %7.2f M bars/s\n",
	       names[wait], (unsigned long long)got, (unsigned long long)lost,
	       (unsigned long long)bad, dt > 0 ? got / dt / 1e6 : 0.0);
	fflush(stdout);
	bb_ring_reader_close(r);
	return bad == 0 && got + lost == n ? 0 : 1;
}

static void unlink_bus(const char *bus)
{
	char name[128];

	snprintf(name, sizeof(name), "/barbus.%s.ring", bus);
	shm_unlink(name);
	snprintf(name, sizeof(name), "/barbus.%s.wake", bus);
	shm_unlink(name);
}

struct opts {
	uint64_t bars;
	char     bus[BB_NAME_MAX + 1];
};

#define F(f) BB__FIELD(struct opts, f)

static const struct bb__setting table[] = {
	{ .key = "bars", .type = BB__SETTING_UINT, F(bars),
	  .lim.u = { 1, UINT64_MAX }, .meta = "N", .def = "3000000",
	  .doc = "bars to move" },
	{ .key = "bus", .type = BB__SETTING_STRING, F(bus),
	  .check = bb__args_check_bus, .meta = "NAME",
	  .doc = "bus name (default: demo-PID)" },
};

static const struct bb__args args = {
	.prog = "barbus-ringdemo",
	.synopsis = "usage: barbus-ringdemo [--bars N] [--bus NAME]\n"
	            "One writer and three readers, each waiting its own way, move\n"
	            "bars through a ring; each reader checks and times them.\n",
	.table = table, .n = sizeof(table) / sizeof(table[0]),
};

int main(int argc, char **argv)
{
	struct opts a = { 0 };
	bb_ring_writer *w;
	int pfd[2];
	pid_t kids[NREADERS];

	int rc = bb__args_parse(&args, &a, argc, argv, NULL);
	if (rc != BB__ARGS_GO)
		return rc;
	if (a.bus[0] == '\0')
		snprintf(a.bus, sizeof(a.bus), "demo-%d", (int)getpid());
	const char *bus = a.bus;
	uint64_t n = a.bars;
	bb_seg_opts o = { .capacity = 1u << 20 };
	if ((rc = bb_ring_writer_open(&w, bus, &o)) != 0) {
		fprintf(stderr, "barbus-ringdemo: bus %s: %s\n", bus, bb_strerror(rc));
		return 1;
	}
	if (pipe(pfd) != 0)
		return 1;
	for (int i = 0; i < NREADERS; i++) {
		fflush(stdout);
		if ((kids[i] = fork()) == 0)
			_exit(reader(bus, i, n, pfd[1]));
	}
	char c;
	for (int i = 0; i < NREADERS; i++)
		if (read(pfd[0], &c, 1) != 1)
			return 1;
	printf("bus %s: writing %llu bars (500 symbols) to 3 readers\n", bus,
	       (unsigned long long)n);
	fflush(stdout);
	double t0 = bb__mono_s();
	for (uint64_t i = 0; i < n; i++) {
		bb_bar b = demo_bar(i);
		bb_ring_put(w, &b);
		if ((i & 0xffff) == 0)
			bb_ring_beat(w);
	}
	double dt = bb__mono_s() - t0;
	printf("writer        put %9llu bars in %.3f s: %.2f M bars/s\n",
	       (unsigned long long)n, dt, n / dt / 1e6);
	fflush(stdout);
	int failed = 0, st;
	for (int i = 0; i < NREADERS; i++)
		if (waitpid(kids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	bb_ring_writer_close(w);
	unlink_bus(bus);
	printf("%s\n", failed ? "some readers failed"
	       : "every bar accounted for by every reader: received in order and "
	         "intact, or reported lost (4 busy processes share 2 cores)");
	return failed ? 1 : 0;
}
