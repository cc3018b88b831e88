/*
 * status_tool: barbus-status and barbus-bus on real buses, end to end, in a
 * private BB_SHM_DIR (so barbus-bus gc only ever sees this test's buses).
 *
 * 1. A backtest bus (barbus-gen store, upkeep, coordinator, both done):
 *    text, --json, --prom (promtool when installed), --check, --watch
 *    lines, the ring head = bars + minute ends + 2 per session, and usage
 *    errors (exit 2 naming the flag).
 * 2. A live bus fed through a FIFO by a thread (a minute every 150 ms):
 *    healthy while fed (and the coordinator unit's ExecStartPost, run as
 *    systemd would, passes at once); barbus-bus rm refused while writers live; the HTTP
 *    server's paths, bad requests and sizes; the status page in headless
 *    Chromium (the bus name, the quality table, redrawn as the clock moves,
 *    a screenshot kept in build/artifacts/); then a stall, an upkeep
 *    SIGKILLed (crashed, not "following") and a coordinator SIGKILLed, each
 *    a degraded --check (exit 3) saying why.
 * 3. barbus-bus list (an orphan bus whose control segment is gone), show,
 *    gc --older-than (keeps fresh buses), gc, rm of no bus.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "stress.h"

#define NSYM 3
#define OPEN_T 1719927000 /* 2024-07-02T13:30:00Z */

static char bin[512], dir[128], shm[128], fifo[192], out[1 << 17];
static const char *bt, *lv;
static atomic_int feeding, feeder_stop;
static int feed_fd = -1;

static void remove_dirs(void)
{
	if (getpid() == g_stress.owner && dir[0] != '\0') {
		stress_sh("rm -rf %s %s", dir, shm);
		dir[0] = '\0';
	}
}

/* Run a shell command; its stdout into out, its exit status. */
__attribute__((format(printf, 1, 2)))
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int has(const char *needle)
{
	return strstr(out, needle) != NULL;
}

