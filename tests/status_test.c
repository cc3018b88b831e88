/* status_test.c: barbus-status's verdict and renderers (readers/status_*.h)
 * on made-up snapshots, one behaviour per test; then the command line of
 * barbus-status and barbus-bus (the one convention, libshm/args.c) in a
 * private, empty BB_SHM_DIR. The programs on real buses:
 * tests/stress/status_tool.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

/* The headers are barbus-status's: not every function is used here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../readers/status_fmt.h"

static struct snap s;
static struct sbuf o;

/* A live bus in an open session, both writers running, 1 h of clock. */
static void healthy_live(void)
{
	s = (struct snap){ .bus = "prod", .wall = 1720791000, .rate = -1 };
	s.coord = (bb_seg_info){ .run = BB_RUN_RUNNING, .pid = 10, .epoch = 1,
	                         .heartbeat_age_ms = 20 };
	s.have_status = 1;
	s.st = (bb_status){ .date = 20240712, .state = BB_STATE_OPEN,
	                    .open = 1720791000 - 3600, .close = 1720814400,
	                    .clock = 1720791000 - 60, .sessions = 3,
	                    .mode = BB_MODE_LIVE };
	s.have_ring = 1;
	s.have_upkeep = 1;
	s.up = (bb_seg_info){ .run = BB_RUN_RUNNING, .pid = 11, .epoch = 2,
	                      .heartbeat_age_ms = 5 };
	s.have_info = 1;
	s.ui = (bb_upkeep_info){ .state = BB_UPKEEP_FOLLOWING, .date = 20240712 };
	o = (struct sbuf){ 0 };
}

static void done(void)
{
	sb_free(&o);
}

TestSuite(status, .init = healthy_live, .fini = done, .timeout = 5);

Test(status, running_writers_in_an_open_session_are_healthy)
{
	judge(&s);
	cr_assert(eq(int, s.verdict, V_HEALTHY));
	cr_assert(eq(str, s.why, ""));
}

Test(status, crashed_coordinator_is_degraded)
{
	s.coord.run = BB_RUN_CRASHED;
	judge(&s);
	cr_assert(eq(int, s.verdict, V_DEGRADED));
	cr_assert(eq(str, s.why, "coordinator crashed (pid 10)"));
}

Test(status, stuck_upkeep_is_degraded)
{
	s.up.run = BB_RUN_STUCK;
	s.up.heartbeat_age_ms = 1500;
	judge(&s);
	cr_assert(eq(str, s.why, "upkeep stuck (pid 11, heartbeat 1.5 s ago)"));
}

Test(status, coordinator_stopped_in_an_open_session_is_degraded)
{
	s.coord.run = BB_RUN_STOPPED;
	judge(&s);
	cr_assert(eq(str, s.why, "coordinator stopped during the session"));
}

Test(status, coordinator_stopped_after_the_end_of_data_is_healthy)
{
	s.coord.run = BB_RUN_STOPPED;
	s.st.state = BB_STATE_DONE;
	s.up.run = BB_RUN_STOPPED;
	judge(&s);
	cr_assert(eq(int, s.verdict, V_HEALTHY));
}

Test(status, stall_is_degraded_with_its_length)
{
	s.st.stalled_since = s.wall - 75;
	judge(&s);
	cr_assert(eq(str, s.why, "session stalled for 75 s"));
}

Test(status, reasons_are_joined)
{
	s.st.stalled_since = s.wall - 5;
	s.up.run = BB_RUN_CRASHED;
	judge(&s);
	cr_assert(eq(str, s.why, "session stalled for 5 s; upkeep crashed "
	             "(pid 11)"));
}

Test(status, upkeep_on_an_older_session_past_the_grace_is_behind)
{
	s.ui.date = 20240711;
	judge(&s);
	cr_assert(eq(str, s.why, "upkeep behind: follows session 20240711, the "
	             "bus is in 20240712"));
}

Test(status, upkeep_on_an_older_session_within_the_grace_is_not_behind)
{
	s.ui.date = 20240711;
	s.st.clock = s.st.open + BEHIND_GRACE_S;
	judge(&s);
	cr_assert(eq(int, s.verdict, V_HEALTHY));
}

Test(status, bus_without_upkeep_is_healthy)
{
	s.have_upkeep = 0;
	judge(&s);
	cr_assert(eq(int, s.verdict, V_HEALTHY));
}

