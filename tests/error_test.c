/* error_test.c: bb_strerror covers every code, errno and LMDB's. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <lmdb.h>

#include "barbus.h"

Test(error, every_code_has_its_own_message)
{
	for (int a = BB_ERR_BASE + 1; a < BB_ERR_END; a++) {
		cr_assert(ne(str, (char *)bb_strerror(a), "unknown error"));
		for (int b = a + 1; b < BB_ERR_END; b++)
			cr_assert(ne(str, (char *)bb_strerror(a),
			             (char *)bb_strerror(b)));
	}
}

Test(error, zero_is_success)
{
	cr_assert(eq(str, (char *)bb_strerror(0), "success"));
}

Test(error, errno_values_pass_through)
{
	cr_assert(eq(str, (char *)bb_strerror(ENOENT), strerror(ENOENT)));
}

Test(error, lmdb_codes_pass_through)
{
	cr_assert(eq(str, (char *)bb_strerror(MDB_MAP_FULL),
	             mdb_strerror(MDB_MAP_FULL)));
}

Test(error, unknown_negative_code_is_named_unknown)
{
	cr_assert(eq(str, (char *)bb_strerror(BB_ERR_END), "unknown error"));
}
