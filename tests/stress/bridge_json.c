/*
 * bridge_json: `barbus-bridge publish --json-subjects` against a
 * nats-server on a free loopback port. A finished backtest of two sessions
 * (one of history) on bus A, published with --json-subjects while a plain
 * NATS subscriber listens on barbus.<A>.1m.>: it receives every bar of the
 * current session exactly once, each on barbus.<A>.1m.<symbol>, as the JSON
 * line of that bar (the same bars as `barbus-bars --bus A`, byte for byte).
 * Published again, the frames the stream holds are not sent again, nor
 * their JSON. Then a backtest on bus A2 with barbus-upkeep deriving 5m and
 * 15m and forward-filling missing minutes, published with --json-subjects
 * --intervals 1m,5m,7m: every 5m bar of the session comes once on
 * barbus.<A2>.5m.<symbol> (the same as `barbus-bars --interval 5m`), the
 * 1m subjects carry the real bars and the upkeep's fills (the same as
 * `barbus-bars`, fills flagged synthetic), no 15m bar, 7m is said not
 * derived, and a mirror of that stream holds 5m (equal to A2's) but not
 * 15m.
 * Prints "N passed, N failed".
 */
#include <limits.h>

#include <nats/nats.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

/* The n JSON lines in file json (as received) are barbus-bars ARGS of bus
 * as barbus-tail --json prints them, each once, byte for byte. */
static int json_is(const char *bus, const char *args, const char *json,
                   long n)
{
	return stress_sh("%s/barbus-bars --bus %s %s | awk -F, 'NR > 1 { printf "
	         "\"{\\\"symbol\\\":\\\"%%s\\\",\\\"timestamp\\\":\\\"%%s\\\","
	         "\\\"open\\\":%%s,\\\"high\\\":%%s,\\\"low\\\":%%s,\\\"close\\\":%%s,"
	         "\\\"volume\\\":%%s,\\\"flags\\\":\\\"%%s\\\"}\\n\", $1, $2, $3, $4, "
	         "$5, $6, $7, $8 }' | sort > %s.want && sort %s > %s.got && "
	         "test $(wc -l < %s.want) -eq %ld && cmp %s.want %s.got", bin, bus,
	         args, json, json, json, json, n, json, json) == 0;
}

/* Every message on sub until 1 s of silence, "payload" lines into path;
 * the count, or -1 when a subject does not end with its payload's symbol. */
static long collect(natsSubscription *sub, const char *bus, const char *iv,
                    const char *path)
{
	FILE *f = fopen(path, "w");
	natsMsg *m = NULL;
	long n = 0, bad = 0;
	char want[256];

	if (f == NULL)
		return -1;
	while (natsSubscription_NextMsg(&m, sub, 1000) == NATS_OK) {
		const char *d = natsMsg_GetData(m), *sym = strstr(d, "\"symbol\":\"");
		int len = natsMsg_GetDataLength(m);
		size_t k = sym ? strcspn(sym + 10, "\"") : 0;
		snprintf(want, sizeof(want), "barbus.%s.%s.%.*s", bus, iv, (int)k,
		         sym ? sym + 10 : "");
		bad += sym == NULL || strcmp(natsMsg_GetSubject(m), want) != 0;
		fprintf(f, "%.*s\n", len, d);
		natsMsg_Destroy(m);
		n++;
	}
	fclose(f);
	return bad ? -1 : n;
}