Test(status, damaged_segment_is_degraded)
{
	s.coord.err = BB_EBADMAGIC;
	judge(&s);
	cr_assert(eq(str, s.why, "coordinator segment damaged: segment is not a "
	             "bus segment"));
}

Test(status, crashed_upkeep_state_is_crashed_not_following)
{
	s.up.run = BB_RUN_CRASHED;
	cr_assert(eq(str, (char *)upkeep_state(&s), "crashed"));
	s.up.run = BB_RUN_STOPPED;
	cr_assert(eq(str, (char *)upkeep_state(&s), "following"));
}

Test(status, check_line_healthy)
{
	judge(&s);
	fmt_check(&o, &s, 0, "control");
	cr_assert(eq(str, o.p, "barbus-status: bus prod: healthy: session open, "
	             "coordinator running, upkeep running\n"));
}

Test(status, check_line_no_bus)
{
	fmt_check(&o, &s, ENOENT, "control");
	cr_assert(eq(str, o.p, "barbus-status: bus prod: no such bus\n"));
}

Test(status, json_string_escapes)
{
	js_str(&o, "a\"b\\c\n\x01");
	cr_assert(eq(str, o.p, "\"a\\\"b\\\\c\\u000a\\u0001\""));
}

Test(status, json_nan_is_null)
{
	js_num(&o, NAN);
	cr_assert(eq(str, o.p, "null"));
}

Test(status, json_session_and_health)
{
	judge(&s);
	fmt_json(&o, &s, "\n");
	cr_assert(strstr(o.p, "\"health\":{\"status\":\"healthy\","
	                      "\"why\":null}") != NULL);
	cr_assert(strstr(o.p, "\"session\":{\"mode\":\"live\",\"date\":\"2024-07-12\","
	                      "\"state\":\"open\",\"open\":\"2024-07-12T12:30:00Z\"") != NULL);
	cr_assert(strstr(o.p, "\"upkeep\":{\"run\":\"running\",\"pid\":11,"
	                      "\"epoch\":2,\"restarts\":1,\"heartbeat_age_s\":0.005") != NULL);
	cr_assert(eq(chr, o.p[o.n - 1], '\n'));
}

Test(status, prom_label_escapes)
{
	char l[80];

	pm_symbol_label(l, sizeof(l), "A\"B\\C\nD");
	cr_assert(eq(str, l, "symbol=\"A\\\"B\\\\C\\nD\""));
}

Test(status, prom_writer_state_one_hot)
{
	s.up.run = BB_RUN_CRASHED;
	pm_writers(&o, &s);
	cr_assert(strstr(o.p, "barbus_writer_state{bus=\"prod\",writer=\"upkeep\","
	                      "state=\"crashed\"} 1\n") != NULL);
	cr_assert(strstr(o.p, "barbus_writer_state{bus=\"prod\",writer=\"upkeep\","
	                      "state=\"running\"} 0\n") != NULL);
	cr_assert(strstr(o.p, "barbus_writer_restarts_total{bus=\"prod\","
	                      "writer=\"upkeep\"} 1\n") != NULL);
}

Test(status, watch_line)
{
	s.rate = 61.25;
	s.ring.head = 38014;
	s.ctr[BB_CTR_BARS] = 37622;
	judge(&s);
	fmt_line(&o, &s);
	cr_assert(eq(str, o.p, "2024-07-12T13:30:00Z bus=prod session=open "
	             "clock=2024-07-12T13:29:00Z coordinator=running "
	             "upkeep=running head=38014 rate=61.2 bars=37622 stalled=no "
	             "health=healthy\n"));
}

/* ---- the command line ---------------------------------------------------- */

static char bin[PATH_MAX], dir[64], out[4096], err[4096];

static void cli_setup(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert(n > 0);
	self[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/../bin", dirname(self));
	snprintf(dir, sizeof(dir), "/tmp/bb-status-cli-%d-XXXXXX", (int)getpid());
	cr_assert(mkdtemp(dir) != NULL);
	setenv("BB_SHM_DIR", dir, 1);
}

static void cli_teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/out", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/err", dir);
	unlink(path);
	rmdir(dir);
}

