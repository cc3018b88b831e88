/* wake.c: the System V segment and the futex halves of wake.h. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/shm.h>
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

/* Owner, mode and group on segment id (ours: we may IPC_SET it). */
static int wake_perms(int id, mode_t mode, gid_t group)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0)
		return errno;
	ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | (mode & 0777);
	if (group != 0 && group != (gid_t)-1)
		ds.shm_perm.gid = group;
	return shmctl(id, IPC_SET, &ds) == 0 ? 0 : errno;
}

/* Is old a wake segment we made (owner, creator, size)? */
static int wake_ours(int old)
{
	struct shmid_ds ds;

	if (old < 0 || shmctl(old, IPC_STAT, &ds) != 0)
		return 0;
	return ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() &&
	       ds.shm_segsz == BB_WAKE_BYTES;
}

int bb__wake_writer_attach(int old, mode_t mode, gid_t group, int *id,
                           _Atomic uint32_t **word)
{
	void *p;

	if (wake_ours(old) && wake_perms(old, mode, group) == 0 &&
	    (p = shmat(old, NULL, 0)) != (void *)-1) {
		*id = old;
		*word = p;
		return 0;
	}
	int n = shmget(IPC_PRIVATE, BB_WAKE_BYTES, IPC_CREAT | IPC_EXCL |
	               (int)(mode & 0777));
	if (n < 0)
		return errno;
	int rc = wake_perms(n, mode, group);
	p = rc == 0 ? shmat(n, NULL, 0) : (void *)-1;
	if (rc == 0 && p == (void *)-1)
		rc = errno;
	/* Removed now, freed when the last process detaches: nothing is
	 * left behind, however the bus's processes end. */
	shmctl(n, IPC_RMID, NULL);
	if (rc != 0)
		return rc;
	*id = n;
	*word = p;
	return 0;
}

int bb__wake_reader_attach(int id, _Atomic uint32_t **word)
{
	void *p = shmat(id, NULL, 0);

	if (p == (void *)-1)
		return errno;
	*word = p;
	return 0;
}

void bb__wake_detach(_Atomic uint32_t *word)
{
	if (word != NULL)
		shmdt((void *)word);
}
