/* control.c: the control segment's records; see control.h. */
#include <string.h>

#include "control.h"

uint64_t bb__ctl_bytes(uint64_t max_syms)
{
	return BB_SEG_HDR_LEN + sizeof(struct bb__ctl) +
	       max_syms * BB_CTL_NAME_LEN;
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
