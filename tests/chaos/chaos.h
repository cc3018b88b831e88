/*
 * chaos.h: what the chaos program's parts share. tests/chaos/chaos.c is its
 * one translation unit; it includes the parts, as each stress program
 * includes tests/stress/stress.h: reader.h (the reader processes),
 * driver.h (starting, killing and timing the writers), rate.h (the
 * stopped reader and the writer's rate), verify.h (judging the readers).
 *
 * The readers are child processes that write what they see into files in
 * the run's directory; the driver reads those files after the run:
 *   r<N>.ring  one struct ch_rec per bb_ring_read()/bb_ring_wait() result
 *              that delivered a record or reported a lap (or an error)
 *   r<N>.snap  per kept session, interval and symbol: struct ch_snap then
 *              its bars (what bb_bars()/bb_bars_history() gave at the end)
 *   r<N>.sum   one struct ch_sum
 */
#ifndef BB_CHAOS_H
#define BB_CHAOS_H

#include <limits.h>
#include <pthread.h>

#include "../stress/stress.h"

#define CH_NREADERS  4
#define CH_NIV       5       /* 1m and the upkeep's four derived intervals */
#define CH_INTERVALS "5m,15m,30m,1h"
#define CH_MAX_ROWS  512     /* > the longest session in minutes (390) */
#define CH_SERVED_MS 100     /* the recovery bound */
#define CH_RATE_DROP 0.10    /* the bound on the writer's slowdown */
#define CH_SPIN_NICE 10      /* the spin and yield readers' nice value */
#define CH_WRITER_NICE -5    /* the coordinator's and upkeep's, if allowed */

static const uint32_t ch_iv[CH_NIV] = { 1, 5, 15, 30, 60 };

/* The readers, one per way of waiting; the BLOCK one is the one stopped:
 * it is the one whose wait the writer pays for (a futex wake while its
 * waiting bit is set), so stopping it is what could cost the writer most. */
enum { RD_SPIN, RD_YIELD, RD_BLOCK, RD_POLL };
#define CH_STOPPED RD_BLOCK
static const char *const ch_rd_name[CH_NREADERS] = {
	"spin", "yield", "block", "poll"
};

/* One run's settings: the long run (make chaos) or the short one (CI). */
struct ch_params {
	const char *from, *to;    /* backtest range, YYYY-MM-DD */
	int         nsym;         /* symbols in the generated store */
	int         speed;        /* replay pace, times real time */
	int         ring;         /* ring capacity, slots */
	int         kills_min;    /* the run fails with fewer kills */
	int         aim_pct;      /* coordinator kills aimed at a burst, % */
	int         kill_gap_ms[2];  /* between two kills, uniform */
	int         run_ms[2];       /* the stopped reader running, uniform */
	int         stop_ms[2];      /* ... and stopped, uniform */
	unsigned    watchdog_s;
};

/* Everything the driver and its threads share: one visible global. */
static struct {
	struct ch_params p;
	const char      *bus;
	char             dir[64], bin[PATH_MAX];
	int              history;   /* sessions in the range - 1: all kept */
	int              writer_nice; /* CH_WRITER_NICE, or 0 when not allowed */
	pid_t            reader[CH_NREADERS];
	_Atomic int      finished;  /* the replay is over: threads stop */
} g;

/* What a reader saw: a record (rc 0), a lap (BB_ELAPPED) or an error. */
struct ch_rec {
	bb_bar   bar;
	uint64_t seq;    /* bb_ring_reader_seq() before the call */
	uint64_t lost;   /* BB_ELAPPED: records lost */
	uint64_t epoch;  /* bb_ring_epoch() after the call */
	int32_t  rc;
	uint32_t pad;
};

struct ch_snap {
	int32_t  back, date;  /* 0: the current session */
	uint32_t sym, interval, n;
	int32_t  rc;
};

struct ch_sum {
	uint64_t start, end;  /* reader positions at open and at the end */
	int32_t  snap_rc;     /* bb_bus_open()/bb_upkeep_open() at the end */
	uint32_t pad;
};

static void ch_path(char *buf, size_t len, int reader, const char *ext)
{
	snprintf(buf, len, "%s/r%d.%s", g.dir, reader, ext);
}

#endif /* BB_CHAOS_H */
