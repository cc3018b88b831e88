/*
 * wake.h: blocking for readers over a shared futex word, without costing the
 * writer a system call unless somebody sleeps.
 *
 * The word lives in its own small segment ("wake"), the only shared memory
 * a reader writes: a sleeping reader sets the WAITERS bit; the writer clears
 * it and wakes everyone. A reader that dies asleep leaves the bit set, which
 * costs the writer exactly one spurious wake. Nothing else depends on it.
 */
#ifndef BB_WAKE_H
#define BB_WAKE_H

#include <stdatomic.h>
#include <stdint.h>

#define BB_WAKE_WAITERS 1u /* bit 0; bits 1-31 count wakes */

/*
 * Writer, once at start: register for membarrier(GLOBAL_EXPEDITED). On
 * success (returns 1) the writer may publish head with a plain release store
 * and a compiler barrier: a sleeper's membarrier() call stands in for the
 * CPU fence the writer no longer pays on every put (asymmetric Dekker, as
 * in liburcu). Returns 0 when the kernel lacks it: then head is seq_cst.
 */
int bb__wake_register_writer(void);

/* Clear WAITERS and wake every sleeper; seen is the word as last loaded. */
void bb__wake_all(_Atomic uint32_t *word, uint32_t seen);

/* Writer, after publishing: wake all sleepers if any announced itself. */
static inline void bb__wake_check(_Atomic uint32_t *word)
{
	uint32_t w = atomic_load_explicit(word, memory_order_seq_cst);

	if (__builtin_expect(w & BB_WAKE_WAITERS, 0))
		bb__wake_all(word, w);
}

/*
 * Reader: announce a sleeper, then sleep unless ready() (re-checked after
 * the announcement, sequentially consistent with the writer's publish) says
 * data arrived. Returns 0 after a wake or when ready, ETIMEDOUT, or EINTR.
 */
int bb__wake_wait(_Atomic uint32_t *word, int (*ready)(void *), void *arg,
                  int64_t timeout_ns);

#endif /* BB_WAKE_H */
