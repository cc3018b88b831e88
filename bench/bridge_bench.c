/*
 * bridge_bench: barbus-bridge over a nats-server -js of its own (a free
 * 127.0.0.1 port, a temporary store, stopped at exit).
 *
 * bridge.rate: bars/s from bus A to a reader on bus B, a full-speed
 *   backtest of 500 symbols over 5 sessions (885 000 bars): `publish
 *   --exit-at-done` on A and `mirror --exit-at-done` into B are started
 *   first and left to connect, then the coordinator; the clock runs from
 *   the coordinator's start to the last record a ring reader on B gets
 *   (the mirror gone after DONE): the making of buses A and B (stores to
 *   every page of their segments, about 0.1 and 0.3 s here) and the
 *   coordinator's start-up are inside. B must then hold exactly A's bars
 *   (barbus-bars --history of both, byte for byte: the sessions the buses
 *   keep), else no figure.
 * bridge.reader.rate: the same bars over the time from the first record
 *   the reader on B gets to its last, as the other rates of make bench
 *   (informative: B is made after A's backtest has begun, so the mirror
 *   starts with frames waiting in the stream).
 * nats.floor.rate: the floor in the same run: the same number of messages
 *   of the same size (one MINUTE frame: 32 + 52 x 500 bytes) published to
 *   a JetStream stream by a minimal libnats program (js_PublishAsync) and
 *   fetched back (pull consumer), as bars/s.
 * nats.floor.p50: µs from js_PublishAsync of one such frame to its arrival
 *   through a JetStream push consumer (published and consumed through
 *   JetStream, as the issue defines the floor), 200 frames one after the
 *   other. nats.floor.core.p50: js_Publish (stored, acknowledged) until
 *   the frame arrives on a plain subscription (core NATS, no consumer):
 *   the figure the target used to be read against.
 *
 * bridge.publish.rate, bridge.mirror.rate: a finished backtest of the
 *   first 3 sessions on bus A3, published alone, then mirrored alone into
 *   B3 (each process from its start to its exit, start-up included):
 *   which side limits bridge.rate.
 * bridge.p50, bridge.p99: µs from a minute's MINUTE_END on A's ring (its
 *   bars published on A) to the same minute's MINUTE_END on B's ring (its
 *   bars all there), a backtest of one session (210 minutes) paced at
 *   2000x (30 ms a minute), publish and mirror following it; the minutes
 *   published before the mirror had made B are left out of them.
 * bridge.first.ms: the first minute's, the making of B included.
 *
 * bridge.cores, nats.floor.cores: the cores the machine kept busy (from
 *   /proc/stat) during the bridge.rate run (until bus B's writer was gone)
 *   and during the floor's; bridge.cpu, nats.floor.cpu: CPU ns a bar over
 *   every process, nats-server's included; bridge.cpu.allowed: what a bar
 *   may cost for 0.8 of the floor's rate with every core busy.
 *
 * Targets: bridge.rate >= 0.8 x nats.floor.rate and >= 1M bars/s;
 * bridge.p50 <= nats.floor.p50 + 50 µs.
 */
#include <nats/nats.h>

#include "bench.h"
#include "fixture.h"
#include "../tests/stress/loopback.h"

#define NSYM     500
#define FROM     "2024-07-01"
#define TO       "2024-07-08" /* 5 sessions: 07-03 closes early, 07-04 none */
#define TO_DATE  20240708
#define TO_SIDES "2024-07-03" /* the 3 sessions of the sides */
#define FRAME    (32 + 52 * NSYM)
#define LAT_N    200
#define LAT_MAX  1024 /* minutes noted by a watcher */
#define LAT_MIN  150  /* minutes matched for a figure (07-03 has 210) */
#define LAT_SPEED "2000x" /* 30 ms a minute */

