/*
 * validate.c: everything readers and re-attaching writers rely on in a
 * mapped segment, per role, with no syscalls (so any bytes can be fed in).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "control.h"
#include "ring.h"
#include "table.h"

static int say(char *why, size_t n, int rc, const char *detail)
{
	if (why != NULL && n > 0)
		snprintf(why, n, "%s%s%s", bb_strerror(rc),
		         detail[0] ? ": " : "", detail);
	return rc;
}

/* The symbol directory: a count within the geometry, each name valid. */
static int control_body(const struct bb__seg_hdr *h, char *why, size_t n)
{
	char detail[96];
	uint64_t bad = 0;
	const struct bb__ctl *c = (const struct bb__ctl *)
		((const char *)h + BB_SEG_HDR_LEN);
	int rc = bb__ctl_dir_check(c, h->geom[BB_CTL_G_SYMS], &bad);

	if (rc == 0)
		return 0;
	if (bad == UINT64_MAX)
		snprintf(detail, sizeof(detail), "symbol directory counts %llu "
		         "names, room for %llu",
		         (unsigned long long)atomic_load_explicit(&c->nsym,
		         memory_order_relaxed),
		         (unsigned long long)h->geom[BB_CTL_G_SYMS]);
	else
		snprintf(detail, sizeof(detail), "symbol directory entry %llu "
		         "is not a symbol name", (unsigned long long)bad);
	return say(why, n, rc, detail);
}

int bb__seg_validate(const void *buf, size_t len, uint32_t role,
                     char *why, size_t n)
{
	const struct bb__seg_hdr *h = buf;
	struct bb__table_geom g;
	int rc = bb__seg_hdr_check(h, len, role);

	if (rc != 0)
		return say(why, n, rc, "");
	switch (role) {
	case BB_ROLE_RING:
		rc = bb__ring_geom_check(h);
		if (rc == 0 && atomic_load_explicit(&((const struct bb__ring_ctl *)
		    ((const char *)h + BB_SEG_HDR_LEN))->head,
		    memory_order_relaxed) > BB_RING_MAX_POS)
			return say(why, n, BB_ECORRUPT, "ring head past any "
			           "position a writer reaches");
		break;
	case BB_ROLE_TABLE:
		rc = bb__table_geom(h, &g);
		break;
	case BB_ROLE_CONTROL:
		rc = bb__ctl_geom_check(h);
		if (rc == 0)
			return control_body(h, why, n);
		break;
	default:
		break; /* no role-specific checks */
	}
	return rc == 0 ? 0 : say(why, n, rc, "");
}

int bb__seg_validate_fd(int fd, uint32_t role, char *why, size_t n)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return say(why, n, BB_EOWNER, "not a regular file");
	if (st.st_size < (off_t)sizeof(struct bb__seg_hdr))
		return say(why, n, st.st_size == 0 ? BB_ENOTREADY :
		           BB_ETRUNCATED, "file size");
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	int rc = bb__seg_validate(p, (size_t)st.st_size, role, why, n);
	munmap(p, (size_t)st.st_size);
	return rc;
}
