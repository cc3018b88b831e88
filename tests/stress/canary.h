/*
 * canary.h: when the machine itself stopped running anything.
 *
 * On the virtual machines this runs on, the host now and then holds a
 * vCPU for about 100 ms (a real-time thread that sleeps 1 ms wakes 100 ms
 * late, a few times a minute, with nothing else running). A restart whose
 * window falls on such a stop takes 100 ms more than the bus made it take,
 * and its process even seems to be "on a CPU" for that time: the guest
 * cannot tell a held vCPU from a running one.
 *
 * So one thread per CPU, pinned to it and at SCHED_FIFO (the highest class
 * an ordinary program has: nothing of the bus or the test can keep it from
 * running), sleeps 1 ms at a time and notes every wake-up later than
 * CANARY_LATE_NS: for that long its CPU ran nothing at all. A time bound of
 * a test is then judged on the time taken less the longest stop one CPU
 * had within its window (chaos: each restart, saying each one so excused).
 * Without the right to SCHED_FIFO (not root, no CAP_SYS_NICE) a late
 * wake-up could be the scheduler's doing, so nothing is excused.
 *
 * For the stress programs (include after stress.h). Start the canaries
 * after the last fork() of a child that does not exec; stop them before
 * their notes are read (canaries_stop() joins the threads).
 */
#ifndef BB_STRESS_CANARY_H
#define BB_STRESS_CANARY_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define CANARY_CPUS    8
#define CANARY_STOPS   4096
#define CANARY_TICK_NS 1000000LL /* the sleep */
#define CANARY_LATE_NS 5000000LL /* later than this: the CPU was stopped */

struct cn_stop {
	int64_t from, to; /* when the canary should have woken, when it did */
};

struct canary {
	_Atomic int   *quit;  /* the set's: 1 to end */
	int            cpu;
	int            fifo;  /* it ran at SCHED_FIFO */
	int            n;
	pthread_t      th;
	struct cn_stop stop[CANARY_STOPS];
};

struct canaries {
	int           n;
	_Atomic int   quit;
	struct canary c[CANARY_CPUS];
};

static void *canary_main(void *arg)
{
	struct canary *c = arg;
	cpu_set_t one;
	struct sched_param sp = { .sched_priority = 1 };

	CPU_ZERO(&one);
	CPU_SET(c->cpu, &one);
	c->fifo = pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0
	          && pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
	while (!atomic_load(c->quit)) {
		int64_t due = stress_now_ns() + CANARY_TICK_NS;
		stress_sleep_ns(CANARY_TICK_NS);
		int64_t now = stress_now_ns();
		if (now - due > CANARY_LATE_NS && c->n < CANARY_STOPS)
			c->stop[c->n++] = (struct cn_stop){ due, now };
	}
	return NULL;
}

/* A canary on each CPU this program may run on (up to CANARY_CPUS). */
static void canaries_start(struct canaries *cs)
{
	cpu_set_t mine;

	cs->n = 0;
	atomic_store(&cs->quit, 0);
	if (sched_getaffinity(0, sizeof(mine), &mine) != 0)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && cs->n < CANARY_CPUS; cpu++) {
		struct canary *c = &cs->c[cs->n];
		if (!CPU_ISSET(cpu, &mine))
			continue;
		c->quit = &cs->quit;
		c->cpu = cpu;
		c->n = 0;
		if (pthread_create(&c->th, NULL, canary_main, c) == 0)
			cs->n++;
	}
}

/* The canaries end; what they saw is said. */
static void canaries_stop(struct canaries *cs)
{
	int fifo = cs->n > 0, stops = 0;
	int64_t longest = 0, all = 0;

	atomic_store(&cs->quit, 1);
	for (int i = 0; i < cs->n; i++) {
		pthread_join(cs->c[i].th, NULL);
		fifo &= cs->c[i].fifo;
		for (int k = 0; k < cs->c[i].n; k++) {
			int64_t d = cs->c[i].stop[k].to - cs->c[i].stop[k].from;
			longest = d > longest ? d : longest;
			all += d;
			stops++;
		}
	}
	INFO("canaries on %d CPUs (%s): %d stops of a CPU longer than %lld ms, "
	     "the longest %.1f ms, %.1f ms in all", cs->n, fifo ? "SCHED_FIFO"
	     : "not SCHED_FIFO: no restart is excused", stops,
	     CANARY_LATE_NS / 1000000, (double)longest / 1e6, (double)all / 1e6);
	if (!fifo)
		cs->n = 0; /* their late wake-ups prove nothing */
}

/* The longest time one CPU was stopped within [a, b] (ns), its CPU in
 * *cpu (-1 when none). */
static int64_t canaries_stopped(const struct canaries *cs, int64_t a,
                                int64_t b, int *cpu)
{
	int64_t most = 0;

	*cpu = -1;
	for (int i = 0; i < cs->n; i++) {
		int64_t sum = 0;
		for (int k = 0; k < cs->c[i].n; k++) {
			const struct cn_stop *s = &cs->c[i].stop[k];
			int64_t from = s->from > a ? s->from : a;
			int64_t to = s->to < b ? s->to : b;
			sum += to > from ? to - from : 0;
		}
		if (sum > most) {
			most = sum;
			*cpu = cs->c[i].cpu;
		}
	}
	return most;
}

#endif /* BB_STRESS_CANARY_H */