static void slurp(const char *name, char *buf, size_t cap)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* "barbus-<args>", stdout into out, stderr into err; the exit status. */
static int run(const char *fmt, ...)
{
	char args[512], cmd[PATH_MAX + 800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s/barbus-%s >%s/out 2>%s/err", bin, args,
	         dir, dir);
	int st = system(cmd);
	slurp("out", out, sizeof(out));
	slurp("err", err, sizeof(err));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TestSuite(status_cli, .init = cli_setup, .fini = cli_teardown, .timeout = 10);

Test(status_cli, status_version_names_program_and_library)
{
	char want[128];

	snprintf(want, sizeof(want), "barbus-status %s (libbarbus %s)\n",
	         BB_VERSION, bb_version());
	cr_assert(eq(int, run("status --version"), 0));
	cr_assert(eq(str, out, want));
	cr_assert(eq(str, err, ""));
}

Test(status_cli, status_help_on_stdout_exit_0)
{
	cr_assert(eq(int, run("status -h"), 0));
	cr_assert(strncmp(out, "usage: barbus-status --bus NAME ", 32) == 0, "%s",
	          out);
	cr_assert(strstr(out, "\n  --[no-]check ") != NULL, "%s", out);
	cr_assert(eq(str, err, ""));
}

Test(status_cli, status_key_equals_value_checks_no_bus_exit_1)
{
	cr_assert(eq(int, run("status --bus=t-cli-%d --check", (int)getpid()), 1));
	char want[96];
	snprintf(want, sizeof(want), "barbus-status: bus t-cli-%d: no such bus\n",
	         (int)getpid());
	cr_assert(eq(str, out, want));
}

Test(status_cli, status_no_bus_without_check_exit_1_on_stderr)
{
	cr_assert(eq(int, run("status --bus t-cli-%d", (int)getpid()), 1));
	cr_assert(eq(str, out, ""));
	cr_assert(strstr(err, ": no such bus (no coordinator has made it)\n")
	          != NULL, "%s", err);
}

Test(status_cli, status_bad_value_names_the_flag_exit_2)
{
	cr_assert(eq(int, run("status --bus b --watch=0"), 2));
	cr_assert(eq(str, err, "barbus-status: --watch: '0' is out of range "
	             "0.05..86400\nTry 'barbus-status --help'.\n"));
	cr_assert(eq(str, out, ""));
}

Test(status_cli, status_rule_between_flags_names_the_flag_exit_2)
{
	cr_assert(eq(int, run("status --bus b --count 2"), 2));
	cr_assert(eq(str, err, "barbus-status: --count: needs --watch\n"
	             "Try 'barbus-status --help'.\n"));
}

Test(status_cli, status_bus_is_required_exit_2)
{
	cr_assert(eq(int, run("status --check"), 2));
	cr_assert(eq(str, err, "barbus-status: --bus NAME is required\n"
	             "Try 'barbus-status --help'.\n"));
}

Test(status_cli, bus_version_names_program_and_library)
{
	char want[128];

	snprintf(want, sizeof(want), "barbus-bus %s (libbarbus %s)\n",
	         BB_VERSION, bb_version());
	cr_assert(eq(int, run("bus --version"), 0));
	cr_assert(eq(str, out, want));
}

Test(status_cli, bus_key_equals_value_gc_of_nothing_exit_0)
{
	cr_assert(eq(int, run("bus gc --older-than=1d"), 0));
	cr_assert(eq(str, out, ""));
	cr_assert(eq(str, err, ""));
}

Test(status_cli, bus_bad_duration_names_the_flag_exit_2)
{
	cr_assert(eq(int, run("bus gc --older-than=2x"), 2));
	cr_assert(eq(str, err, "barbus-bus: --older-than: '2x': a duration "
	             "expected (90s, 10m, 2h, 1d)\nTry 'barbus-bus --help'.\n"));
}

Test(status_cli, bus_flag_of_another_command_names_it_exit_2)
{
	cr_assert(eq(int, run("bus list --force"), 2));
	cr_assert(eq(str, err, "barbus-bus: --force: only with rm\n"
	             "Try 'barbus-bus --help'.\n"));
}

Test(status_cli, bus_unknown_command_named_exit_2)
{
	cr_assert(eq(int, run("bus frob"), 2));
	cr_assert(eq(str, err, "barbus-bus: frob: unknown command\n"
	             "Try 'barbus-bus --help'.\n"));
}

Test(status_cli, bus_rm_of_no_bus_is_a_runtime_error_exit_1)
{
	cr_assert(eq(int, run("bus rm t-cli-%d --force", (int)getpid()), 1));
	char want[96];
	snprintf(want, sizeof(want), "barbus-bus: bus t-cli-%d: no such bus\n",
	         (int)getpid());
	cr_assert(eq(str, err, want));
}
