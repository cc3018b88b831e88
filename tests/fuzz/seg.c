/*
 * seg.c: segment validation. The input describes the segments of one bus,
 * any bytes in any of them, as any role; the readers open them through the
 * public API (bb_ring_reader_open, bb_table_open, bb_bus_open,
 * bb_upkeep_open) and go through every reader call with bounded loops.
 * Each call must return an error or data within bounds: never crash, never
 * read outside a mapping, never compute out of range (UBSan).
 *
 * Input: records of a 12-byte head and a patch,
 *   u8  role: index into roles[] (modulo)
 *   u8  flags: bit 0: a live writer holds the segment's lock
 *   u32 size of the segment, little-endian (above SEG_MAX: record skipped)
 *   u32 offset of the patch
 *   u16 n, then n bytes written at offset (clipped to the size)
 * A segment is zeros but for its patches; a later record of the same role
 * sets its size again and adds a patch. Roles without a record are absent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "barbus.h"
#include "fuzz.h"

#define SEG_MAX   (1u << 20)
#define REC_HEAD  12
#define OUT_BARS  64

static const char *const roles[] = {
	"ring", "wake", "control", "bars.1m", "hist.0", "hist.1",
	"up.status", "up.quality", "up.fills", "up.fills.h",
	"up.5m", "up.5m.h", "up.15m", "up.15m.h",
};
#define NROLES (sizeof(roles) / sizeof(roles[0]))

struct seg_in {
	uint8_t *buf;  /* NULL: absent */
	size_t   size;
	int      lock; /* hold the writer lock while reading */
	int      fd;   /* open while locked */
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Resize s to size bytes, keeping its bytes and zeroing new ones. */
static void resize(struct seg_in *s, size_t size)
{
	uint8_t *b = calloc(1, size ? size : 1);

	FUZZ_CHECK(b != NULL);
	if (s->buf != NULL)
		memcpy(b, s->buf, s->size < size ? s->size : size);
	free(s->buf);
	s->buf = b;
	s->size = size;
}

static void parse(const uint8_t *d, size_t n, struct seg_in *segs)
{
	while (n >= REC_HEAD) {
		struct seg_in *s = &segs[d[0] % NROLES];
		uint32_t size = le32(d + 2), off = le32(d + 6);
		size_t len = d[10] | (size_t)d[11] << 8;
		d += REC_HEAD, n -= REC_HEAD;
		if (len > n)
			len = n;
		if (size <= SEG_MAX) {
			resize(s, size);
			s->lock = d[-REC_HEAD + 1] & 1;
			if (off < size)
				memcpy(s->buf + off, d,
				       len < size - off ? len : size - off);
		}
		d += len, n -= len;
	}
}

static void seg_path(char *buf, size_t len, const char *bus, size_t role)
{
	snprintf(buf, len, "/barbus.%s.%s", bus, roles[role]);
}

/* The segments as shared-memory objects of bus; locks taken. */
static void create(const char *bus, struct seg_in *segs)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char name[128];

	for (size_t r = 0; r < NROLES; r++) {
		struct seg_in *s = &segs[r];
		s->fd = -1;
		if (s->buf == NULL)
			continue;
		seg_path(name, sizeof(name), bus, r);
		int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
		FUZZ_CHECK(fd >= 0);
		FUZZ_CHECK(write(fd, s->buf, s->size) == (ssize_t)s->size);
		if (s->lock)
			FUZZ_CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0);
		if (s->lock)
			s->fd = fd;
		else
			close(fd);
	}
}

static void destroy(const char *bus, struct seg_in *segs)
{
	char name[128];

	for (size_t r = 0; r < NROLES; r++) {
		if (segs[r].fd >= 0)
			close(segs[r].fd);
		if (segs[r].buf != NULL) {
			seg_path(name, sizeof(name), bus, r);
			shm_unlink(name);
		}
		free(segs[r].buf);
	}
}

/* rc is 0, an errno or one of ours. */
static void check_rc(int rc)
{
	FUZZ_CHECK(rc >= 0 || (rc > BB_ERR_BASE && rc < BB_ERR_END));
}

static void check_state(int state)
{
	FUZZ_CHECK(state == BB_WRITER_ALIVE || state == BB_WRITER_STUCK ||
	           state == BB_WRITER_DEAD);
}

static void read_ring(const char *bus, int wait, unsigned flags)
{
	bb_ring_reader *r;
	bb_bar b;
	uint64_t lost;
	pid_t pid;
	int rc = bb_ring_reader_open(&r, bus, wait, flags);

	check_rc(rc);
	if (rc != 0)
		return;
	for (int i = 0; i < 300 && rc != BB_EEMPTY; i++) {
		rc = bb_ring_read(r, &b, &lost);
		check_rc(rc);
	}
	check_rc(bb_ring_wait(r, &b, &lost, 0));
	(void)bb_ring_reader_seq(r);
	(void)bb_ring_epoch(r);
	check_state(bb_ring_writer_state(r, &pid));
	bb_ring_reader_close(r);
}

static void read_table_sym(const bb_table *t, uint32_t sym)
{
	bb_bar out[OUT_BARS];
	size_t got;
	int rc;

	FUZZ_CHECK(bb_table_count(t, sym) <= bb_table_rows(t));
	check_rc(bb_table_latest(t, sym, out));
	check_rc(bb_table_record(t, sym, out));
	check_rc(rc = bb_table_last_n(t, sym, out, OUT_BARS, &got));
	if (rc == 0)
		FUZZ_CHECK(got <= OUT_BARS && got <= bb_table_rows(t));
}

