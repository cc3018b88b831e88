/* up_config_test.c: barbus-upkeep's intervals and settings (upkeep/config.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../upkeep/upkeep.h"

static char why[256];

static int iv(const char *s, uint32_t *m)
{
	why[0] = '\0';
	return up_interval_parse(s, m, why, sizeof(why));
}

Test(up_config, minutes_and_hours)
{
	uint32_t m;

	cr_assert(eq(int, iv("5m", &m), 0));
	cr_assert(eq(u32, m, 5));
	cr_assert(eq(int, iv("1h", &m), 0));
	cr_assert(eq(u32, m, 60));
	cr_assert(eq(int, iv("7m", &m), 0));
	cr_assert(eq(int, iv("2m", &m), 0));
}

Test(up_config, one_minute_rejected)
{
	uint32_t m;

	cr_assert(eq(int, iv("1m", &m), BB_EINVAL));
	cr_assert(strstr(why, "'1m'") != NULL);
}

Test(up_config, garbage_rejected_and_named)
{
	static const char *const bad[] = { "5", "m", "5s", "-5m", "5 m", "1.5h",
	                                   "0h", "0m", "25h", "5mm", "" };
	uint32_t m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, iv(bad[i], &m), BB_EINVAL), "%s", bad[i]);
		char q[16];
		snprintf(q, sizeof(q), "'%s'", bad[i]);
		cr_assert(strstr(why, q) != NULL, "%s: %s", bad[i], why);
	}
}

Test(up_config, list_parsed)
{
	struct up_intervals l;

	cr_assert(eq(int, up_intervals_parse("5m, 15m,30m,1h", &l, why,
	                                     sizeof(why)), 0));
	cr_assert(eq(u32, l.n, 4));
	cr_assert(eq(u32, l.min[3], 60));
}

Test(up_config, duplicates_rejected)
{
	struct up_intervals l;

	cr_assert(eq(int, up_intervals_parse("5m,60m,1h", &l, why, sizeof(why)),
	             BB_EINVAL));
	cr_assert(strstr(why, "'1h'") != NULL, "%s", why);
}

Test(up_config, empty_item_rejected)
{
	struct up_intervals l;

	cr_assert(eq(int, up_intervals_parse("5m,", &l, why, sizeof(why)),
	             BB_EINVAL));
	cr_assert(eq(int, up_intervals_parse("5m,,15m", &l, why, sizeof(why)),
	             BB_EINVAL));
}

static int parse(struct up_config *c, char **argv, int argc)
{
	why[0] = '\0';
	return up_config_parse(c, argc, argv, why, sizeof(why));
}

Test(up_config, defaults)
{
	struct up_config c;
	char *argv[] = { "up", "--bus", "b", "--db", "/tmp" };

	cr_assert(eq(int, parse(&c, argv, 5), 0));
	cr_assert(c.enabled);
	cr_assert(c.auto_derive);
	cr_assert(c.retry_missing);
	cr_assert(eq(u32, c.intervals.n, 4));
	cr_assert(eq(u32, c.check_interval_ms, 1000));
	cr_assert(eq(u32, c.max_retries, 5));
	cr_assert(eq(u32, c.retry_backoff_ms, 200));
	cr_assert(eq(int, c.gap_policy, UP_GAP_LEAVE));
}

Test(up_config, bad_interval_flag_named)
{
	struct up_config c;
	char *argv[] = { "up", "--bus", "b", "--db", "/tmp", "--intervals",
	                 "5m,1m" };

	cr_assert(eq(int, parse(&c, argv, 7), BB_EINVAL));
	cr_assert(strstr(why, "--intervals") != NULL, "%s", why);
	cr_assert(strstr(why, "'1m'") != NULL, "%s", why);
}

Test(up_config, file_section_then_flags)
{
	char path[] = "/tmp/up-config-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "[coordinator]\nspeed = max\n[upkeep]\n"
	                   "intervals = 10m,2h\ngap-policy = ffill\n"
	                   "max-retries = 3\nenabled = yes\n";
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct up_config c;
	char *argv[] = { "up", "--config", path, "--bus", "b", "--db", "/tmp",
	                 "--max-retries", "7" };

	cr_assert(eq(int, parse(&c, argv, 9), 0), "%s", why);
	unlink(path);
	cr_assert(eq(u32, c.intervals.n, 2));
	cr_assert(eq(u32, c.intervals.min[1], 120));
	cr_assert(eq(int, c.gap_policy, UP_GAP_FFILL));
	cr_assert(eq(u32, c.max_retries, 7));
}

Test(up_config, bad_key_in_file_named)
{
	char path[] = "/tmp/up-config-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "[upkeep]\nintervals = 5m,90s\n";
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct up_config c;
	char *argv[] = { "up", "--config", path, "--bus", "b", "--db", "/tmp" };

	cr_assert(eq(int, parse(&c, argv, 7), BB_EINVAL));
	unlink(path);
	cr_assert(strstr(why, ":2:") != NULL, "%s", why);
	cr_assert(strstr(why, "'90s'") != NULL, "%s", why);
}

Test(up_config, disabled_needs_nothing_else)
{
	struct up_config c;
	char *argv[] = { "up", "--enabled=false" };

	cr_assert(eq(int, parse(&c, argv, 2), 0), "%s", why);
	cr_assert(not(c.enabled));
}

Test(up_config, bus_required)
{
	struct up_config c;
	char *argv[] = { "up", "--db", "/tmp" };

	cr_assert(eq(int, parse(&c, argv, 3), BB_EINVAL));
	cr_assert(strstr(why, "--bus") != NULL);
}

/* ---- the bus settings shared with the coordinator (settings_bus.c) ------ */

