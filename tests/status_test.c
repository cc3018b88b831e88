/* status_test.c: barbus-status's verdict and renderers (readers/status_*.h)
 * on made-up snapshots, one behaviour per test. The programs themselves,
 * on real buses: tests/stress/status_tool.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

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