static void read_table(const char *bus, size_t role)
{
	bb_table *t;
	pid_t pid;
	int rc = bb_table_open(&t, bus, roles[role]);

	check_rc(rc);
	if (rc != 0)
		return;
	uint32_t n = bb_table_symbols(t);
	for (uint32_t s = 0; s < n && s < 4; s++)
		read_table_sym(t, s);
	read_table_sym(t, n);
	read_table_sym(t, UINT32_MAX);
	(void)bb_table_epoch(t);
	check_state(bb_table_writer_state(t, &pid));
	bb_table_close(t);
}

static void read_symbols(const bb_bus *b)
{
	char name[64];
	uint32_t id, n = bb_symbol_count(b);

	for (uint32_t i = 0; i <= n && i < 8; i++) {
		int rc = bb_symbol_name(b, i, name, sizeof(name));
		check_rc(rc);
		if (rc != 0)
			continue;
		FUZZ_CHECK(strlen(name) < 32);
		check_rc(rc = bb_symbol_lookup(b, name, &id));
		FUZZ_CHECK(rc != 0 || id < n);
	}
	check_rc(bb_symbol_lookup(b, "AAA", &id));
}

static void read_bus_sym(const bb_bus *b, uint32_t sym)
{
	bb_bar out[OUT_BARS];
	bb_session s;
	size_t got;
	int32_t date;
	int rc;

	check_rc(bb_latest(b, sym, out));
	check_rc(rc = bb_last_n(b, sym, out, OUT_BARS, &got));
	if (rc == 0)
		FUZZ_CHECK(got <= OUT_BARS);
	(void)bb_count(b, sym);
	for (uint32_t back = 0; back < 4; back++) {
		check_rc(bb_history_session(b, back, &s));
		check_rc(rc = bb_history(b, back, sym, out, OUT_BARS, &got,
		                         &date));
		if (rc == 0)
			FUZZ_CHECK(got <= OUT_BARS);
	}
}

static void read_bus(const bb_bus *b)
{
	bb_status st;
	pid_t pid;
	int rc = bb_bus_status(b, &st);

	check_rc(rc);
	for (int c = -1; c <= BB_CTR_COUNT; c++)
		(void)bb_bus_counter(b, c);
	for (uint64_t s = 0; s < 3; s++)
		(void)bb_bus_transition_ns(b, s);
	if (rc == 0)
		(void)bb_bus_transition_ns(b, st.sessions);
	(void)bb_bus_epoch(b);
	check_state(bb_bus_writer_state(b, &pid));
	read_symbols(b);
	for (uint32_t sym = 0; sym < 3; sym++)
		read_bus_sym(b, sym);
	read_bus_sym(b, UINT32_MAX);
}

/* bb_bars() and bb_bars_history() of sym at interval iv. */
static void read_bars(const bb_bus *b, const bb_upkeep *u, uint32_t sym,
                      uint32_t iv)
{
	bb_bar out[OUT_BARS];
	size_t got;
	int32_t date;
	int rc;

	check_rc(rc = bb_bars(b, u, sym, iv, out, OUT_BARS, &got));
	if (rc == 0)
		FUZZ_CHECK(got <= OUT_BARS);
	for (uint32_t back = 0; back < 3; back++) {
		check_rc(rc = bb_bars_history(b, u, back, sym, iv, out,
		                              OUT_BARS, &got, &date));
		if (rc == 0)
			FUZZ_CHECK(got <= OUT_BARS);
	}
}

static void read_upkeep(const bb_bus *b, const bb_upkeep *u)
{
	uint32_t iv[BB_UPKEEP_MAX_INTERVALS + 1] = { 1 };
	bb_upkeep_info info;
	bb_quality q;
	pid_t pid;

	check_rc(bb_upkeep_status(u, &info));
	check_state(bb_upkeep_writer_state(u, &pid));
	size_t n = bb_upkeep_intervals(u, iv + 1, BB_UPKEEP_MAX_INTERVALS);
	FUZZ_CHECK(n <= BB_UPKEEP_MAX_INTERVALS);
	(void)bb_upkeep_history_days(u);
	for (uint32_t sym = 0; sym < 3; sym++) {
		check_rc(bb_upkeep_quality(u, sym, &q));
		for (size_t k = 0; k <= n; k++)
			read_bars(b, u, sym, iv[k]);
		read_bars(b, u, sym, 7); /* an interval not maintained */
	}
	check_rc(bb_upkeep_quality(u, UINT32_MAX, &q));
}

static void read_all(const char *bus)
{
	bb_bus *b = NULL;
	bb_upkeep *u = NULL;

	for (int wait = BB_WAIT_SPIN; wait <= BB_WAIT_BLOCK; wait++) {
		read_ring(bus, wait, 0);
		read_ring(bus, wait, BB_RING_FROM_OLDEST);
	}
	for (size_t r = 0; r < NROLES; r++)
		if (strcmp(roles[r], "ring") != 0)
			read_table(bus, r);
	int rc = bb_bus_open(&b, bus);
	check_rc(rc);
	if (rc == 0)
		read_bus(b);
	check_rc(rc = bb_upkeep_open(&u, bus));
	if (rc == 0)
		read_upkeep(b, u);
	if (rc == 0 && b != NULL)
		read_bars(NULL, u, 0, 1); /* interval 1 needs a bus */
	bb_upkeep_close(u);
	bb_bus_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_in segs[NROLES] = { 0 };
	char bus[32];

	snprintf(bus, sizeof(bus), "fuzz-seg-%d", (int)getpid());
	parse(data, size, segs);
	create(bus, segs);
	read_all(bus);
	destroy(bus, segs);
	return 0;
}
