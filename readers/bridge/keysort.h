/*
 * keysort.h: a stable sort of (key, index) pairs by key, in linear time:
 * the publisher groups a snapshot's pending bars by the frame (minute)
 * each goes in.
 */
#ifndef BR_KEYSORT_H
#define BR_KEYSORT_H

#include <stddef.h>
#include <stdint.h>

struct br_keyed {
	uint64_t key;
	size_t   i;
};

/*
 * Sort k[0..n) by key, pairs of equal keys in their order (an LSD radix
 * sort, a byte at a time up to the highest byte of top, which no key
 * exceeds: three passes for a session's seconds). tmp holds n pairs.
 * Returns where the sorted pairs are: k or tmp.
 */
struct br_keyed *br_keysort(struct br_keyed *k, struct br_keyed *tmp,
                            size_t n, uint64_t top);

#endif /* BR_KEYSORT_H */
