/*
 * tmpdir.h: a fresh directory under /tmp for one Criterion test, and its
 * removal with everything in it. Header-only, for the Criterion suites.
 */
#ifndef BB_TEST_TMPDIR_H
#define BB_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int tmpdir_rm_one(const char *p, const struct stat *s, int f,
                         struct FTW *w)
{
	(void)s, (void)f, (void)w;
	return remove(p);
}

/* /tmp/bb-<tag>-XXXXXX made, its name into dir (n bytes). */
static inline void tmpdir_make(char *dir, size_t n, const char *tag)
{
	snprintf(dir, n, "/tmp/bb-%s-XXXXXX", tag);
	cr_assert(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
}

/* dir and everything below it removed. */
static inline void tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* BB_TEST_TMPDIR_H */