/* --bus b --db /tmp, then flag v: 0 with *c, or BB_EINVAL with why. */
static int parse_with(struct up_config *c, const char *flag, const char *v)
{
	char *argv[] = { "up", "--bus", "b", "--db", "/tmp", (char *)flag,
	                 (char *)v };

	return parse(c, argv, 7);
}

/* flag v is refused with exactly msg. */
static void refused(const char *flag, const char *v, const char *msg)
{
	struct up_config c;

	cr_assert(eq(int, parse_with(&c, flag, v), BB_EINVAL));
	cr_assert(eq(str, why, (char *)msg));
}

Test(up_config, bad_bus_name)
{
	struct up_config c;
	char *argv[] = { "up", "--bus", "a.b", "--db", "/tmp" };

	cr_assert(eq(int, parse(&c, argv, 5), BB_EINVAL));
	cr_assert(eq(str, why, "--bus: invalid bus name 'a.b' (expected "
	             "[A-Za-z0-9_-]{1,64})"));
}

Test(up_config, segment_mode_octal)
{
	struct up_config c;

	cr_assert(eq(int, parse_with(&c, "--segment-mode", "0660"), 0), "%s", why);
	cr_assert(eq(u32, (uint32_t)c.segment_mode, 0660));
}

Test(up_config, segment_mode_rejects_non_permission_bits)
{
	refused("--segment-mode", "4640", "--segment-mode: '4640' has bits "
	        "other than permissions (at most 0777)");
}

Test(up_config, segment_mode_rejects_non_octal)
{
	refused("--segment-mode", "0648", "--segment-mode: '0648' is not an "
	        "octal mode like 0640");
}

Test(up_config, segment_mode_keeps_owner_rw)
{
	refused("--segment-mode", "0440", "--segment-mode: '0440' denies the "
	        "owner read and write");
}

Test(up_config, segment_group_by_name)
{
	struct up_config c;

	cr_assert(eq(int, parse_with(&c, "--segment-group", "root"), 0), "%s",
	          why);
	cr_assert(eq(u32, (uint32_t)c.segment_group, 0));
}

Test(up_config, segment_group_numeric)
{
	struct up_config c;

	cr_assert(eq(int, parse_with(&c, "--segment-group", "1234"), 0), "%s",
	          why);
	cr_assert(eq(u32, (uint32_t)c.segment_group, 1234));
}

Test(up_config, segment_group_unknown)
{
	refused("--segment-group", "no-such-group-bb", "--segment-group: no "
	        "such group 'no-such-group-bb'");
}
