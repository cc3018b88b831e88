/*
 * seqlock.h: the one seqlock of barbus. A slot is a 64-bit sequence word and
 * a bb_bar payload of seven 64-bit words; every shared slot (ring, tables)
 * is this struct and is read and written only through these functions.
 *
 * The sequence word of a slot holding generation g is 2g+2 once complete
 * and 2g+1 while being written; 0 means never written. Which generation a
 * slot should hold is the caller's business (ring position, table row).
 *
 * Writer: odd seq, release fence, relaxed payload stores, release even seq.
 * Reader: acquire seq, relaxed payload loads, acquire fence, re-check seq.
 * (H.-J. Boehm, "Can seqlocks get along with programming language memory
 * models?", 2012.) All payload accesses are relaxed atomics so the race the
 * protocol tolerates is defined behaviour, and costs plain moves on x86.
 */
#ifndef BB_SEQLOCK_H
#define BB_SEQLOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "barbus.h"

#define BB_SLOT_WORDS 7

struct bb__slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t w[BB_SLOT_WORDS];
};
_Static_assert(sizeof(bb_bar) == BB_SLOT_WORDS * 8, "bar is 56 bytes");
_Static_assert(sizeof(struct bb__slot) == 64, "slot is one cache line");

static inline uint64_t bb__seq_done(uint64_t gen) { return 2 * gen + 2; }
static inline uint64_t bb__seq_busy(uint64_t gen) { return 2 * gen + 1; }

/*
 * A 56-byte record copied word by word, never wider: a record just stored
 * field by field (or word by word) is still in the store buffer, and a
 * 16-byte load over two 8-byte stores cannot be forwarded from it (it
 * waits for them to reach the cache); one memcpy() of the whole record
 * compiles to such loads.
 */
static inline void bb__rec_copy(void *dst, const void *src)
{
	char *d = (char *)dst;
	const char *r = (const char *)src;

	memcpy(d, r, 8);
	memcpy(d + 8, r + 8, 8);
	memcpy(d + 16, r + 16, 8);
	memcpy(d + 24, r + 24, 8);
	memcpy(d + 32, r + 32, 8);
	memcpy(d + 40, r + 40, 8);
	memcpy(d + 48, r + 48, 8);
}

/* Single writer only. Marks the slot busy, writes the 56-byte record rec
 * (a bb_bar, or another record of that size), publishes gen. */
static inline void bb__slot_write(struct bb__slot *s, uint64_t gen,
                                  const void *rec)
{
	uint64_t v[BB_SLOT_WORDS];

	bb__rec_copy(v, rec); /* the caller's fields, freshly stored */
	atomic_store_explicit(&s->seq, bb__seq_busy(gen), memory_order_relaxed);
	/* Release fence pairs with the reader's acquire fence in
	 * bb__slot_read(): a reader whose loads see any payload word below
	 * also sees the busy mark on its re-check, and discards the copy. */
	atomic_thread_fence(memory_order_release);
	/* Spelled out: compilers do not unroll loops of atomic stores. */
	atomic_store_explicit(&s->w[0], v[0], memory_order_relaxed);
	atomic_store_explicit(&s->w[1], v[1], memory_order_relaxed);
	atomic_store_explicit(&s->w[2], v[2], memory_order_relaxed);
	atomic_store_explicit(&s->w[3], v[3], memory_order_relaxed);
	atomic_store_explicit(&s->w[4], v[4], memory_order_relaxed);
	atomic_store_explicit(&s->w[5], v[5], memory_order_relaxed);
	atomic_store_explicit(&s->w[6], v[6], memory_order_relaxed);
	/* Release pairs with the acquire load of seq in bb__slot_read(). */
	atomic_store_explicit(&s->seq, bb__seq_done(gen), memory_order_release);
}

/*
 * Relaxed loads of the payload words, each stored straight into its place
 * in *out: staging them in a word array and copying that out would make the
 * CPU forward two 8-byte stores into one 16-byte load, which stalls.
 */
static inline void bb__slot_copy(const struct bb__slot *s, void *out)
{
	char *o = (char *)out;
	uint64_t x;

	/* Spelled out: compilers do not unroll loops of atomic loads. */
#define BB__COPY_WORD(i) \
	(x = atomic_load_explicit(&s->w[i], memory_order_relaxed), \
	 memcpy(o + 8 * (i), &x, 8))
	BB__COPY_WORD(0);
	BB__COPY_WORD(1);
	BB__COPY_WORD(2);
	BB__COPY_WORD(3);
	BB__COPY_WORD(4);
	BB__COPY_WORD(5);
	BB__COPY_WORD(6);
#undef BB__COPY_WORD
}

/*
 * Copy the slot into *out if it holds a complete record; returns the
 * sequence word seen (compare with bb__seq_done(gen)). When the payload
 * changed during the copy the return is the first word seen with its busy
 * bit set: never a complete word, so a torn copy is never accepted, and a
 * copy of an older generation torn by the expected write reads as "not
 * yet" rather than as newer.
 */
static inline uint64_t bb__slot_read(const struct bb__slot *s, void *out)
{
	bb_bar tmp;
	/* Acquire pairs with the release store of the even seq in
	 * bb__slot_write(): the payload of that write is visible below. */
	uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);

	if (s1 & 1)
		return s1;
	bb__slot_copy(s, &tmp);
	/* Acquire fence pairs with the writer's release fence after its busy
	 * mark: if any load above saw a newer write, the re-check sees it. */
	atomic_thread_fence(memory_order_acquire);
	uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
	if (s2 != s1)
		return s1 | 1; /* torn: classed by what the first load saw,
		                  marked busy so no caller accepts it */
	bb__rec_copy(out, &tmp); /* tmp's words were stored just now */
	return s1;
}

/*
 * As bb__slot_read(), copying straight into *out: for a caller that only
 * uses *out when the return is a complete word, and tries again (or gives
 * up with an error) otherwise; a torn copy may then be left in *out. Saves
 * bb__slot_read()'s staging copy (seven loads and stores).
 */
static inline uint64_t bb__slot_read_into(const struct bb__slot *s, void *out)
{
	/* Acquire pairs with the release store of the even seq in
	 * bb__slot_write(): the payload of that write is visible below. */
	uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);

	if (s1 & 1)
		return s1;
	bb__slot_copy(s, out);
	/* Acquire fence pairs with the writer's release fence after its busy
	 * mark: if any load above saw a newer write, the re-check sees it. */
	atomic_thread_fence(memory_order_acquire);
	uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
	return s2 == s1 ? s1 : s1 | 1; /* torn: as bb__slot_read() */
}

/*
 * As bb__slot_read() for a caller that wants generation `want` only
 * (want = bb__seq_done(gen)) and may have *out overwritten when it is not
 * there: copied straight into *out, without the staging copy. 1: *out
 * holds it; 0: not (*out may hold anything).
 */
static inline int bb__slot_take(const struct bb__slot *s, uint64_t want,
                                void *out)
{
	/* Acquire pairs with the release store of the even seq in
	 * bb__slot_write(): the payload of that write is visible below. */
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != want)
		return 0;
	bb__slot_copy(s, out);
	/* Acquire fence pairs with the writer's release fence after its busy
	 * mark: if any load above saw a newer write, the re-check sees it. */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == want;
}

/* The generation a slot's sequence word speaks of. */
static inline uint64_t bb__seq_gen(uint64_t seq) { return (seq - 1) / 2; }

#endif /* BB_SEQLOCK_H */
