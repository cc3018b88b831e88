/*
 * clock.h: the tree's one monotonic clock (internal, not in barbus.h).
 *
 * Heartbeats, deadlines, timeouts and rates all read CLOCK_MONOTONIC through
 * here, so every process of a bus compares times on the same clock.
 */
#ifndef BB_CLOCK_H
#define BB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bb__mono_ns(void);

/* The same clock in seconds, for progress lines and rates. */
static inline double bb__mono_s(void)
{
	return (double)bb__mono_ns() * 1e-9;
}

/* CLOCK_REALTIME in nanoseconds: for stamps that outlive the processes
 * (when a segment was made), never for intervals. */
int64_t bb__real_ns(void);

/* The same monotonic clock in milliseconds, for deadlines and backoffs. */
static inline int64_t bb__mono_ms(void)
{
	return bb__mono_ns() / 1000000;
}

#endif /* BB_CLOCK_H */
