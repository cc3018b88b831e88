/*
 * ring_reader.c: reading the broadcast ring. A reader maps the ring
 * read-only and keeps its position privately; it never writes memory the
 * writer reads (the wake word of a blocking reader is the one exception,
 * see wake.h). Geometry is validated once at open and kept privately, so a
 * writer changing the header later cannot steer a reader outside its map;
 * a slot whose sequence word cannot be the ring's (wrong position, or a
 * generation no writer could have reached) ends the reading with
 * BB_ECORRUPT instead of a lapped loop.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "ring.h"
#include "wake.h"

struct bb_ring_reader {
	struct bb__seg             seg;
	const struct bb__ring_ctl *ctl;
	const struct bb__slot     *slots;
	_Atomic uint32_t          *word; /* BB_WAIT_BLOCK: wake word or &own */
	_Atomic uint32_t           own;  /* no wake segment: a timed sleep */
	int                        wake_id; /* segment attached, or -1 */
	uint64_t                   mask, next;
	int64_t                    beat_ns; /* the writer's heartbeat interval */
	int                        wait;
};

static uint64_t load_head(const struct bb_ring_reader *r)
{
	/* Acquire pairs with the store of head in bb__ring_publish(). */
	return atomic_load_explicit(&r->ctl->head, memory_order_acquire);
}

/*
 * Attach the wake segment the ring names, if it changed (a restarted
 * writer made a new one). Without one (none yet, or its last user left)
 * the reader sleeps on a word of its own: a heartbeat-long timed sleep.
 */
static void attach_wake(bb_ring_reader *r)
{
	int id = bb__ring_wake_id(r->ctl);

	if (r->word != NULL && id == r->wake_id)
		return;
	if (r->word != &r->own)
		bb__wake_detach(r->word);
	r->word = &r->own;
	r->wake_id = -1;
	if (id >= 0 && bb__wake_reader_attach(id, &r->word) == 0)
		r->wake_id = id;
}

static int open_ring(bb_ring_reader *r, const char *bus, int wait)
{
	int rc = bb__seg_reader_open(&r->seg, bus, "ring", BB_ROLE_RING, 0);

	if (rc == 0)
		rc = bb__ring_geom_check(r->seg.hdr);
	if (rc != 0)
		return rc;
	r->ctl = bb__ring_ctl(&r->seg);
	r->slots = bb__ring_slots(&r->seg);
	r->mask = r->seg.hdr->geom[0] - 1;
	r->beat_ns = (int64_t)r->seg.hdr->heartbeat_ms * 1000000;
	if (wait == BB_WAIT_BLOCK)
		attach_wake(r);
	return 0;
}

int bb_ring_reader_open(bb_ring_reader **out, const char *bus, int wait,
                        unsigned flags)
{
	if (wait < BB_WAIT_SPIN || wait > BB_WAIT_BLOCK)
		return BB_EINVAL;
	bb_ring_reader *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ENOMEM;
	r->seg.fd = -1;
	r->wake_id = -1;
	r->wait = wait;
	int rc = open_ring(r, bus, wait);
	if (rc != 0) {
		bb_ring_reader_close(r);
		return rc;
	}
	uint64_t head = load_head(r);
	if (head > BB_RING_MAX_POS) {
		bb_ring_reader_close(r);
		return BB_ECORRUPT;
	}
	r->next = head;
	if (flags & BB_RING_FROM_OLDEST)
		r->next = head > r->mask ? head - r->mask : 0;
	*out = r;
	return 0;
}

void bb_ring_reader_close(bb_ring_reader *r)
{
	if (r == NULL)
		return;
	if (r->seg.hdr != NULL || r->seg.fd >= 0)
		bb__seg_reader_close(&r->seg);
	if (r->word != &r->own)
		bb__wake_detach(r->word);
	free(r);
}

/*
 * Does sequence word seen name a generation of the slot of position p (the
 * same position modulo capacity)? An odd word is a busy generation g, or a
 * torn copy of complete generation g - 1 (bb__slot_read() marks those busy;
 * 1 is then a torn copy of a slot never written, 0).
 */
static int in_slot(const bb_ring_reader *r, uint64_t p, uint64_t seen)
{
	uint64_t g = bb__seq_gen(seen);

	return seen <= 1 || ((g ^ p) & r->mask) == 0 ||
	       ((seen & 1) && (((g - 1) ^ p) & r->mask) == 0);
}

/*
 * Could a writer have left sequence word seen in the slot of position p?
 * In this slot, and at most a batch (< capacity) ahead of head.
 */
static int plausible(const bb_ring_reader *r, uint64_t p, uint64_t seen)
{
	uint64_t g = bb__seq_gen(seen), head = load_head(r);

	return in_slot(r, p, seen) && head <= BB_RING_MAX_POS &&
	       (g <= head || g - head <= r->mask + 1);
}

/*
 * Position p was overwritten. The writer has at least started position
 * p + capacity, so head >= p + capacity once published; the oldest record
 * that can still be intact is head - capacity + 1 (the one at head -
 * capacity may be under rewrite). A head not yet published after a batch
 * (bb__ring_write() in ring.c) lags at most capacity / 2: p alone is then
 * counted lost, and the next read goes on at p + 1. Loss is counted from
 * positions, so it is exact.
 */
