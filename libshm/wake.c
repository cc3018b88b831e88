/* wake.c: the futex half of wake.h. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wake.h"

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val,
                  const struct timespec *ts)
{
	/* Shared (not FUTEX_PRIVATE): the word is in a MAP_SHARED segment
	 * and waiters are other processes. */
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

int bb__wake_register_writer(void)
{
	return syscall(SYS_membarrier,
	               MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
}

void bb__wake_all(_Atomic uint32_t *word, uint32_t seen)
{
	/* A plain store is enough: a reader's CAS racing with it fails and
	 * re-checks, or succeeds first and then sleeps on a value this store
	 * has already changed, so FUTEX_WAIT returns at once. */
	atomic_store_explicit(word, (seen & ~BB_WAKE_WAITERS) + 2,
	                      memory_order_seq_cst);
	futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

int bb__wake_wait(_Atomic uint32_t *word, int (*ready)(void *), void *arg,
                  int64_t timeout_ns)
{
	uint32_t w = atomic_load_explicit(word, memory_order_relaxed);

	if (!(w & BB_WAKE_WAITERS)) {
		/* seq_cst CAS, then the seq_cst load inside ready(): with the
		 * writer's seq_cst publish followed by its seq_cst load in
		 * bb__wake_check(), one of the two sides sees the other. */
		if (!atomic_compare_exchange_strong_explicit(word, &w,
		    w | BB_WAKE_WAITERS, memory_order_seq_cst,
		    memory_order_relaxed))
			return 0; /* word moved: the writer was just here */
		w |= BB_WAKE_WAITERS;
	}
	/* Every registered writer executes a full barrier before this
	 * returns, so its head store is visible to ready() below unless
	 * its wake-word load comes after our CAS (and then sees WAITERS).
	 * Fails harmlessly where unsupported: such writers use seq_cst. */
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
	if (ready(arg))
		return 0;
	struct timespec ts = {
		.tv_sec = timeout_ns / 1000000000,
		.tv_nsec = timeout_ns % 1000000000,
	};
	if (futex(word, FUTEX_WAIT, w, &ts) == 0 || errno == EAGAIN)
		return 0;
	return errno;
}
