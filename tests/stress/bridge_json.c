/*
 * bridge_json: `barbus-bridge publish --json-subjects` against a
 * nats-server on a free loopback port. A finished backtest of two sessions
 * (one of history) on bus A, published with --json-subjects while a plain
 * NATS subscriber listens on barbus.<A>.1m.>: it receives every bar of the
 * current session exactly once, each on barbus.<A>.1m.<symbol>, as the JSON
 * line of that bar (the same bars as `barbus-bars --bus A`, byte for byte).
 * Published again, the frames the stream holds are not sent again, nor
 * their JSON. Prints "N passed, N failed".
 */
#include <limits.h>

#include <nats/nats.h>

#include "stress.h"
#include "bridge_nats.h"

static char dir[64], bin[PATH_MAX];

/* Every message on sub until 1 s of silence, "payload" lines into path;
 * the count, or -1 when a subject does not end with its payload's symbol. */
static long collect(natsSubscription *sub, const char *bus, const char *path)
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
		snprintf(want, sizeof(want), "barbus.%s.1m.%.*s", bus, (int)k,
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
	long got = collect(sub, a, path);
	CHECK(got > 700, "the subscriber received the session's bars (%ld), each "
	      "on barbus.<bus>.1m.<its symbol>", got);
	/* barbus-bars' CSV of the same session, as JSON lines. */
	CHECK(stress_sh("%s/barbus-bars --bus %s | awk -F, 'NR > 1 { printf "
	         "\"{\\\"symbol\\\":\\\"%%s\\\",\\\"timestamp\\\":\\\"%%s\\\","
	         "\\\"open\\\":%%s,\\\"high\\\":%%s,\\\"low\\\":%%s,\\\"close\\\":%%s,"
	         "\\\"volume\\\":%%s,\\\"flags\\\":\\\"%%s\\\"}\\n\", $1, $2, $3, $4, "
	         "$5, $6, $7, $8 }' | sort > %s/want && sort %s/json > %s/got && "
	         "test $(wc -l < %s/want) -eq %ld && cmp %s/want %s/got", bin, a,
	         dir, dir, dir, dir, got, dir, dir) == 0,
	      "the JSON received is the session's bars, each once, byte for byte");
	CHECK(stress_sh("timeout -s KILL 60 %s/barbus-bridge publish --bus %s "
	         "--nats %s --json-subjects --exit-at-done", bin, a, n.url) == 0,
	      "publish again");
	snprintf(path, sizeof(path), "%s/json2", dir);
	CHECK(collect(sub, a, path) == 0,
	      "frames the stream already holds send no JSON again");
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	nats_Close();
	nats_stop(&n, SIGTERM);
	return stress_done();
}
