/*
 * ring_batch.c: reading many ring records in one call, for readers whose
 * per-call cost is high (the Python package: one ctypes call per batch
 * instead of one per record). bb_ring_wait_n() is built on bb_ring_wait()
 * and bb_ring_read_n() alone; bb_ring_read_n() is in ring_reader.c, where
 * its loop reads the slots without a call per record.
 */
#include "barbus.h"

int bb_ring_wait_n(bb_ring_reader *r, bb_bar *out, size_t max, size_t *got,
                   uint64_t *lost, int64_t timeout_ns)
{
	if (r == NULL || out == NULL || max == 0 || got == NULL)
		return BB_EINVAL;
	*got = 0;
	int rc = bb_ring_wait(r, out, lost, timeout_ns);
	if (rc != 0)
		return rc;
	size_t more = 0;
	rc = bb_ring_read_n(r, out + 1, max - 1, &more, lost);
	*got = 1 + more;
	return rc;
}
