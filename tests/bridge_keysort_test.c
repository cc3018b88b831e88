/* bridge_keysort_test: the publisher's stable radix sort of (key, index)
 * pairs (readers/bridge/keysort.c), against exact orders. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../readers/bridge/keysort.h"

#define N 20000

static struct br_keyed a[N], tmp[N], want[N];

/* The reference: by key, then by index (the order pairs were given). */
static int by_key_then_index(const void *x, const void *y)
{
	const struct br_keyed *p = x, *q = y;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

Test(keysort, equal_keys_keep_their_order)
{
	static const uint64_t key[] = { 300, 5, 300, 0, 5, 70000, 5 };
	static const size_t order[] = { 3, 1, 4, 6, 0, 2, 5 };
	size_t n = sizeof(key) / sizeof(key[0]);

	for (size_t i = 0; i < n; i++)
		a[i] = (struct br_keyed){ key[i], i };
	struct br_keyed *o = br_keysort(a, tmp, n, 70000);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(o[i].i, order[i], "place %zu holds pair %zu, not %zu",
		             i, o[i].i, order[i]);
		cr_expect_eq(o[i].key, key[order[i]]);
	}
}

Test(keysort, all_keys_zero_are_left_as_they_are)
{
	for (size_t i = 0; i < 100; i++)
		a[i] = (struct br_keyed){ 0, 99 - i };
	struct br_keyed *o = br_keysort(a, tmp, 100, 0);
	cr_assert_eq(o, a);
	for (size_t i = 0; i < 100; i++)
		cr_expect_eq(o[i].i, 99 - i);
}

Test(keysort, keys_of_five_bytes_with_many_equal_match_the_reference)
{
	uint64_t s = 42, top = 0;

	for (size_t i = 0; i < N; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		/* A few hundred distinct keys spread over 40 bits. */
		uint64_t key = ((s >> 33) % 400) * 2749362911ull;
		a[i] = want[i] = (struct br_keyed){ key, i };
		top = key > top ? key : top;
	}
	qsort(want, N, sizeof(want[0]), by_key_then_index);
	struct br_keyed *o = br_keysort(a, tmp, N, top);
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(o[i].key, want[i].key, "place %zu", i);
		cr_assert_eq(o[i].i, want[i].i, "place %zu", i);
	}
}

Test(keysort, one_pass_for_keys_below_256)
{
	static const uint64_t key[] = { 255, 1, 0, 255, 1 };
	static const size_t order[] = { 2, 1, 4, 0, 3 };

	for (size_t i = 0; i < 5; i++)
		a[i] = (struct br_keyed){ key[i], i };
	struct br_keyed *o = br_keysort(a, tmp, 5, 255);
	cr_expect_eq(o, tmp, "one pass leaves the pairs in tmp");
	for (size_t i = 0; i < 5; i++)
		cr_expect_eq(o[i].i, order[i]);
}
