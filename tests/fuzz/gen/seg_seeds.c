/*
 * seg_seeds.c: writes the seed corpus of the segment harness (tests/fuzz/
 * seg.c) from a real, tiny bus: the coordinator's segments made by its own
 * publisher, the upkeep's tables as docs/upkeep.md lays them out, each
 * segment dumped as the harness's records (its size, then a patch per
 * run of non-zero bytes). make fuzz-seeds runs it; its output is committed.
 *
 *   seg_seeds DIR    writes DIR/bus, DIR/ring, DIR/upkeep, DIR/torn-ring
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../coordinator/publish.h"
#include "clock.h"

#define GAP 16 /* zero bytes that end a patch */

static const char *const all[] = {
	"ring", "wake", "control", "bars.1m", "hist.0", "hist.1",
	"up.status", "up.quality", "up.fills", "up.fills.h", "up.5m", "up.5m.h",
};
/* Role indices as tests/fuzz/seg.c numbers them. */
static int role_index(const char *role)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i], role) == 0)
			return (int)i;
	abort();
}

static void put_le(FILE *f, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		fputc((int)(v >> (8 * i)) & 0xff, f);
}

static void record(FILE *f, int role, int lock, uint32_t size, uint32_t off,
                   const uint8_t *p, size_t n)
{
	fputc(role, f);
	fputc(lock, f);
	put_le(f, size, 4);
	put_le(f, off, 4);
	put_le(f, n, 2);
	fwrite(p, 1, n, f);
}

/* Segment role of bus as records: its size, then its non-zero runs. */
static void dump(FILE *f, const char *bus, const char *role, int lock)
{
	char name[128];
	struct stat st;

	snprintf(name, sizeof(name), "/barbus.%s.%s", bus, role);
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(name);
		exit(1);
	}
	size_t len = (size_t)st.st_size;
	uint8_t *p = malloc(len);
	if (p == NULL || pread(fd, p, len, 0) != (ssize_t)len)
		exit(1);
	close(fd);
	int r = role_index(role);
	record(f, r, lock, (uint32_t)len, 0, NULL, 0);
	for (size_t i = 0; i < len;) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		size_t end = i, zeros = 0;
		while (end < len && zeros < GAP && end - i < 60000)
			zeros = p[end++] == 0 ? zeros + 1 : 0;
		end -= zeros;
		record(f, r, lock, (uint32_t)len, (uint32_t)i, p + i, end - i);
		i = end;
	}
	free(p);
}

static void bar(bb_bar *b, uint32_t sym, int64_t t, double px)
{
	*b = (bb_bar){ .symbol = sym, .time = t, .open = px, .high = px + 1,
	               .low = px - 1, .close = px + 0.5, .volume = 100 };
}

/* The coordinator's segments: two sessions, the first one in history. */
static void coordinator(struct bb__bw *p, const char *bus)
{
	struct bb__bw_geom g = {
		.max_symbols = 2, .table_symbols = 2, .rows = 4, .history = 1,
		.ring_capacity = 8, .heartbeat_ms = 100, .seg_mode = 0600,
		.mode = BB_MODE_BACKTEST,
	};
	bb_session s = { .date = 20240702, .open = 1719927000,
	                 .close = 1719927000 + 4 * 60 };
	bb_bar b;

	if (co_pub_open(p, bus, &g) != 0)
		exit(1);
	bb__ctl_add_symbol(p->ctl, g.max_symbols, "AAA");
	bb__ctl_add_symbol(p->ctl, g.max_symbols, "BB.X");
	for (int day = 0; day < 2; day++) {
		bb__bw_session_start(p, &s, day ? bb__mono_ns() - 1000 : 0);
		for (int m = 0; m < 3; m++) {
			bar(&b, (uint32_t)m % 2, s.open + 60 * m, 10 + m);
			bb__bw_bar(p, &b);
			bb__bw_minute_end(p, s.open + 60 * m);
		}
		if (day == 0)
			bb__bw_session_end(p, BB_END_CLOSE);
		s.date++, s.open += 86400, s.close += 86400;
	}
}

