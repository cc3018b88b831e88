/*
 * settings_bus.c: the settings every writer of a bus takes alike (the bus
 * name, the mode and the group of its segments), checked once for the
 * coordinator's and the upkeep's tables. See settings.h.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "barbus.h"
#include "error.h"
#include "settings.h"

int bb__settings_check_bus(const char *v, char *reason, size_t len)
{
	if (bb_bus_name_check(v) == 0)
		return 0;
	return bb__fail(reason, len, "invalid bus name '%s' (expected "
	                "[A-Za-z0-9_-]{1,%d})", v, BB_NAME_MAX);
}

/* Octal permission bits; the owner keeps rw so a restart can re-attach. */
int bb__settings_parse_mode(void *dst, const char *v, char *reason,
                            size_t len)
{
	size_t n = strlen(v);
	unsigned long m;

	if (n == 0 || n > 4 || strspn(v, "01234567") != n)
		return bb__fail(reason, len, "'%s' is not an octal mode like 0640", v);
	m = strtoul(v, NULL, 8);
	if (m > 0777)
		return bb__fail(reason, len, "'%s' has bits other than permissions "
		                "(at most 0777)", v);
	if ((m & 0600) != 0600)
		return bb__fail(reason, len, "'%s' denies the owner read and write",
		                v);
	*(mode_t *)dst = (mode_t)m;
	return 0;
}

/* gid of group name; ENOENT when there is none. getgrnam_r, not getgrnam:
 * the result lives in our buffer, not in libc's static one. */
static int group_lookup(const char *name, gid_t *gid)
{
	long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t size = hint > 0 ? (size_t)hint : 1024;
	struct group gr, *res = NULL;
	char *buf = NULL;
	int rc;

	do {
		char *nbuf = realloc(buf, size);
		if (nbuf == NULL) {
			free(buf);
			return ENOMEM;
		}
		buf = nbuf;
		rc = getgrnam_r(name, &gr, buf, size, &res);
		size *= 2;
	} while (rc == ERANGE && size <= (1u << 20));
	if (rc == 0 && res == NULL)
		rc = ENOENT;
	if (rc == 0)
		*gid = gr.gr_gid;
	free(buf);
	return rc;
}

/* Group name or numeric gid; "" leaves the group as created (gid 0). */
int bb__settings_parse_group(void *dst, const char *v, char *reason,
                             size_t len)
{
	uint64_t n;
	gid_t gid = 0;
	int rc;

	if (v[0] == '\0') {
		*(gid_t *)dst = 0;
		return 0;
	}
	if (strspn(v, "0123456789") == strlen(v)) {
		if (bb__settings_parse_uint(v, 0, (gid_t)-2, &n, reason, len) != 0)
			return BB_EINVAL;
		*(gid_t *)dst = (gid_t)n;
		return 0;
	}
	if ((rc = group_lookup(v, &gid)) == ENOENT)
		return bb__fail(reason, len, "no such group '%s'", v);
	if (rc != 0)
		return bb__fail(reason, len, "group '%s': %s", v, strerror(rc));
	*(gid_t *)dst = gid;
	return 0;
}