int main(int argc, char **argv)
{
	int rc;
	struct natsd n;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	char subj[128], path[128];

	(void)argc;
	stress_init("bridge-json", 60);
	if (bridge_begin(argv[0], bin, sizeof(bin), dir, sizeof(dir), "bridge",
	                 &rc))
		return rc;
	const char *a = stress_bus("a");
	nats_new(&n, dir, "n1");
	nats_start(&n, "");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols 4 --from 2024-07-01 "
	         "--to 2024-07-02 --seed 7 --missing-rate 0.05 2>/dev/null",
	         bin, dir) == 0, "barbus-gen made the store");
	CHECK(stress_sh("%s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-02 --history-days 1 2>/dev/null",
	         bin, a, dir) == 0, "backtest on A");
	snprintf(subj, sizeof(subj), "barbus.%s.1m.>", a);
	CHECK(natsConnection_ConnectTo(&nc, n.url) == NATS_OK &&
	      natsConnection_SubscribeSync(&sub, nc, subj) == NATS_OK &&
	      natsConnection_Flush(nc) == NATS_OK, "a plain subscriber on %s", subj);
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --json-subjects --exit-at-done", bin, a, n.url) == 0,
	      "publish --json-subjects exits at DONE");
	snprintf(path, sizeof(path), "%s/json", dir);
	long got = collect(sub, a, "1m", path);
	CHECK(got > 700, "the subscriber received the session's bars (%ld), each "
	      "on barbus.<bus>.1m.<its symbol>", got);
	CHECK(json_is(a, "", path, got), "the JSON received is the session's "
	      "bars, each once, byte for byte");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --json-subjects --exit-at-done", bin, a, n.url) == 0,
	      "publish again");
	snprintf(path, sizeof(path), "%s/json2", dir);
	CHECK(collect(sub, a, "1m", path) == 0,
	      "frames the stream already holds send no JSON again");
	natsSubscription_Destroy(sub);
	sub = NULL;

	/* Derived bars: --intervals chooses which. */
	const char *a2 = stress_bus("a2"), *b2 = stress_bus("b2");
	natsSubscription *s15 = NULL, *s1 = NULL;
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db --intervals 5m,15m "
	         "--gap-policy ffill 2>/dev/null & u=$!; sleep 0.2; %s/barbus-coordinator --bus %s "
	         "--db %s/db backtest --from 2024-07-01 --to 2024-07-02 "
	         "--history-days 1 2>/dev/null && wait $u", bin, a2, dir, bin, a2,
	         dir) == 0, "backtest on A2 with an upkeep (5m, 15m, ffill)");
	snprintf(subj, sizeof(subj), "barbus.%s.5m.>", a2);
	CHECK(natsConnection_SubscribeSync(&sub, nc, subj) == NATS_OK,
	      "a plain subscriber on %s", subj);
	snprintf(subj, sizeof(subj), "barbus.%s.1m.>", a2);
	CHECK(natsConnection_SubscribeSync(&s1, nc, subj) == NATS_OK,
	      "a plain subscriber on %s", subj);
	snprintf(subj, sizeof(subj), "barbus.%s.15m.>", a2);
	CHECK(natsConnection_SubscribeSync(&s15, nc, subj) == NATS_OK &&
	      natsConnection_Flush(nc) == NATS_OK, "a plain subscriber on %s",
	      subj);
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --json-subjects --intervals 1m,5m,7m --exit-at-done "
	         "2>%s/err && grep -q -- '--intervals 7m: the bus.s upkeep does "
	         "not derive it' %s/err", bin, a2, n.url, dir, dir) == 0,
	      "publish --intervals 1m,5m,7m exits at DONE, 7m said not derived");
	snprintf(path, sizeof(path), "%s/json5", dir);
	got = collect(sub, a2, "5m", path);
	CHECK(got > 100, "the subscriber received the session's 5m bars (%ld), "
	      "each on barbus.<bus>.5m.<its symbol>", got);
	CHECK(json_is(a2, "--interval 5m", path, got), "the JSON received is "
	      "the session's 5m bars, each once, byte for byte");
	snprintf(path, sizeof(path), "%s/json1", dir);
	got = collect(s1, a2, "1m", path);
	CHECK(got > 700 && stress_sh("grep -q synthetic %s", path) == 0,
	      "the 1m subscriber received the session's bars and fills (%ld)",
	      got);
	CHECK(json_is(a2, "", path, got), "the JSON received on 1m is the "
	      "session's bars with the upkeep's fills, each once, byte for byte");
	snprintf(path, sizeof(path), "%s/json15", dir);
	CHECK(collect(s15, a2, "15m", path) == 0,
	      "no 15m bar: --intervals left it out");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge mirror --bus %s "
	         "--nats %s --stream barbus-%s --exit-at-done && "
	         "%s/barbus-bars --bus %s --interval 5m --history > %s/m5a && "
	         "%s/barbus-bars --bus %s --interval 5m --history > %s/m5b && "
	         "cmp %s/m5a %s/m5b && ! %s/barbus-bars --bus %s --interval 15m "
	         ">/dev/null 2>&1", bin, b2, n.url, a2, bin, a2, dir, bin, b2, dir,
	         dir, dir, bin, b2) == 0,
	      "the mirror holds A2's 5m bars and history, and no 15m");
	natsSubscription_Destroy(s15);
	natsSubscription_Destroy(s1);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	nats_Close();
	nats_stop(&n, SIGTERM);
	return stress_done();
}
