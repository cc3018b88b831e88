/*
 * config.h: barbus-coordinator's settings, from section [coordinator] of
 * --config FILE and from flags (flags win). docs/configuration.md lists
 * every key; the table in config.c is the one source of truth.
 */
#ifndef CO_CONFIG_H
#define CO_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "barbus.h"

enum co_speed {
	CO_SPEED_MAX = 0,      /* as fast as the bus takes it */
	CO_SPEED_REALTIME = 1, /* session time = wall time (factor 1.0) */
	CO_SPEED_FACTOR = 2,   /* "Nx": session time runs N x wall time */
};

enum co_clock {
	CO_CLOCK_WALL = 0, /* live: wall time completes minutes */
	CO_CLOCK_FEED = 1, /* live: bar times drive the clock */
};

struct co_config {
	enum bb_mode mode;           /* BB_MODE_BACKTEST or BB_MODE_LIVE */
	char config_path[PATH_MAX];  /* --config FILE; "" when none */

	/* both modes */
	char     bus[BB_NAME_MAX + 1];
	char     db[PATH_MAX];       /* bar store directory */
	char     calendar[PATH_MAX]; /* built-in name or calendar file */
	uint32_t history_days;       /* trailing sessions loaded as history */
	uint32_t upkeep_wait_ms;     /* bound on the wait for the upkeep at a
	                                session boundary */
	uint64_t ring_capacity;      /* ring slots, a power of two */
	uint32_t max_symbols;        /* symbol directory capacity */
	uint32_t heartbeat_ms;
	mode_t   segment_mode;       /* permission bits of created segments */
	gid_t    segment_group;      /* 0: leave the group as created */
	int      log_level;          /* enum bb__log_level (log.h) */

	/* backtest */
	int32_t  from, to;           /* YYYYMMDD, inclusive; from <= to */
	char   **symbols;            /* owned; nsymbols == 0: every symbol */
	size_t   nsymbols;
	enum co_speed speed;
	double   speed_factor;       /* FACTOR: N; REALTIME: 1.0; MAX: 0 */

	/* live */
	char     feed[PATH_MAX];     /* file or FIFO path; "-": stdin */
	enum co_clock clock;
	uint32_t no_data_timeout_s;  /* this long without data: a stall;
	                                at the feed's end, the end */
	uint32_t grace_ms;           /* wall clock: a minute is complete this
	                                long after its end */
	int64_t  clock_start;        /* tests: wall clock from this UTC
	                                second (0: the real clock) ... */
	uint32_t clock_rate;         /* ... running this many times faster */
	int64_t  clock_epoch_ms;     /* ... from this real UTC ms (0: start) */
};

/*
 * Fill c from argv (argv[0] is the program): defaults, then the config file
 * named by --config, then the flags. Returns 0; 1 after printing the usage
 * to stdout for --help (c holds nothing to free); BB_EINVAL with a message
 * naming the bad flag, key or value in err (c holds nothing to free); or
 * ENOMEM. On 0, free c with co_config_free().
 */
int  co_config_parse(struct co_config *c, int argc, char **argv,
                     char *err, size_t errlen);
/* Free what c owns (the symbol list); safe on a zeroed or freed c. */
void co_config_free(struct co_config *c);
/* The usage line and every setting with its doc and default. */
void co_config_usage(FILE *out);

#endif /* CO_CONFIG_H */
