/* keysort.c: a stable radix sort of (key, index) pairs; see keysort.h. */
#include "keysort.h"

struct br_keyed *br_keysort(struct br_keyed *k, struct br_keyed *tmp,
                            size_t n, uint64_t top)
{
	for (unsigned sh = 0; sh < 64 && (top >> sh) != 0; sh += 8) {
		size_t at[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			at[((k[i].key >> sh) & 255) + 1]++;
		for (int b = 0; b < 256; b++)
			at[b + 1] += at[b];
		for (size_t i = 0; i < n; i++)
			tmp[at[(k[i].key >> sh) & 255]++] = k[i];
		struct br_keyed *x = k;
		k = tmp;
		tmp = x;
	}
	return k;
}
