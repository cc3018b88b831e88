/*
 * page_bench: what the first touch of a shared-memory page costs a process
 * on this machine, the floor under every figure that maps fresh segments.
 * A 64 MiB object in /dev/shm, reserved (posix_fallocate) and mapped with
 * MAP_POPULATE as a segment writer does, then one store per page
 * (page.touch.write), the same again (page.warm.write: the page is mapped
 * writable now), and one load per page by another process that maps it
 * afterwards (page.touch.read). Microseconds per 4 KiB page, median of 3.
 * On bare metal these are fractions of a microsecond; under shadow paging
 * (a hypervisor that traps each process's first access of a page) they are
 * microseconds, and a segment of N pages written for the first time costs
 * N times page.touch.write wherever that happens (docs/PERFORMANCE.md,
 * "Pages touched once").
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "bench.h"

#define MIB    64
#define ROUNDS 3

/* Microseconds per page of one pass over p, storing (or loading) a byte. */
static double pass(char *p, size_t len, size_t pg, int store)
{
	volatile char sink = 0;
	int64_t t0 = bench_now_ns();

	for (size_t off = 0; off < len; off += pg) {
		if (store)
			((volatile char *)p)[off] = 0;
		else
			sink += ((volatile char *)p)[off];
	}
	(void)sink;
	return (double)(bench_now_ns() - t0) / 1e3 / (double)(len / pg);
}

/* A child maps the object afresh and loads a byte of each page. */
static int child_read(int fd, size_t len, size_t pg, double *out)
{
	char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return 1;
	*out = pass(p, len, pg, 0);
	munmap(p, len);
	return 0;
}

/* One round: write, warm write, read by another process; 0 or -1. */
static int round_once(size_t len, size_t pg, double r[3])
{
	char name[64];
	snprintf(name, sizeof(name), "/page_bench-%d", (int)getpid());
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return -1;
	shm_unlink(name);
	double *shared = bench_shared(sizeof(double));
	char *p = NULL;
	int rc = -1;
	if (posix_fallocate(fd, 0, (off_t)len) == 0 &&
	    (p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_POPULATE, fd, 0)) != MAP_FAILED) {
		r[0] = pass(p, len, pg, 1);
		r[1] = pass(p, len, pg, 1);
		pid_t c = fork();
		if (c == 0)
			_exit(child_read(fd, len, pg, shared));
		int st = 0;
		if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0) {
			r[2] = *shared;
			rc = 0;
		}
		munmap(p, len);
	}
	munmap(shared, sizeof(double));
	close(fd);
	return rc;
}

int main(void)
{
	size_t len = (size_t)MIB << 20, pg = (size_t)sysconf(_SC_PAGESIZE);
	double v[3][ROUNDS];

	for (int k = 0; k < ROUNDS; k++) {
		double r[3];
		if (round_once(len, pg, r) != 0) {
			fprintf(stderr, "page_bench: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < 3; i++)
			v[i][k] = r[i];
	}
	double med[3];
	for (int i = 0; i < 3; i++)
		med[i] = bench_median(v[i], ROUNDS);
	printf("first touch of a fresh %d MiB shared object, us per %zu-byte "
	       "page, median of %d\n  %-40s %8.3f\n  %-40s %8.3f\n"
	       "  %-40s %8.3f\n", MIB, pg, ROUNDS,
	       "store, after MAP_POPULATE (writer)", med[0],
	       "store again", med[1],
	       "load, another process (reader)", med[2]);
	bench_metric("page.touch.write", med[0], "us", 3);
	bench_metric("page.warm.write", med[1], "us", 3);
	bench_metric("page.touch.read", med[2], "us", 3);
	bench_metrics_print();
	return 0;
}
