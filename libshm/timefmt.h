/*
 * timefmt.h: internals of timefmt.c shared with the CSV parser (csv.c):
 * timestamps as real sources write them (docs/store.md, "Timestamps").
 */
#ifndef BB_TIMEFMT_H
#define BB_TIMEFMT_H

#include <stdint.h>

#include "barbus.h"

/* The unit of an epoch number; AUTO recognises it from its magnitude. */
enum bb__time_unit {
	BB__TIME_AUTO, BB__TIME_S, BB__TIME_MS, BB__TIME_US, BB__TIME_NS,
};

/* Why bb__time_parse_unit() refused a timestamp. */
enum bb__time_why {
	BB__TIME_SYNTAX = 1, /* not a timestamp */
	BB__TIME_FRACTION,   /* a non-zero fraction of a second */
};

/*
 * One timestamp s (NUL-terminated) into *t, seconds since the epoch, UTC:
 * ISO-8601 "YYYY-MM-DD(T| )HH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)"
 * (1 to 9 fraction digits, all zeros), or an integer epoch count in unit.
 * With BB__TIME_AUTO a number whose absolute value is below 10^11 is
 * seconds, below 10^14 milliseconds, below 10^17 microseconds, else
 * nanoseconds (each unit is recognised from 1973-03-03 to 5138-11-16).
 * 0, or BB_EINVAL with *why (enum bb__time_why); *t untouched then.
 */
int bb__time_parse_unit(const char *s, int unit, int64_t *t, int *why);

/* "auto", "s", "ms", "us", "ns" into *unit; 0 or BB_EINVAL. */
int bb__time_unit_parse(const char *name, int *unit);

/* Years the store and the text formats hold: [1970-01-01, 10000-01-01). */
#define BB__TIME_MIN 0
#define BB__TIME_END INT64_C(253402300800)

#endif /* BB_TIMEFMT_H */