static long count_of(const char *needle)
{
	long n = 0;

	for (const char *p = out; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The value after "key " in a key-value status in out; -1 if absent. */
static long long value(const char *key)
{
	char k[96];

	snprintf(k, sizeof(k), "\n%s ", key);
	const char *p = strstr(out, k);
	return p ? atoll(p + strlen(k)) : -1;
}

/* The coordinator unit's ExecStartPost (readers/dist), as systemd runs it
 * for instance `bus`, its 300 tries (30 s) cut to `tries`; stdout and
 * stderr into out, its exit status. */
static int unit_post(const char *bus, int tries)
{
	return run("sed -n 's/^ExecStartPost=//p' %s/../../readers/dist/"
	           "barbus-coordinator@.service.in | sed -e 's|@BINDIR@|%s|g' "
	           "-e 's|%%i|%s|g' -e 's|\\$\\$|$|g' -e 's|-ge 300|-ge %d|' "
	           "> %s/post.sh && sh %s/post.sh 2>&1", bin, bin, bus, tries,
	           dir, dir);
}

/* ---- 1. a backtest bus ----------------------------------------------- */

static void backtest_bus(void)
{
	bt = stress_bus("bt");
	CHECK(stress_sh("%s/barbus-upkeep --bus %s --db %s/db 2>/dev/null & up=$!;"
	         " sleep 0.2; %s/barbus-coordinator --bus %s --db %s/db backtest "
	         "--from 2024-07-01 --to 2024-07-02 --history-days 1 2>/dev/null "
	         "&& wait $up", bin, bt, dir, bin, bt, dir) == 0,
	      "backtest: coordinator and upkeep exit 0");
	CHECK(run("%s/barbus-status --bus %s --symbols worst:2", bin, bt) == 0,
	      "text: exit 0");
	long long bars = value("counter.bars"), mins = value("counter.minutes");
	CHECK(bars > 0 && value("ring.head") == bars + mins + 2 * 2,
	      "ring.head %lld = bars %lld + minute ends %lld + 2 sessions x 2",
	      value("ring.head"), bars, mins);
	CHECK(has("\ncoordinator.run stopped\n") && has("\nupkeep.run stopped\n") &&
	      has("\nupkeep.state exited\n") && has("\nring.capacity ") &&
	      has("\ncoordinator.restarts 0\n") && has("\nhealth healthy\n"),
	      "text: both writers stopped cleanly, the upkeep exited, healthy");
	CHECK(has("\nquality.symbols 3\n") && count_of("\nquality.SYM") == 2,
	      "text: --symbols worst:2 shows 2 of 3 symbols");
	CHECK(run("%s/barbus-status --bus %s --check", bin, bt) == 0 &&
	      has("healthy"), "--check: a finished backtest is healthy: %s", out);
	CHECK(run("%s/barbus-status --bus %s --json --symbols all", bin, bt) == 0 &&
	      strncmp(out, "{\"schema\":1,\"bus\":\"", 19) == 0 &&
	      has("\"state\":\"done\"") && has("\"run\":\"stopped\"") &&
	      count_of("\"symbol\":") == NSYM && count_of("\n") == 1,
	      "--json: one object, schema 1, every symbol with all");
	if (stress_sh("command -v promtool >/dev/null") == 0)
		CHECK(stress_sh("%s/barbus-status --bus %s --prom --symbols all | "
		                "promtool check metrics", bin, bt) == 0,
		      "--prom passes promtool check metrics");
	else
		INFO("promtool missing: --prom not linted");
	CHECK(run("%s/barbus-status --bus %s --prom", bin, bt) == 0 &&
	      has("barbus_healthy{bus=\"") && has("barbus_ring_head{bus="),
	      "--prom: the health and ring figures");
	CHECK(run("%s/barbus-status --bus %s --watch 0.1 --count 3", bin, bt) == 0 &&
	      count_of("\n") == 3 && count_of(" session=done ") == 3 &&
	      count_of(" rate=0.0 ") == 2,
	      "--watch off a terminal: a line per interval, rates from the "
	      "second on");
	CHECK(run("%s/barbus-status --bus %s --watch 0.1 --count 2 --json", bin,
	          bt) == 0 && count_of("{\"schema\":1,") == 2 &&
	      count_of("\n") == 2, "--watch --json: an object per interval");
	static const char *const bad[][2] = {
		{ "--watch 0", "--watch" }, { "--json --prom", "--prom" },
		{ "--count 2", "--count" }, { "--symbols worst:x", "--symbols" },
		{ "--check --json", "--check" }, { "--frob", "--frob" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(run("%s/barbus-status --bus %s %s 2>&1", bin, bt, bad[i][0])
		      == 2 && strncmp(out, "barbus-status: ", 15) == 0 &&
		      has(bad[i][1]), "usage error %s: exit 2 naming %s", bad[i][0],
		      bad[i][1]);
	CHECK(run("%s/barbus-status --bus %s-none --check", bin, bt) == 1 &&
	      has("no such bus"), "--check of no bus: exit 1, said");
	CHECK(run("%s/barbus-status --bus=%s --check", bin, bt) == 0 &&
	      has(": healthy: "), "--bus=NAME: the same bus as --bus NAME: %s",
	      out);
	CHECK(unit_post("t-none", 3) == 1 && has("t-none: no such bus"),
	      "the coordinator unit's ExecStartPost: no bus at its bound, "
	      "exit 1: %s", out);
}

/* ---- 2. a live bus ----------------------------------------------------- */

static void *feeder(void *arg)
{
	char line[128], iso[24];
	(void)arg;

	for (int m = 0; !atomic_load(&feeder_stop) && m < 380;) {
		if (!atomic_load(&feeding)) {
			stress_sleep_ns(20000000);
			continue;
		}
		for (int s = 0; s < NSYM; s++) {
			bb_time_format(OPEN_T + 60 * m, iso);
			int n = snprintf(line, sizeof(line), "SYM%04d,%s,10,11,9,10,%d\n",
			                 s + 1, iso, m + 1);
			if (write(feed_fd, line, (size_t)n) != n)
				return NULL;
		}
		m++;
		stress_sleep_ns(150000000);
	}
	return NULL;
}

static pid_t spawn(const char *errfile, char *const argv[])
{
	pid_t p = stress_fork();

	if (p == 0) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

static int wait_for(const char *cmd_fmt, const char *arg, int secs)
{
	for (int i = 0; i < secs * 20; i++) {
		if (stress_sh(cmd_fmt, bin, arg) == 0)
			return 1;
		stress_sleep_ns(50000000);
	}
	return 0;
}

/* One HTTP exchange on 127.0.0.1:port: the status code, body in out. */
static int http(int port, const char *req, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 8 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t n = 0;
	ssize_t r;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	out[0] = '\0';
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (n < sizeof(out) - 1 &&
	       (r = recv(fd, out + n, sizeof(out) - 1 - n, 0)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return strncmp(out, "HTTP/1.1 ", 9) == 0 ? atoi(out + 9) : -1;
}

static int get(int port, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	                 path);
	return http(port, req, (size_t)n);
}

static void http_paths(int port)
{
	char big[6000];

	CHECK(get(port, "/") == 200 && has("text/html") &&
	      has("<span id=\"bus\">") && has(lv) && has("id=\"quality\""),
	      "GET /: the page, with the bus name and a quality table");
	CHECK(get(port, "/metrics") == 200 && has("version=0.0.4") &&
	      has("barbus_healthy{bus=\""), "GET /metrics: the exposition");
	CHECK(get(port, "/healthz") == 200 && has("healthy"),
	      "GET /healthz while fed: 200 healthy");
	CHECK(get(port, "/status.json?x=1") == 200 &&
	      has("application/json") && has("\"state\":\"open\""),
	      "GET /status.json (a query ignored): the session open");
	CHECK(get(port, "/nope") == 404, "an unknown path: 404");
	CHECK(http(port, "BLAH\r\n\r\n", 8) == 400, "a malformed request: 400");
	CHECK(http(port, "GET / HTTP/1.1 x\r\n\r\n", 20) == 400,
	      "a request line with a fourth word: 400");
	CHECK(http(port, "POST / HTTP/1.1\r\n\r\n", 19) == 405,
	      "POST: 405");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	CHECK(http(port, big, sizeof(big)) == 400,
	      "a request head over 4096 bytes: 400");
	char head[] = "HEAD /healthz HTTP/1.1\r\n\r\n";
	CHECK(http(port, head, strlen(head)) == 200 && has("\r\n\r\n") &&
	      strstr(out, "\r\n\r\n")[4] == '\0', "HEAD: headers, no body");
	if (stress_sh("command -v promtool >/dev/null") == 0) {
		CHECK(get(port, "/metrics") == 200, "GET /metrics again");
		char *body = strstr(out, "\r\n\r\n");
		FILE *f = popen("promtool check metrics >/dev/null 2>&1", "w");
		if (f != NULL && body != NULL)
			fputs(body + 4, f);
		CHECK(f != NULL && pclose(f) == 0, "/metrics passes promtool");
	}
}

/* The page in headless Chromium while the clock moves. */
static void browser(int port)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	if (stress_sh("command -v chromium >/dev/null") != 0) {
		INFO("skipped: the status page in Chromium: chromium not installed");
		return;
	}
	/* Virtual time runs the page's timers at once; it stands still
	 * while a fetch is pending, and the page's long polls are answered
	 * when the clock moves (every 150 ms of the feed). */
	int rc = run("timeout 60 chromium --headless --no-sandbox --disable-gpu "
	             "--user-data-dir=%s/chromium --virtual-time-budget=3000 "
	             "--dump-dom %s 2>/dev/null", dir, url);
	if (rc != 0 || !has("<html")) {
		INFO("skipped: the status page in Chromium: chromium cannot run "
		     "here (exit %d, no page)", rc);
		return;
	}
	char want[128];
	snprintf(want, sizeof(want), "<span id=\"bus\">%s</span>", lv);
	CHECK(rc == 0 && has(want), "Chromium: the page names the bus");
	CHECK(has("<td>SYM0001</td>") || has("<td>SYM0002</td>"),
	      "Chromium: the quality table has the symbols' rows");
	const char *c = strstr(out, "data-clocks=\"");
	const char *r = strstr(out, "data-refreshes=\"");
	CHECK(c && r && atoi(c + 13) >= 2 && atoi(r + 16) >= 3,
	      "Chromium: the page redrew itself (%d times) and showed %d "
	      "session clocks", r ? atoi(r + 16) : -1, c ? atoi(c + 13) : -1);
	CHECK(stress_sh("mkdir -p %s/../artifacts && cd %s/../artifacts && "
	                "rm -f status-page.png && timeout 60 chromium --headless "
	                "--no-sandbox --disable-gpu --user-data-dir=%s/chromium "
	                "--virtual-time-budget=2000 --window-size=1100,900 "
	                "--screenshot=status-page.png %s >/dev/null 2>&1 && "
	                "test -s status-page.png", bin, bin, dir, url) == 0,
	      "Chromium: a screenshot in build/artifacts/status-page.png");
}

static int http_port(const char *file)
{
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(file, "r");
		char line[256] = "";
		if (f != NULL) {
			if (fgets(line, sizeof(line), f) == NULL)
				line[0] = '\0';
			fclose(f);
		}
		const char *p = strstr(line, "127.0.0.1:");
		if (p != NULL)
			return atoi(p + 10);
		stress_sleep_ns(50000000);
	}
	return -1;
}

static void degraded(const char *why, const char *what)
{
	CHECK(run("%s/barbus-status --bus %s --check", bin, lv) == 3 && has(why),
	      "%s: --check exit 3 saying \"%s\": %s", what, why, out);
}

static void live_bus(void)
{
	char db[160], err[3][200], co_err[200];
	pthread_t ft;

	lv = stress_bus("live");
	snprintf(db, sizeof(db), "%s/live-db", dir);
	snprintf(co_err, sizeof(co_err), "%s/co.err", dir);
	mkdir(db, 0700);
	char *const co[] = { (char[600]){ 0 }, "--bus", (char *)lv, "--db", db,
	                     "--history-days", "0", "live", "--feed", fifo,
	                     "--clock", "feed", "--no-data-timeout", "1", NULL };
	snprintf(co[0], 600, "%s/barbus-coordinator", bin);
	pid_t cop = spawn(co_err, co);
	CHECK(wait_for("%s/barbus-status --bus %s >/dev/null 2>&1", lv, 10),
	      "live: the coordinator made the bus");
	snprintf(err[0], sizeof(err[0]), "%s/up.err", dir);
	char *const up[] = { (char[600]){ 0 }, "--bus", (char *)lv, "--db", db,
	                     NULL };
	snprintf(up[0], 600, "%s/barbus-upkeep", bin);
	pid_t upp = spawn(err[0], up);
	feed_fd = open(fifo, O_WRONLY);
	const char *hdr = "symbol,timestamp,open,high,low,close,volume\n";
	if (feed_fd < 0 || write(feed_fd, hdr, strlen(hdr)) < 0)
		stress_fatal("the feed FIFO: %s", strerror(errno));
	atomic_store(&feeding, 1);
	pthread_create(&ft, NULL, feeder, NULL);
	CHECK(wait_for("%s/barbus-status --bus %s | grep -q '^upkeep.state "
	               "following'", lv, 10), "live: the upkeep follows");
	stress_sleep_ns(600000000);
	CHECK(run("%s/barbus-status --bus %s --check", bin, lv) == 0 &&
	      has("healthy: session open, coordinator running, upkeep running"),
	      "live, fed: --check healthy: %s", out);
	CHECK(unit_post(lv, 300) == 0 && out[0] == '\0',
	      "the coordinator unit's ExecStartPost: healthy, exit 0, quiet: %s",
	      out);
	CHECK(run("%s/barbus-status --bus %s", bin, lv) == 0 &&
	      has("\ncoordinator.run running\n") && has("\nupkeep.run running\n")
	      && value("coordinator.heartbeat_age_s") == 0,
	      "live: both writers running, heartbeat under a second");
	CHECK(run("%s/barbus-status --bus %s --watch 0.5 --count 3", bin, lv) == 0
	      && count_of(" rate=") == 3 && count_of(" rate=-") == 1 &&
	      count_of(" rate=0.0 ") == 0, "live --watch: records/s > 0 "
	      "once there is an interval");
	CHECK(run("%s/barbus-bus rm %s 2>&1", bin, lv) == 1 &&
	      has("a writer is alive") && wait_for("%s/barbus-status --bus %s >/dev/null",
	                                  lv, 1),
	      "barbus-bus rm: refused while writers live, the bus intact");
	CHECK(run("%s/barbus-bus list", bin) == 0 && has(lv) &&
	      has(" running      running      live"),
	      "barbus-bus list: the live bus, both writers running");

	snprintf(err[1], sizeof(err[1]), "%s/http.out", dir);
	char *const hs[] = { (char[600]){ 0 }, "--bus", (char *)lv, "--http",
	                     "127.0.0.1:0", "--symbols", "worst:5", NULL };
	snprintf(hs[0], 600, "%s/barbus-status", bin);
	pid_t hp = spawn(err[1], hs);
	int port = http_port(err[1]);
	CHECK(port > 0, "--http 127.0.0.1:0 says its port (%d)", port);
	if (port > 0) {
		http_paths(port);
		browser(port);
	}

	atomic_store(&feeding, 0);
	stress_sleep_ns(2500000000LL);
	degraded("session stalled", "no data for the no-data timeout");
	CHECK(unit_post(lv, 3) == 0 && has(": degraded: session stalled"),
	      "the unit's ExecStartPost, still degraded at its bound: says why, "
	      "exit 0: %s", out);
	CHECK(port <= 0 || (get(port, "/healthz") == 503 && has("degraded")),
	      "GET /healthz stalled: 503 degraded");
	kill(upp, SIGKILL);
	stress_reap(upp, 5000);
	CHECK(run("%s/barbus-status --bus %s", bin, lv) == 0 &&
	      has("\nupkeep.run crashed\n") && has("\nupkeep.state crashed\n") &&
	      has("\nupkeep.last_state following\n") &&
	      has("\nupkeep.writer dead\n"),
	      "an upkeep SIGKILLed: crashed (it was following), not following");
	degraded("upkeep crashed", "upkeep SIGKILLed");
	kill(cop, SIGKILL);
	stress_reap(cop, 5000);
	degraded("coordinator crashed", "coordinator SIGKILLed");
	CHECK(run("%s/barbus-status --bus %s --json", bin, lv) == 0 &&
	      has("\"coordinator\":{\"run\":\"crashed\""),
	      "--json: the coordinator crashed");
	atomic_store(&feeder_stop, 1);
	pthread_join(ft, NULL); /* before the close: its fd is not reused */
	close(feed_fd);
	kill(hp, SIGTERM);
	stress_reap(hp, 5000);
}

/* ---- 3. barbus-bus ------------------------------------------------------ */

static void bus_tool(void)
{
	CHECK(run("%s/barbus-bus show %s", bin, bt) == 0 &&
	      has("\nring ") && has("\ncontrol ") && has("\nup.status ") &&
	      has(" stopped "), "show: every segment, the writers stopped");
	CHECK(run("%s/barbus-bus show %s-none 2>&1", bin, bt) == 1 &&
	      has("no such bus"), "show of no bus: exit 1");
	CHECK(stress_sh("rm %s/barbus.%s.control", shm, bt) == 0 &&
	      run("%s/barbus-bus list", bin) == 0 && has(" orphan\n"),
	      "list: a bus without its control segment is an orphan");
	CHECK(run("%s/barbus-bus gc --older-than=1d", bin) == 0 &&
	      count_of("removed") == 0 && run("%s/barbus-bus list", bin) == 0 &&
	      has(bt) && has(lv), "gc --older-than 1d: fresh buses kept");
	CHECK(run("%s/barbus-bus gc", bin) == 0 && count_of("removed ") == 2,
	      "gc: both buses (no live writer) removed: %s", out);
	CHECK(run("%s/barbus-bus list", bin) == 0 && count_of("\n") == 1,
	      "list: nothing left but the header");
	CHECK(stress_sh("test -z \"$(ls %s)\"", shm) == 0,
	      "the shm directory is empty");
	CHECK(run("%s/barbus-bus rm %s 2>&1", bin, lv) == 1 &&
	      has("no such bus"), "rm of no bus: exit 1");
	CHECK(run("%s/barbus-bus frob 2>&1", bin) == 2 && has("frob"),
	      "an unknown command: exit 2 naming it");
}

int main(int argc, char **argv)
{
	(void)argc;
	stress_init("status", 180);
	signal(SIGPIPE, SIG_IGN);
	stress_bin(argv[0], NULL, bin, sizeof(bin));
	snprintf(dir, sizeof(dir), "/tmp/bb-status-XXXXXX");
	snprintf(shm, sizeof(shm), "/dev/shm/bb-status-%d", (int)getpid());
	if (mkdtemp(dir) == NULL || mkdir(shm, 0700) != 0)
		stress_fatal("mkdtemp, mkdir %s", shm);
	atexit(remove_dirs);
	setenv("BB_SHM_DIR", shm, 1);
	snprintf(fifo, sizeof(fifo), "%s/feed", dir);
	if (mkfifo(fifo, 0600) != 0)
		stress_fatal("mkfifo");
	CHECK(stress_sh("%s/barbus-gen --db %s/db --symbols %d --from 2024-07-01 "
	         "--to 2024-07-02 --seed 7 --missing-rate 0.05 2>/dev/null",
	         bin, dir, NSYM) == 0, "barbus-gen made the store");
	backtest_bus();
	live_bus();
	bus_tool();
	return stress_done();
}
