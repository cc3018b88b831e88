/*
 * wake.h: blocking for readers over a shared futex word, without costing the
 * writer a system call unless somebody sleeps.
 *
 * The word lives alone in a System V shared-memory segment, the only shared
 * memory a reader writes: a sleeping reader sets the WAITERS bit; the writer
 * clears it and wakes everyone. A reader that dies asleep leaves the bit set,
 * which costs the writer exactly one spurious wake. Nothing else depends on
 * it, and the writer trusts it no further than "maybe someone sleeps: pay one
 * FUTEX_WAKE", whatever a reader writes there.
 *
 * Why System V: a reader must map the word writable, and a POSIX segment a
 * reader can open writable it can also ftruncate(), which kills the writer
 * with SIGBUS on its next put. A System V segment's size is fixed at
 * creation and only its owner may change or remove it. The writer creates
 * it IPC_PRIVATE (no key for anyone to squat), records its id in the ring's
 * control line, and marks it removed at once (IPC_RMID): Linux lets
 * processes attach by id until the last one detaches, and then frees it,
 * so no segment outlives the bus's last user. A restarted writer re-attaches
 * the id its predecessor recorded while sleeping readers still hold it (they
 * go on being woken), or makes a new one that readers pick up at their next
 * liveness probe. Byte by byte in docs/layout.md.
 */
#ifndef BB_WAKE_H
#define BB_WAKE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define BB_WAKE_WAITERS 1u /* bit 0; bits 1-31 count wakes */
#define BB_WAKE_BYTES   4096u /* one page: the word at offset 0, rest zero */

/*
 * Writer: attach the wake segment `old` if it is still there, ours and of
 * our size (a predecessor's, kept alive by sleeping readers), else create a
 * new one; either way with mode and group applied. *id, *word on success.
 */
int  bb__wake_writer_attach(int old, mode_t mode, gid_t group, int *id,
                            _Atomic uint32_t **word);
/* Reader: attach segment id read-write; 0 or errno. */
int  bb__wake_reader_attach(int id, _Atomic uint32_t **word);
void bb__wake_detach(_Atomic uint32_t *word); /* NULL is a no-op */

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