/* What a watcher saw: the clock (ns) at each MINUTE_END of its ring. */
struct seen {
	_Atomic uint64_t n;
	_Atomic int64_t  opened_ns; /* when the watcher found the bus */
	struct { int64_t t, ns; } at[LAT_MAX];
};

static pid_t natsd;
static struct seen *seen_a, *seen_b;

/* What the rate's reader on B saw: records, and the clock at the first
 * and at the last. */
struct got {
	_Atomic uint64_t n;
	_Atomic int64_t  first_ns, last_ns;
	struct fix_cpu   end; /* the machine's CPU time at the end (reaped) */
};
static struct got *got_b;
static char bus_a[64], bus_b[64], bus_a2[64], bus_b2[64], bus_b3[64], bus_a3[64], url[64];


static void stop_all(void)
{
	if (getpid() != g_bench.owner)
		return;
	if (natsd > 0) {
		kill(natsd, SIGKILL);
		waitpid(natsd, NULL, 0);
		natsd = 0;
	}
	if (bus_a[0])
		bb_bus_remove(bus_a, BB_REMOVE_FORCE, NULL);
	if (bus_b[0])
		bb_bus_remove(bus_b, BB_REMOVE_FORCE, NULL);
	if (bus_a2[0])
		bb_bus_remove(bus_a2, BB_REMOVE_FORCE, NULL);
	if (bus_b2[0])
		bb_bus_remove(bus_b2, BB_REMOVE_FORCE, NULL);
	if (bus_b3[0])
		bb_bus_remove(bus_b3, BB_REMOVE_FORCE, NULL);
	if (bus_a3[0])
		bb_bus_remove(bus_a3, BB_REMOVE_FORCE, NULL);
	if (fix_dir[0])
		fix_cleanup();
}

