/* control.c: the control segment's records; see control.h. */
#include <string.h>

#include "control.h"

/* Words of the replay set of a directory of max_syms. */
static uint64_t replay_words(uint64_t max_syms)
{
	return (max_syms + 63) / 64;
}

uint64_t bb__ctl_bytes(uint64_t max_syms)
{
	return BB_SEG_HDR_LEN + sizeof(struct bb__ctl) +
	       max_syms * BB_CTL_NAME_LEN + replay_words(max_syms) * 8;
}

/* The replay set: right after the directory (8-byte aligned: names are
 * 32 bytes each). */
static _Atomic uint64_t *replay_set(const struct bb__ctl *c, uint64_t max_syms)
{
	return (_Atomic uint64_t *)(void *)((char *)c->names +
	                                    max_syms * BB_CTL_NAME_LEN);
}

void bb__ctl_set_replayed(struct bb__ctl *c, uint64_t max_syms,
                          const uint32_t *ids, size_t n)
{
	_Atomic uint64_t *w = replay_set(c, max_syms);

	/* While the set is rewritten, readers take every symbol as
	 * replayed (the count says 0). */
	atomic_store_explicit(&c->counters[BB_CTR_REPLAYED_SYMBOLS], 0,
	                      memory_order_relaxed);
	for (uint64_t i = 0; i < replay_words(max_syms); i++)
		atomic_store_explicit(&w[i], 0, memory_order_relaxed);
	uint64_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= max_syms)
			continue;
		uint64_t v = atomic_load_explicit(&w[ids[i] / 64],
		                                  memory_order_relaxed);
		if (!(v >> (ids[i] % 64) & 1))
			count++;
		atomic_store_explicit(&w[ids[i] / 64], v | 1ull << (ids[i] % 64),
		                      memory_order_relaxed);
	}
	/* Release pairs with the acquire load in bb__ctl_replayed(): a count
	 * seen is a set fully written. */
	atomic_store_explicit(&c->counters[BB_CTR_REPLAYED_SYMBOLS], count,
	                      memory_order_release);
}

int bb__ctl_replayed(const struct bb__ctl *c, uint64_t max_syms, uint32_t sym)
{
	/* Acquire pairs with the release store in bb__ctl_set_replayed(). */
	uint64_t n = atomic_load_explicit(&c->counters[BB_CTR_REPLAYED_SYMBOLS],
	                                  memory_order_acquire);

	if (n == 0)
		return 1;
	if (sym >= max_syms)
		return 0;
	return (int)(atomic_load_explicit(&replay_set(c, max_syms)[sym / 64],
	                                  memory_order_relaxed) >> (sym % 64) & 1);
}

int bb__ctl_geom_check(const struct bb__seg_hdr *h)
{
	uint64_t syms = h->geom[BB_CTL_G_SYMS];

	if (syms == 0 || syms > BB_CTL_MAX_SYMS ||
	    h->geom[BB_CTL_G_BLOCKS] > BB_CTL_MAX_BLOCKS ||
	    h->geom[BB_CTL_G_ROWS] == 0 || h->geom[BB_CTL_G_ROWS] > (1u << 24))
		return BB_EGEOMETRY;
	return h->total_len == bb__ctl_bytes(syms) ? 0 : BB_EGEOMETRY;
}

/* Seqlock generations of single-record slots only grow. */
static void slot_update(struct bb__slot *s, const void *rec)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	bb__slot_write(s, seq == 0 ? 0 : bb__seq_gen(seq) + 1, rec);
}

/* A whole record from a single-record slot, or BB_ERETRY / BB_ENOTREADY. */
static int slot_get(const struct bb__slot *s, void *out)
{
	for (int i = 0; i < 10000; i++) {
		uint64_t seq = bb__slot_read(s, out);
		if (seq == 0)
			return BB_ENOTREADY;
		if (!(seq & 1))
			return 0;
	}
	return BB_ERETRY;
}

void bb__ctl_set_status(struct bb__ctl *c, const bb_status *st)
{
	slot_update(&c->status, st);
}

void bb__ctl_add(struct bb__ctl *c, int counter, uint64_t n)
{
	/* Single writer: a relaxed load and store is an atomic increment
	 * here, without the locked instruction. */
	uint64_t v = atomic_load_explicit(&c->counters[counter],
	                                  memory_order_relaxed);
	atomic_store_explicit(&c->counters[counter], v + n, memory_order_relaxed);
}

void bb__ctl_set(struct bb__ctl *c, int counter, uint64_t v)
{
	atomic_store_explicit(&c->counters[counter], v, memory_order_relaxed);
}

void bb__ctl_set_block(struct bb__ctl *c, uint32_t k, const struct bb__block *b)
{
	slot_update(&c->blocks[k], b);
}

void bb__ctl_set_transition(struct bb__ctl *c, uint64_t session, uint64_t ns)
{
	atomic_store_explicit(&c->transitions[session % BB_TRANSITIONS], ns,
	                      memory_order_relaxed);
}

int bb__ctl_add_symbol(struct bb__ctl *c, uint64_t max_syms, const char *name)
{
	uint64_t n = atomic_load_explicit(&c->nsym, memory_order_relaxed);

	if (n >= max_syms)
		return BB_EFULL;
	memset(c->names[n], 0, BB_CTL_NAME_LEN);
	strncpy(c->names[n], name, BB_CTL_NAME_LEN - 1);
	/* Release pairs with the acquire load of nsym by readers: a name
	 * counted is a name fully written (names never change after). */
	atomic_store_explicit(&c->nsym, n + 1, memory_order_release);
	return 0;
}

int bb__ctl_dir_check(const struct bb__ctl *c, uint64_t max_syms,
                      uint64_t *bad)
{
	/* Acquire pairs with the release in bb__ctl_add_symbol(). */
	uint64_t n = atomic_load_explicit(&c->nsym, memory_order_acquire);

	*bad = UINT64_MAX;
	if (n > max_syms)
		return BB_ECORRUPT;
	for (uint64_t i = 0; i < n; i++)
		if (memchr(c->names[i], '\0', BB_CTL_NAME_LEN) == NULL ||
		    bb_symbol_check(c->names[i]) != 0) {
			*bad = i;
			return BB_ECORRUPT;
		}
	return 0;
}

int bb__ctl_status(const struct bb__ctl *c, bb_status *out)
{
	return slot_get(&c->status, out);
}

int bb__ctl_block(const struct bb__ctl *c, uint32_t k, struct bb__block *out)
{
	return slot_get(&c->blocks[k], out);
}