static int lapped(bb_ring_reader *r, uint64_t p, uint64_t seen,
                  uint64_t *lost)
{
	if (!plausible(r, p, seen))
		return BB_ECORRUPT;
	uint64_t head = load_head(r);
	uint64_t np = head > r->mask ? head - r->mask : 0;

	if (np <= p)
		np = p + 1;
	if (lost != NULL)
		*lost = np - p;
	r->next = np;
	return BB_ELAPPED;
}

int bb_ring_read(bb_ring_reader *r, bb_bar *out, uint64_t *lost)
{
	uint64_t p = r->next;
	uint64_t want = bb__seq_done(p);
	uint64_t seen = bb__slot_read(&r->slots[p & r->mask], out);

	if (seen == want) {
		r->next = p + 1;
		return 0;
	}
	if (seen > want)
		return lapped(r, p, seen, lost);
	/* Not yet: the slot holds an older generation of this position. */
	return in_slot(r, p, seen) ? BB_EEMPTY : BB_ECORRUPT;
}

/*
 * bb_ring_read() in a loop, the loop inside: records that are there are
 * copied straight into out without a call each; the first that is not is
 * classed by bb_ring_read() itself (it may have been completed meanwhile).
 * out[*got..max) may be written.
 */
int bb_ring_read_n(bb_ring_reader *r, bb_bar *out, size_t max, size_t *got,
                   uint64_t *lost)
{
	size_t n = 0;
	int rc = 0;

	if (r == NULL || (out == NULL && max > 0) || got == NULL)
		return BB_EINVAL;
	while (n < max) {
		uint64_t p = r->next;
		if (bb__slot_take(&r->slots[p & r->mask], bb__seq_done(p),
		                  &out[n])) {
			r->next = p + 1;
			n++;
		} else if ((rc = bb_ring_read(r, &out[n], lost)) == 0) {
			n++;
		} else {
			break;
		}
	}
	*got = n;
	return rc == BB_EEMPTY ? 0 : rc;
}

static int has_data(void *arg)
{
	const bb_ring_reader *r = arg;

	/* seq_cst: the reader half of the Dekker pair in wake.h. */
	return atomic_load_explicit(&r->ctl->head, memory_order_seq_cst) >
	       r->next;
}

#define SPIN_EAGER 1024 /* rounds without PAUSE before pausing */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* One pause of the reader's strategy, at most until deadline. */
static void pause_once(bb_ring_reader *r, unsigned spins, int64_t deadline)
{
	if (r->wait == BB_WAIT_SPIN || (r->wait == BB_WAIT_BLOCK && spins < 256)) {
		/* The first rounds re-read at once: a PAUSE costs tens of ns
		 * on this kind of core, all of it added to the latency. */
		if (spins >= SPIN_EAGER)
			cpu_relax();
		return;
	}
	if (r->wait == BB_WAIT_YIELD) {
		sched_yield();
		return;
	}
	int64_t left = deadline - bb__mono_ns();
	if (left > r->beat_ns)
		left = r->beat_ns;
	if (left > 0)
		bb__wake_wait(r->word, has_data, r, left);
}

static int stopped(const bb_ring_reader *r)
{
	return atomic_load_explicit(&r->seg.hdr->state, memory_order_relaxed)
	       == BB_SEG_STOPPED;
}

int bb_ring_wait(bb_ring_reader *r, bb_bar *out, uint64_t *lost,
                 int64_t timeout_ns)
{
	/* The common case first: a record is there, and no clock is read. */
	int rc = bb_ring_read(r, out, lost);
	if (rc != BB_EEMPTY)
		return rc;
	int64_t now = bb__mono_ns();
	int64_t deadline = timeout_ns < 0 ? INT64_MAX : now + timeout_ns;
	int64_t probe = now + r->beat_ns; /* next writer-liveness check */

	for (unsigned spins = 0;; spins++) {
		pause_once(r, spins, deadline);
		if ((rc = bb_ring_read(r, out, lost)) != BB_EEMPTY)
			return rc;
		/* Only a spinner reads the clock every 256 rounds: one
		 * sched_yield() can cost a whole time slice under load, so
		 * 256 of them would overshoot the timeout and the liveness
		 * probe by up to seconds; a vDSO clock read is cheap next
		 * to the syscall. */
		if (r->wait == BB_WAIT_SPIN && (spins & 255) != 0)
			continue;
		now = bb__mono_ns();
		if (now >= deadline)
			return BB_ETIMEDOUT;
		/* A writer that closed cleanly woke us: probe at once. */
		if (now < probe && !stopped(r))
			continue;
		probe = now + r->beat_ns;
		if (r->wait == BB_WAIT_BLOCK)
			attach_wake(r);
		if (bb__seg_writer_state(&r->seg, NULL) == BB_WRITER_DEAD &&
		    (rc = bb_ring_read(r, out, lost)) == BB_EEMPTY)
			return BB_ENOWRITER;
		if (rc != BB_EEMPTY)
			return rc;
	}
}

uint64_t bb_ring_reader_seq(const bb_ring_reader *r) { return r->next; }

uint64_t bb_ring_epoch(const bb_ring_reader *r)
{
	/* Acquire pairs with the release in bb__seg_writer_start(). */
	return atomic_load_explicit(&r->seg.hdr->epoch, memory_order_acquire);
}

int bb_ring_writer_state(const bb_ring_reader *r, pid_t *pid)
{
	return bb__seg_writer_state(&r->seg, pid);
}