/* nats-server -js on a free port, its store and log in fix_dir. */
static void start_natsd(void)
{
	char port[16], store[PATH_MAX], log[PATH_MAX];
	int p = lo_free_port();

	if (p < 0)
		bench_fail("no free port: %s", strerror(errno));
	snprintf(port, sizeof(port), "%d", p);
	snprintf(store, sizeof(store), "%s/js", fix_dir);
	snprintf(log, sizeof(log), "%s/nats.log", fix_dir);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", p);
	fflush(stdout);
	natsd = fork();
	if (natsd == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1",
		       "-p", port, "-sd", store, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !lo_listening(p); i++)
		bench_sleep_ns(10000000);
	if (!lo_listening(p))
		bench_fail("nats-server on port %d did not start (log %s)", p, log);
}

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Lines of barbus-bars --history of bus a (= bars), or -1 when bus b's
 * differ (b NULL: a's alone). */
static long same_bars(const char *a, const char *b)
{
	long n = -1;

	if (sh("%s/barbus-bars --bus %s --history > %s/a", fix_bin, a,
	       fix_dir) != 0)
		return -1;
	if (b != NULL &&
	    sh("%s/barbus-bars --bus %s --history > %s/b && cmp -s %s/a %s/b",
	       fix_bin, b, fix_dir, fix_dir, fix_dir) != 0)
		return -1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/a", fix_dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = -1; /* the header line */
	for (int c; (c = getc(f)) != EOF;)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The first 3 sessions on bus_a3, published, then mirrored into bus_b3,
 * one after the other: each side's bars/s (process start to exit) in
 * side[0], side[1]. */
static int bridge_sides(double side[2])
{
	char stream[96];

	snprintf(stream, sizeof(stream), "barbus-%s", bus_a3);
	pid_t c = fix_spawn("coordinator", "--bus", bus_a3, "--db", fix_dir,
	                    "backtest", "--from", FROM, "--to", TO_SIDES,
	                    "--history-days", "2", (char *)NULL);
	if (fix_wait(c, "backtest on A3", NULL) != 0)
		return -1;
	long bars = same_bars(bus_a3, NULL);
	int64_t t0 = bb__mono_ns();
	pid_t p = fix_spawn("bridge", "publish", "--bus", bus_a3, "--nats", url,
	                    "--exit-at-done", (char *)NULL);
	if (fix_wait(p, "publish alone", NULL) != 0)
		return -1;
	int64_t t1 = bb__mono_ns();
	pid_t m = fix_spawn("bridge", "mirror", "--bus", bus_b3, "--nats", url,
	                    "--stream", stream, "--exit-at-done", (char *)NULL);
	if (fix_wait(m, "mirror alone", NULL) != 0)
		return -1;
	int64_t t2 = bb__mono_ns();
	if (bars <= 0)
		return -1;
	side[0] = (double)bars / ((double)(t1 - t0) / 1e9);
	side[1] = (double)bars / ((double)(t2 - t1) / 1e9);
	return 0;
}

/* Child: read bus_b's ring (waiting for it to appear) until its writer is
 * gone after a record was read; the clock at each record into got_b. */
static int reader_b(void *arg, int cpu)
{
	struct got *g = arg;
	bb_ring_reader *r = NULL;
	int64_t deadline = bb__mono_ns() + 120LL * 1000000000;
	bb_bar ev;

	(void)cpu;
	if ((r = fix_ring_open(bus_b, BB_WAIT_BLOCK, 0, 1000000)) == NULL)
		bench_child_fail("bus %s did not appear", bus_b);
	while (bb__mono_ns() < deadline) {
		int rc = bb_ring_wait(r, &ev, NULL, 100000000);
		if (rc == 0) {
			int64_t now = bb__mono_ns();
			if (g->n == 0)
				atomic_store_explicit(&g->first_ns, now,
				                      memory_order_relaxed);
			atomic_store_explicit(&g->last_ns, now,
			                      memory_order_relaxed);
			/* release: pairs with the parent's acquire after reaping */
			atomic_fetch_add_explicit(&g->n, 1, memory_order_release);
		} else if (rc == BB_ENOWRITER && g->n > 0) {
			fix_cpu_read(&g->end);
			break;
		} else if (rc == BB_ENOWRITER) {
			bench_sleep_ns(1000000);
		} else if (rc != BB_ETIMEDOUT) {
			bench_child_fail("bus %s: %s", bus_b, bb_strerror(rc));
		}
	}
	bb_ring_reader_close(r);
	return 0;
}

/* bridge.rate: the stored bars carried from A to a reader on B per
 * second, from the coordinator's start; *reader: from the first record on
 * B instead; *cores: busy meanwhile (until B's writer was gone). 0 on
 * failure. */
static double bridge_rate(long stored, double *reader, double *cores)
{
	struct fix_cpu c0;
	char stream[96];

	snprintf(stream, sizeof(stream), "barbus-%s", bus_a);
	pid_t w = bench_spawn(-1, reader_b, got_b, 0);
	pid_t p = fix_spawn("bridge", "publish", "--bus", bus_a, "--nats", url,
	                    "--exit-at-done", (char *)NULL);
	pid_t m = fix_spawn("bridge", "mirror", "--bus", bus_b, "--nats", url,
	                    "--stream", stream, "--exit-at-done", (char *)NULL);
	/* Both connected, the stream made, the publisher polling for A
	 * (every 10 ms) and the mirror for the stream's HELLO. */
	bench_sleep_ns(1000000000);
	int64_t t0 = bb__mono_ns();
	fix_cpu_read(&c0);
	pid_t c = fix_spawn("coordinator", "--bus", bus_a, "--db", fix_dir,
	                    "backtest", "--from", FROM, "--to", TO,
	                    "--history-days", "2", (char *)NULL);
	int bad = fix_wait(c, "backtest on A", NULL) != 0;
	bad |= fix_wait(p, "publish", NULL) != 0;
	bad |= fix_wait(m, "mirror", NULL) != 0;
	if (bench_reap(&w, 1, 60) != 0) {
		fix_fail("the reader of bus B failed");
		return 0;
	}
	if (bad)
		return 0;
	long held = same_bars(bus_a, bus_b);
	if (held <= 0) {
		fix_fail("bus B does not hold bus A's bars");
		return 0;
	}
	/* acquire: pairs with the reader's release */
	uint64_t n = atomic_load_explicit(&got_b->n, memory_order_acquire);
	int64_t t1 = atomic_load_explicit(&got_b->last_ns, memory_order_relaxed);
	int64_t tb = atomic_load_explicit(&got_b->first_ns, memory_order_relaxed);
	if (n < 2 || t1 <= tb || tb <= t0) {
		fix_fail("the reader of bus B got nothing");
		return 0;
	}
	if ((*cores = fix_cores(&c0, &got_b->end)) <= 0) {
		fix_fail("no CPU time read from /proc/stat");
		return 0;
	}
	*reader = (double)stored / ((double)(t1 - tb) / 1e9);
	return (double)stored / ((double)(t1 - t0) / 1e9);
}


/* Child: follow bus's ring (waiting for it to appear) and note the clock
 * at each MINUTE_END, until the writer is gone after a minute was seen. */
static int watch(void *arg, int cpu)
{
	struct seen *sn = arg;
	const char *bus = sn == seen_a ? bus_a2 : bus_b2;
	bb_ring_reader *r = NULL;
	int64_t deadline = bb__mono_ns() + 60LL * 1000000000;
	bb_bar ev;

	(void)cpu;
	if ((r = fix_ring_open(bus, BB_WAIT_BLOCK, 0, 1000000)) == NULL)
		bench_child_fail("bus %s did not appear", bus);
	/* release: pairs with the parent's acquire after reaping */
	atomic_store_explicit(&sn->opened_ns, bb__mono_ns(), memory_order_release);
	while (bb__mono_ns() < deadline) {
		int rc = bb_ring_wait(r, &ev, NULL, 100000000);
		if (rc == 0 && BB_KIND(ev.flags) == BB_KIND_MINUTE_END) {
			uint64_t i = atomic_load_explicit(&sn->n, memory_order_relaxed);
			if (i < LAT_MAX) {
				sn->at[i].t = ev.time;
				sn->at[i].ns = bb__mono_ns();
				/* release: pairs with the parent's acquire after reaping */
				atomic_store_explicit(&sn->n, i + 1, memory_order_release);
			}
		} else if (rc == BB_ENOWRITER && sn->n > 0) {
			break;
		} else if (rc == BB_ENOWRITER) {
			bench_sleep_ns(1000000);
		} else if (rc != 0 && rc != BB_ETIMEDOUT) {
			bench_child_fail("bus %s: %s", bus, bb_strerror(rc));
		}
	}
	bb_ring_reader_close(r);
	return 0;
}

/* bridge.p50/p99 (µs): a paced backtest on A2 published and mirrored to
 * B2; each minute from its MINUTE_END on A2's ring to the same minute's
 * on B2's, for the minutes published on A2 once B2 was there (the mirror
 * makes B2 at the stream's first HELLO, storing to each of its pages:
 * minutes of A2 published meanwhile wait for that, once). *first_ms: the
 * first minute's, B2's making included. 0 on failure. */
static int bridge_latency(double *p50, double *p99, double *first_ms)
{
	char stream[96];
	static uint64_t d[LAT_MAX];
	size_t n = 0;

	snprintf(stream, sizeof(stream), "barbus-%s", bus_a2);
	pid_t w[2] = { bench_spawn(-1, watch, seen_a, 0),
	               bench_spawn(-1, watch, seen_b, 0) };
	pid_t p = fix_spawn("bridge", "publish", "--bus", bus_a2, "--nats", url,
	                    "--exit-at-done", (char *)NULL);
	pid_t m = fix_spawn("bridge", "mirror", "--bus", bus_b2, "--nats", url,
	                    "--stream", stream, "--exit-at-done", (char *)NULL);
	pid_t c = fix_spawn("coordinator", "--bus", bus_a2, "--db", fix_dir,
	                    "backtest", "--from", "2024-07-03", "--to",
	                    "2024-07-03", "--speed", LAT_SPEED, (char *)NULL);
	int bad = fix_wait(c, "paced backtest on A2", NULL) != 0;
	bad |= fix_wait(p, "paced publish", NULL) != 0;
	bad |= fix_wait(m, "paced mirror", NULL) != 0;
	if (bench_reap(w, 2, 60) != 0) {
		fix_fail("a ring watcher failed");
		return -1;
	}
	if (bad)
		return -1;
	/* acquire: pairs with the watchers' release */
	uint64_t na = atomic_load_explicit(&seen_a->n, memory_order_acquire);
	uint64_t nb = atomic_load_explicit(&seen_b->n, memory_order_acquire);
	int64_t b_at = atomic_load_explicit(&seen_b->opened_ns,
	                                    memory_order_acquire);
	size_t early = 0;
	*first_ms = -1;
	for (uint64_t i = 0; i < nb; i++)
		for (uint64_t j = 0; j < na; j++)
			if (seen_a->at[j].t == seen_b->at[i].t &&
			    seen_b->at[i].ns >= seen_a->at[j].ns) {
				int64_t dt = seen_b->at[i].ns - seen_a->at[j].ns;
				if (*first_ms < 0)
					*first_ms = (double)dt / 1e6;
				if (seen_a->at[j].ns < b_at)
					early++;
				else
					d[n++] = (uint64_t)dt;
				break;
			}
	printf("bridge latency: %zu minutes timed, %zu published before bus B "
	       "was made (first: %.1f ms)\n", n, early, *first_ms);
	if (n < LAT_MIN) {
		fix_fail("latency: %zu minutes matched (%llu on A2, %llu on B2)",
		         n, (unsigned long long)na, (unsigned long long)nb);
		return -1;
	}
	bench_sort(d, n);
	*p50 = (double)bench_pct(d, n, 0.5) / 1e3;
	*p99 = (double)bench_pct(d, n, 0.99) / 1e3;
	return 0;
}

static int js_fail(const char *what, natsStatus s, jsErrCode jerr)
{
	fix_fail("floor: %s: %s (%s, JetStream error %d)", what,
	         natsStatus_GetText(s), nats_GetLastError(NULL), (int)jerr);
	return -1;
}

/* The floor: nframes frames of FRAME bytes published (async) and fetched
 * back; *rate in bars/s (NSYM bars a frame); *p50 in µs through a
 * JetStream consumer, *core_p50 to a plain subscriber. */
static int floor_run(long nframes, double *rate, double *cores,
                     double *p50, double *core_p50)
{
	struct fix_cpu c0, c1;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	natsSubscription *sub = NULL;
	const char *subjects[] = { "floor.frames" };
	char *buf = calloc(1, FRAME);
	natsOptions *no = NULL;
	int rc = -1;
	/* Sent at once, as the bridge's connections: libnats's flusher
	 * would otherwise hold an asynchronous publish about a millisecond. */
	natsStatus s = natsOptions_Create(&no);

	if (s == NATS_OK)
		s = natsOptions_SetURL(no, url);
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(no, true);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, no);
	natsOptions_Destroy(no);

	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	jsStreamConfig_Init(&sc);
	sc.Name = "floor";
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	if (s == NATS_OK)
		s = js_AddStream(&si, js, &sc, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK || buf == NULL) {
		js_fail("stream", s, jerr);
		goto out;
	}
	int64_t t0 = bb__mono_ns();
	fix_cpu_read(&c0);
	for (long i = 0; i < nframes && s == NATS_OK; i++) {
		memcpy(buf + 24, &i, sizeof(i)); /* a frame's position */
		s = js_PublishAsync(js, "floor.frames", buf, FRAME, NULL);
	}
	if (s == NATS_OK)
		s = js_PublishAsyncComplete(js, NULL);
	/* Acknowledge-all, as the mirror: acknowledging a batch's last
	 * message then acknowledges the batch (with the default explicit
	 * policy the rest would stay pending, and the consumer stops at 1000
	 * pending until their ack wait). */
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Config.AckPolicy = js_AckAll;
	if (s == NATS_OK)
		s = js_PullSubscribe(&sub, js, "floor.frames", "floor", NULL,
		                     &so, &jerr);
	if (s != NATS_OK) {
		js_fail("publish", s, jerr);
		goto out;
	}
	long got = 0;
	while (got < nframes) {
		natsMsgList list = { 0 };
		s = natsSubscription_Fetch(&list, sub, 256, 5000, &jerr);
		if (s != NATS_OK) {
			js_fail("fetch", s, jerr);
			goto out;
		}
		for (int i = 0; i < list.Count; i++)
			got += natsMsg_GetDataLength(list.Msgs[i]) == FRAME;
		if (list.Count > 0)
			natsMsg_Ack(list.Msgs[list.Count - 1], NULL);
		natsMsgList_Destroy(&list);
	}
	int64_t dt = bb__mono_ns() - t0;
	fix_cpu_read(&c1);
	*rate = (double)got * NSYM / ((double)dt / 1e9);
	if ((*cores = fix_cores(&c0, &c1)) <= 0) {
		fix_fail("floor: no CPU time read from /proc/stat");
		goto out;
	}
	natsSubscription_Destroy(sub);
	sub = NULL;

	/* Latency to a plain subscriber (core NATS, no consumer): one frame
	 * at a time, js_Publish (stored and acknowledged) until it arrives. */
	uint64_t lat[LAT_N];
	s = natsConnection_SubscribeSync(&sub, nc, "floor.frames");
	for (int i = 0; i < LAT_N && s == NATS_OK; i++) {
		natsMsg *msg = NULL;
		int64_t a = bb__mono_ns();
		s = js_Publish(NULL, js, "floor.frames", buf, FRAME, NULL, &jerr);
		if (s == NATS_OK)
			s = natsSubscription_NextMsg(&msg, sub, 5000);
		lat[i] = (uint64_t)(bb__mono_ns() - a);
		natsMsg_Destroy(msg);
	}
	if (s != NATS_OK) {
		js_fail("latency", s, jerr);
		goto out;
	}
	bench_sort(lat, LAT_N);
	*core_p50 = (double)bench_pct(lat, LAT_N, 0.5) / 1e3;
	natsSubscription_Destroy(sub);
	sub = NULL;

	/* Latency as the floor: published (asynchronously, as the
	 * bridge) and consumed through JetStream, a push consumer of the
	 * frames stored from now on. */
	jsSubOptions po;
	jsSubOptions_Init(&po);
	po.Config.DeliverPolicy = js_DeliverNew;
	po.Config.AckPolicy = js_AckNone;
	s = js_SubscribeSync(&sub, js, "floor.frames", NULL, &po, &jerr);
	for (int i = 0; i < LAT_N && s == NATS_OK; i++) {
		natsMsg *msg = NULL;
		int64_t a = bb__mono_ns();
		s = js_PublishAsync(js, "floor.frames", buf, FRAME, NULL);
		if (s == NATS_OK)
			s = natsSubscription_NextMsg(&msg, sub, 5000);
		lat[i] = (uint64_t)(bb__mono_ns() - a);
		natsMsg_Destroy(msg);
	}
	if (s == NATS_OK)
		s = js_PublishAsyncComplete(js, NULL);
	if (s != NATS_OK) {
		js_fail("latency through a consumer", s, jerr);
		goto out;
	}
	bench_sort(lat, LAT_N);
	*p50 = (double)bench_pct(lat, LAT_N, 0.5) / 1e3;
	rc = 0;
out:
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	long bars = 0;
	double rate, floor_rate = 0, floor_p50 = 0, core_p50 = 0, p50 = 0, p99 = 0;
	double first_ms = 0, reader_rate = 0, cores = 0, floor_cores = 0;
	double side[2] = { 0, 0 };

	(void)argc;
	bench_init("bridge_bench");
	if (fix_init(argv[0], "bridge-bench") != 0)
		bench_fail("mkdtemp: %s", strerror(errno));
	atexit(stop_all);
	snprintf(bus_a, sizeof(bus_a), "bridge_bench-%d-a", (int)getpid());
	snprintf(bus_b, sizeof(bus_b), "bridge_bench-%d-b", (int)getpid());
	snprintf(bus_a2, sizeof(bus_a2), "bridge_bench-%d-a2", (int)getpid());
	snprintf(bus_b2, sizeof(bus_b2), "bridge_bench-%d-b2", (int)getpid());
	snprintf(bus_b3, sizeof(bus_b3), "bridge_bench-%d-b3", (int)getpid());
	snprintf(bus_a3, sizeof(bus_a3), "bridge_bench-%d-a3", (int)getpid());
	seen_a = bench_shared(sizeof(*seen_a));
	seen_b = bench_shared(sizeof(*seen_b));
	got_b = bench_shared(sizeof(*got_b));
	long stored = (long)fix_store(NSYM, 20240701, TO_DATE, NULL);
	start_natsd();
	rate = bridge_rate(stored, &reader_rate, &cores);
	bars = stored;
	if (rate > 0 && floor_run((bars + NSYM - 1) / NSYM, &floor_rate,
	                          &floor_cores, &floor_p50, &core_p50) != 0)
		rate = 0;
	if (rate > 0 && bridge_sides(side) != 0)
		rate = 0;
	if (rate > 0 && bridge_latency(&p50, &p99, &first_ms) != 0)
		rate = 0;
	if (fix_failures > 0 || rate <= 0)
		return 1;
	printf("bridge: %ld bars; targets: bridge.rate >= 0.8 x floor (%.0f) "
	       "and >= 1000000 bars/s; bridge.p50 <= floor p50 + 50 (%.1f us)\n",
	       bars, 0.8 * floor_rate, floor_p50 + 50);
	bench_metric("bridge.rate", rate, "bars/s", 0);
	bench_metric("bridge.reader.rate", reader_rate, "bars/s", 0);
	bench_metric("bridge.publish.rate", side[0], "bars/s", 0);
	bench_metric("bridge.mirror.rate", side[1], "bars/s", 0);
	bench_metric("bridge.p50", p50, "us", 1);
	bench_metric("bridge.p99", p99, "us", 1);
	bench_metric("bridge.first.ms", first_ms, "ms", 1);
	bench_metric("nats.floor.rate", floor_rate, "bars/s", 0);
	bench_metric("nats.floor.p50", floor_p50, "us", 1);
	bench_metric("nats.floor.core.p50", core_p50, "us", 1);
	/* What the machine gave: cores busy, CPU ns a bar over every process
	 * (nats-server's included), and the CPU a bar may cost for 0.8 of the
	 * floor's rate with every core busy. */
	double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
	bench_metric("bridge.cores", cores, "cores", 2);
	bench_metric("bridge.cpu", cores / rate * 1e9, "ns/bar", 0);
	bench_metric("nats.floor.cores", floor_cores, "cores", 2);
	bench_metric("nats.floor.cpu", floor_cores / floor_rate * 1e9, "ns/bar", 0);
	bench_metric("bridge.cpu.allowed", ncpu / (0.8 * floor_rate) * 1e9,
	             "ns/bar", 0);
	bench_metrics_print();
	natsConnection_Destroy(NULL);
	nats_Close();
	return 0;
}