static bb_table_writer *table(const char *bus, const char *role,
                              uint32_t nsym, uint32_t rows)
{
	bb_table_writer *w;
	bb_seg_opts o = { .mode = 0600 };

	if (bb_table_writer_open(&w, bus, role, nsym, rows, &o) != 0)
		exit(1);
	return w;
}

/* The upkeep's tables: interval 5m, history of 2 blocks (block 0 done). */
static void upkeep(const char *bus, bb_table_writer **w)
{
	bb_upkeep_info info = { .state = BB_UPKEEP_FOLLOWING, .date = 20240703,
	                        .done_date = 20240702, .nintervals = 1 };
	uint32_t iv[14] = { 5 };
	struct bb__block blk = { .date = 20240702, .open = 1719927000,
	                         .close = 1719927000 + 240, .session = 1 };
	bb_quality q = { .expected = 3, .real = 2, .filled = 1,
	                 .date = 20240703, .quality = 66.7 };
	bb_bar b;

	w[0] = table(bus, "up.status", 4, 1);
	bb_table_append(w[0], 0, (const bb_bar *)&info);
	bb_table_append(w[0], 1, (const bb_bar *)iv);
	bb_table_append(w[0], 2, (const bb_bar *)&blk);
	w[1] = table(bus, "up.quality", 2, 1);
	bb_table_append(w[1], 0, (const bb_bar *)&q);
	w[2] = table(bus, "up.fills", 2, 4);
	bar(&b, 1, 1719927000 + 86400, 11);
	b.flags = BB_BAR_FILLED;
	bb_table_append(w[2], 1, &b);
	w[3] = table(bus, "up.fills.h", 4, 4);
	bar(&b, 0, 1719927060, 12);
	b.flags = BB_BAR_FILLED;
	bb_table_append(w[3], 0, &b);
	w[4] = table(bus, "up.5m", 2, 1);
	bar(&b, 0, 1719927000 + 86400, 10);
	b.flags = BB_BAR_PARTIAL;
	bb_table_append(w[4], 0, &b);
	w[5] = table(bus, "up.5m.h", 4, 1);
	bar(&b, 0, 1719927000, 10);
	bb_table_append(w[5], 0, &b);
}

static FILE *out(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	struct bb__bw p;
	bb_table_writer *up[6];
	char bus[32], name[128];

	if (argc != 2) {
		fprintf(stderr, "usage: seg_seeds DIR\n");
		return 2;
	}
	snprintf(bus, sizeof(bus), "seeds-%d", (int)getpid());
	coordinator(&p, bus);
	upkeep(bus, up);

	/* Not "wake": the ring's wake word is a System V segment now, and
	 * no writer makes that file (the harness still numbers its role). */
	FILE *f = out(argv[1], "bus");
	for (int r = 2; r < 6; r++)
		dump(f, bus, all[r], r == 2);
	fclose(f);
	f = out(argv[1], "ring");
	dump(f, bus, "ring", 1);
	fclose(f);
	f = out(argv[1], "upkeep");
	for (int r = 2; r < 12; r++)
		dump(f, bus, all[r], r == 6);
	fclose(f);
	/* The ring cut short of its header's size. */
	f = out(argv[1], "torn-ring");
	dump(f, bus, "ring", 0);
	record(f, 0, 0, 128 + 64 + 3 * 64, 0, NULL, 0);
	fclose(f);

	for (int k = 0; k < 6; k++)
		bb_table_writer_close(up[k]);
	bb__bw_close(&p);
	for (size_t r = 0; r < sizeof(all) / sizeof(all[0]); r++) {
		snprintf(name, sizeof(name), "/barbus.%s.%s", bus, all[r]);
		shm_unlink(name);
	}
	return 0;
}
