/*
 * bridge_kill: a paced backtest on bus A with barbus-upkeep (5m, 1h,
 * forward fills of the store's missing minutes), `publish` from A,
 * `mirror` into B, while the publisher, the mirror and nats-server itself
 * are SIGKILLed at random points (at least 10 kills each; 4 with
 * BB_TEST_FAST) and started again. Afterwards `barbus-bars` of B equals
 * A's byte for byte: --history at 1m, 5m and 1h, the current session at 5m
 * and 1h, and --quality (B's upkeep segments, written by the mirror); and
 * the stream holds every frame once: positions strictly increasing,
 * message after message (a session the publisher could not finish before
 * a restart comes again whole, as HISTORY, then the next), with the
 * upkeep's UP and UP_BLOCK frames among them.
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include <nats/nats.h>

#include "stress.h"
#include "bridge_nats.h"
#include "../../readers/bridge/frame.h"

static char dir[64], bin[PATH_MAX], bridge[PATH_MAX + 16];

/* barbus-bridge with args, its output appended to dir/name.log. */
static pid_t spawn(const char *name, char *const args[])
{
	char log[PATH_MAX];
	pid_t pid = stress_fork();

	if (pid == 0) {
		snprintf(log, sizeof(log), "%s/%s.log", dir, name);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bridge, args);
		_exit(127);
	}
	return pid;
}

/* Every frame of the stream: positions strictly increasing. */
static void check_stream(const char *url, const char *stream)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	uint64_t prev = 0, frames = 0, bad = 0, ups = 0, blocks = 0;

	if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
	    js_GetStreamInfo(&si, js, stream, NULL, NULL) != NATS_OK) {
		CHECK(0, "stream %s readable", stream);
		goto out;
	}
	for (uint64_t seq = si->State.FirstSeq; seq <= si->State.LastSeq; seq++) {
		natsMsg *m = NULL;
		struct br_frame f;
		if (js_GetMsg(&m, js, stream, seq, NULL, NULL) != NATS_OK)
			continue;
		if (br_frame_get((const uint8_t *)natsMsg_GetData(m),
		                 (size_t)natsMsg_GetDataLength(m), &f, NULL) == 0 &&
		    f.type != BR_HELLO && f.type != BR_UP_HELLO) {
			/* HISTORY: a session whole (its chunks share a position),
			 * after what the stream held of it; then the next one. */
			if (f.type == BR_HISTORY) {
				bad += f.pos >> 32 < prev >> 32;
				if (f.pos > prev)
					prev = br_pos(f.pos >> 32, BR_SUB_END);
			} else {
				if (frames && f.pos <= prev)
					INFO("frame %llu: type %u at %llx after %llx",
					     (unsigned long long)seq, f.type,
					     (unsigned long long)f.pos,
					     (unsigned long long)prev);
				bad += frames && f.pos <= prev;
				prev = f.pos;
			}
			frames++;
			ups += f.type == BR_UP || f.type == BR_UP_END;
			blocks += f.type == BR_UP_BLOCK;
		}
		natsMsg_Destroy(m);
	}
	INFO("stream %s: %llu frames", stream, (unsigned long long)frames);
	CHECK(frames > 3 * 300 && bad == 0, "the stream holds each frame once, "
	      "in order (%llu frames, %llu out of order or twice)",
	      (unsigned long long)frames, (unsigned long long)bad);
	INFO("upkeep frames: %llu UP or UP_END, %llu UP_BLOCK",
	     (unsigned long long)ups, (unsigned long long)blocks);
	CHECK(ups > 100 && blocks >= 3, "the upkeep's frames are in the stream "
	      "(%llu UP or UP_END, %llu UP_BLOCK)", (unsigned long long)ups,
	      (unsigned long long)blocks);
