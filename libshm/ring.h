/* ring.h: ring segment layout shared by the writer (ring.c) and readers
 * (ring_reader.c). */
#ifndef BB_RING_H
#define BB_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "seg.h"
#include "seqlock.h"

#define BB_RING_DEFAULT_CAP (1u << 16)
#define BB_RING_MAX_CAP     (1ull << 32)
/* No writer gets past this (146 years at 10^9 records/s); a head or a
 * generation beyond it is damage, and 2p + 2 cannot wrap below it. */
#define BB_RING_MAX_POS     (1ull << 62)

/* One cache line after the segment header, written only by the writer. */
struct bb__ring_ctl {
	_Atomic uint64_t head;    /* 0: next position to be written */
	_Atomic uint32_t wake_id; /* 8: System V shm id of the wake word + 1;
	                             0: none yet (see wake.h) */
	uint8_t          pad[52];
};
_Static_assert(sizeof(struct bb__ring_ctl) == 64, "ring control line");

uint64_t bb__ring_bytes(uint64_t cap);
/* Ring geometry of a header already passed bb__seg_hdr_check(). */
int      bb__ring_geom_check(const struct bb__seg_hdr *h);

/* The writer's last complete record (resuming after a restart); BB_EEMPTY. */
int      bb__ring_writer_last(const bb_ring_writer *w, bb_bar *out);

/*
 * bb_ring_put() in two halves, for a writer with many records at hand: each
 * bb__ring_write() completes its slot (a reader polling the slots sees it
 * at once), bb__ring_publish() stores the head and wakes sleeping readers,
 * once for all the records written since the last put or publish. A
 * writer killed in between loses nothing: a restarted one recovers the
 * head from the complete slots (recover_head() in ring.c).
 */
void     bb__ring_write(bb_ring_writer *w, const bb_bar *rec);
void     bb__ring_publish(bb_ring_writer *w);

/*
 * The writer's complete records, newest first, to fn until it returns
 * non-zero (which is returned). 0 when the ring's records ran out, oldest
 * ones excepted (they may be under rewrite).
 */
int      bb__ring_writer_scan_back(const bb_ring_writer *w,
                                   int (*fn)(void *arg, const bb_bar *rec),
                                   void *arg);

static inline struct bb__ring_ctl *bb__ring_ctl(const struct bb__seg *s)
{
	return (struct bb__ring_ctl *)((char *)s->hdr + BB_SEG_HDR_LEN);
}

static inline struct bb__slot *bb__ring_slots(const struct bb__seg *s)
{
	return (struct bb__slot *)(bb__ring_ctl(s) + 1);
}

/* The wake segment id recorded in the ring, or -1. */
static inline int bb__ring_wake_id(const struct bb__ring_ctl *c)
{
	/* Acquire pairs with the release store in the ring writer's open. */
	uint32_t v = atomic_load_explicit(&c->wake_id, memory_order_acquire);

	return v == 0 || v > (uint32_t)INT32_MAX + 1u ? -1 : (int)(v - 1);
}

/* bb_ring_writer_open(), with beat called while a fresh ring's pages are
 * stored to (bus_writer.c: the control segment beaten meanwhile). */
int bb__ring_writer_open(bb_ring_writer **out, const char *bus,
                         const bb_seg_opts *opts, struct bb__beat beat);

#endif /* BB_RING_H */
