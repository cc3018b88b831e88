/*
 * rate.h: the stopped reader (SIGSTOP and SIGCONT in turn, from a thread
 * of the driver), the writer's publish rate sampled every 10 ms (another
 * thread), and the comparison of the rate with the reader stopped and
 * running. Included by chaos.c only (see chaos.h).
 */
#ifndef BB_CHAOS_RATE_H
#define BB_CHAOS_RATE_H

#include <math.h>

#include "driver.h"

/* ---- the stopped reader and the rate samples ---------------------------- */

/* Sleep ns, or less once the run is finished; 1 when it is. */
static int nap(int64_t ns)
{
	for (int64_t end = stress_now_ns() + ns; stress_now_ns() < end;) {
		if (atomic_load(&g.finished))
			return 1;
		stress_sleep_ns(5000000);
	}
	return atomic_load(&g.finished);
}

static void *stopper(void *arg)
{
	struct run *r = arg;
	uint64_t rng = r->rng ^ 0x5eed;
	pid_t pid = g.reader[CH_STOPPED];

	for (int n = 0; n < MAX_STOPS; n++) {
		struct stop_ev *e = &r->stop[n];
		e->run_from = stress_now_ns();
		if (nap((int64_t)stress_rand_in(&rng, (uint64_t)g.p.run_ms[0],
		                               (uint64_t)g.p.run_ms[1]) * 1000000))
			break;
		e->stop_at = stress_now_ns();
		kill(pid, SIGSTOP);
		nap((int64_t)stress_rand_in(&rng, (uint64_t)g.p.stop_ms[0],
		                            (uint64_t)g.p.stop_ms[1]) * 1000000);
		kill(pid, SIGCONT);
		e->cont_at = stress_now_ns();
		atomic_store(&r->nstop, n + 1);
	}
	return NULL;
}

static void *sampler(void *arg)
{
	struct run *r = arg;
	bb_bus *b;
	bb_ring_reader *rr;
	bb_status st;

	if (bb_bus_open(&b, g.bus) != 0 ||
	    bb_ring_reader_open(&rr, g.bus, BB_WAIT_YIELD, 0) != 0)
		return NULL;
	for (int n = 1; n < MAX_SAMPLES && !atomic_load(&g.finished);) {
		if (bb_bus_status(b, &st) == 0) {
			r->smp[n] = (struct sample){ stress_now_ns(),
				bb_bus_counter(b, BB_CTR_BARS) +
				bb_bus_counter(b, BB_CTR_MINUTES),
				bb_ring_epoch(rr), st.sessions, st.state };
			atomic_store(&r->nsmp, ++n);
		}
		stress_sleep_ns(SAMPLE_NS);
	}
	bb_ring_reader_close(rr);
	bb_bus_close(b);
	return NULL;
}

/* Records published in [a, b] (seconds into *secs); 0 when the samples
 * do not show one stretch of an open session of one writer, at least
 * 0.5 s long. */
static double piece_recs(const struct run *r, int64_t a, int64_t b,
                         double *secs)
{
	int n = atomic_load(&r->nsmp), i = 1, j;

	while (i < n && r->smp[i].t < a)
		i++;
	for (j = i; j + 1 < n && r->smp[j + 1].t <= b; j++)
		;
	if (i >= n || j <= i || r->smp[j].t - r->smp[i].t < SAMPLE_NS * 50)
		return 0;
	const struct sample *s0 = &r->smp[i], *s1 = &r->smp[j];
	if (s0->epoch != s1->epoch || s0->session != s1->session ||
	    s0->state != BB_STATE_OPEN || s1->state != BB_STATE_OPEN)
		return 0;
	*secs = (double)(s1->t - s0->t) / 1e9;
	return (double)(s1->recs - s0->recs);
}

/* The clean pieces of [a, b] (cut around coordinator kills: from 50 ms
 * before each to SETTLE_NS after it) into rec[0] records over rec[1]
 * seconds; returns how many pieces there were. */
static int window(const struct run *r, int64_t a, int64_t b, double *rec)
{
	int64_t from = a;
	double secs = 0, n;
	int pieces = 0;

	rec[0] = rec[1] = 0;
	for (int k = 0; k <= r->nkill && from < b; k++) {
		int64_t t = k < r->nkill ? r->kill[k].t_kill : INT64_MAX;
		if (k < r->nkill && (r->kill[k].proc != P_CO || t + SETTLE_NS <= a))
			continue;
		int64_t to = t - 50000000 < b ? t - 50000000 : b;
		if (to > from && (n = piece_recs(r, from, to, &secs)) > 0) {
			rec[0] += n, rec[1] += secs, pieces++;
		}
		if (t < INT64_MAX && t + SETTLE_NS > from)
			from = t + SETTLE_NS;
	}
	return pieces;
}

/* Pooled rates of the clean pieces with the reader running and stopped. */
static void check_rate(const struct run *r)
{
	double tot[2][2] = { { 0, 0 }, { 0, 0 } }, w[2][2], lo = 1e9;
	int clean[2] = { 0, 0 }, n = atomic_load(&r->nstop);

	for (int k = 0; k < n; k++) {
		const struct stop_ev *e = &r->stop[k];
		clean[0] += window(r, e->run_from, e->stop_at, w[0]);
		clean[1] += window(r, e->stop_at, e->cont_at, w[1]);
		for (int i = 0; i < 2; i++)
			tot[i][0] += w[i][0], tot[i][1] += w[i][1];
		if (w[0][1] > 0 && w[1][1] > 0 &&
		    (w[1][0] / w[1][1]) / (w[0][0] / w[0][1]) < lo)
			lo = (w[1][0] / w[1][1]) / (w[0][0] / w[0][1]);
	}
	double rate_run = tot[0][1] > 0 ? tot[0][0] / tot[0][1] : 0;
	double rate_stop = tot[1][1] > 0 ? tot[1][0] / tot[1][1] : 0;
	INFO("writer rate: %.0f records/s in %d clean pieces with the reader "
	     "running (%.1f s), %.0f in %d with it stopped (%.1f s); lowest "
	     "ratio of a stop to the run before it %.3f", rate_run, clean[0],
	     tot[0][1], rate_stop, clean[1], tot[1][1], lo < 1e9 ? lo : NAN);
	CHECK(clean[0] >= 3 && clean[1] >= 3, "at least 3 clean pieces of each "
	      "kind to measure the rate (%d running, %d stopped, of %d stops)",
	      clean[0], clean[1], n);
	CHECK(rate_stop >= (1 - CH_RATE_DROP) * rate_run, "the writer's rate "
	      "with the reader stopped is %.1f%% of its rate with it running "
	      "(at least %.0f%%)", rate_run > 0 ? 100 * rate_stop / rate_run : 0,
	      100 * (1 - CH_RATE_DROP));
}

#endif /* BB_CHAOS_RATE_H */