out:
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;
	uint64_t rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	int want = stress_fast() ? 4 : 10, kills[3] = { 0, 0, 0 };

	(void)argc;
	stress_init("bridge-kill", 240);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "bridgek",
	                 &rc))
		return rc;
	snprintf(bridge, sizeof(bridge), "%s/barbus-bridge", bin);
	const char *a = stress_bus("a"), *b = stress_bus("b");
	char stream[BB_NAME_MAX + 8];
	snprintf(stream, sizeof(stream), "barbus-%s", a);
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 8 --from 2024-07-01 "
	         "--to 2024-07-03 --seed 9 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");

	char *pub[] = { bridge, "publish", "--bus", (char *)a, "--nats", n.url,
	                "--exit-at-done", "--retry", "60", NULL };
	char *mir[] = { bridge, "mirror", "--bus", (char *)b, "--nats", n.url,
	                "--stream", stream, "--exit-at-done", "--retry", "60", NULL };
	char ulog[PATH_MAX], udb[80];
	snprintf(ulog, sizeof(ulog), "%s/upkeep.log", dir);
	snprintf(udb, sizeof(udb), "%s/db", dir);
	const char *ua[] = { "--bus", a, "--db", udb, "--intervals", "5m,1h",
	                     "--history-days", "2", "--gap-policy", "ffill", NULL };
	pid_t up = stress_spawn(bin, "barbus-upkeep", ulog, ua);
	stress_sleep_ns(200 * 1000000LL);
	pid_t co = stress_fork();
	if (co == 0) {
		char db[80];
		snprintf(db, sizeof(db), "%s/db", dir);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execl(strcat(strcpy((char[PATH_MAX + 32]){ 0 }, bin),
		             "/barbus-coordinator"), "barbus-coordinator", "--bus", a,
		      "--db", db, "backtest", "--from", "2024-07-01", "--to",
		      "2024-07-03", "--history-days", "2", "--speed",
		      stress_fast() ? "4000x" : "2000x", (char *)NULL);
		_exit(127);
	}
	pid_t pp = spawn("publish", pub);
	stress_sleep_ns(300 * 1000000LL);
	pid_t mp = spawn("mirror", mir);
	int co_status = -1;
	while (waitpid(co, &co_status, WNOHANG) == 0) {
		stress_sleep_ns((int64_t)stress_rand_in(&rnd, 150, 700) * 1000000);
		/* The role killed least so far; ties broken at random. */
		int start = (int)stress_rand_in(&rnd, 0, 2), who = start;
		for (int k = 1; k < 3; k++)
			if (kills[(start + k) % 3] < kills[who])
				who = (start + k) % 3;
		if (who == 0) {
			kill(pp, SIGKILL);
			stress_reap(pp, 5000);
			pp = spawn("publish", pub);
		} else if (who == 1) {
			kill(mp, SIGKILL);
			stress_reap(mp, 5000);
			mp = spawn("mirror", mir);
		} else {
			nats_stop(&n, SIGKILL);
			nats_start(&n, "");
		}
		kills[who]++;
	}
	stress_forget(co);
	INFO("kills: publisher %d, mirror %d, nats-server %d", kills[0], kills[1],
	     kills[2]);
	CHECK(WIFEXITED(co_status) && WEXITSTATUS(co_status) == 0,
	      "the backtest ended (exit 0)");
	CHECK(stress_reap(up, 30000) == 0, "the upkeep exits 0 at the end");
	CHECK(kills[0] >= want && kills[1] >= want && kills[2] >= want,
	      "at least %d kills of each", want);
	CHECK(stress_reap(pp, 60000) == 0, "the publisher exits 0 at DONE");
	CHECK(stress_reap(mp, 60000) == 0, "the mirror exits 0 at DONE");
	CHECK(stress_sh("%s/barbus-bars --bus %s --history > %s/a.csv && "
	         "%s/barbus-bars --bus %s --history > %s/b.csv && "
	         "test $(wc -l < %s/a.csv) -gt 2000", bin, a, dir, bin, b, dir, dir)
	      == 0, "barbus-bars of both buses");
	CHECK(stress_sh("cmp %s/a.csv %s/b.csv", dir, dir) == 0,
	      "after the kills the mirror's bars equal the source's byte for byte");
	static const char *const more[] = {
		"--interval 5m --history", "--interval 5m", "--interval 1h --history",
		"--interval 1h", "--quality",
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		CHECK(stress_sh("%s/barbus-bars --bus %s %s > %s/ua.csv && "
		         "%s/barbus-bars --bus %s %s > %s/ub.csv && "
		         "test $(wc -l < %s/ua.csv) -gt 8 && cmp %s/ua.csv %s/ub.csv",
		         bin, a, more[i], dir, bin, b, more[i], dir, dir, dir, dir)
		      == 0, "after the kills barbus-bars %s of the mirror equals the "
		      "source's byte for byte", more[i]);
	stress_sh("diff %s/a.csv %s/b.csv | grep '^[<>]' | cut -c1-23 | uniq -c "
	          "| head -8; cat %s/mirror.log | sort | uniq -c | head -5", dir,
	          dir, dir);
	check_stream(n.url, stream);
	/* A mirror started now builds the same bus from that stream. */
	const char *c = stress_bus("c");
	CHECK(stress_sh("timeout -s KILL 60 %s mirror --bus %s --nats %s --stream %s "
	         "--durable late --exit-at-done 2>>%s/late.log && "
	         "%s/barbus-bars --bus %s --interval 5m --history > %s/uc.csv && "
	         "%s/barbus-bars --bus %s --interval 5m --history > %s/ua.csv && "
	         "cmp %s/ua.csv %s/uc.csv && "
	         "%s/barbus-bars --bus %s --quality > %s/uc.csv && "
	         "%s/barbus-bars --bus %s --quality > %s/ua.csv && "
	         "cmp %s/ua.csv %s/uc.csv", bridge, c, n.url, stream, dir, bin, c,
	         dir, bin, a, dir, dir, dir, bin, c, dir, bin, a, dir, dir, dir)
	      == 0, "a mirror started after the end equals the source (5m "
	      "history, quality)");
	nats_stop(&n, SIGTERM);
	nats_Close();
	return stress_done();
}
