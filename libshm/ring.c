/*
 * ring.c: the single-writer broadcast ring of 64-byte slots.
 *
 * Segment "ring": header, one control line (head, wake segment id), then
 * capacity slots. The futex word of wake.h lives in a System V segment.
 * Position p lives in slot p & (capacity - 1) with generation p, so a reader
 * at p tells "not yet" (older generation), "here" and "lapped" (newer one)
 * from the slot's sequence word alone, without touching a shared cursor.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "ring.h"
#include "wake.h"

struct bb_ring_writer {
	struct bb__seg     seg;
	struct bb__ring_ctl *ctl;
	struct bb__slot    *slots;
	_Atomic uint32_t   *word;
	uint64_t            mask, head, epoch;
	uint64_t            published; /* head as last stored for readers */
	int                 asym; /* sleepers fence for us: see wake.h */
};

static void ring_spec(struct bb__seg_spec *sp, const bb_seg_opts *o,
                      struct bb__beat beat)
{
	uint64_t cap = o && o->capacity ? o->capacity : BB_RING_DEFAULT_CAP;

	*sp = (struct bb__seg_spec){
		.role_name = "ring", .role = BB_ROLE_RING,
		.geom = { cap, sizeof(struct bb__slot), sizeof(bb_bar), 0 },
		.total_len = bb__ring_bytes(cap),
		.heartbeat_ms = o && o->heartbeat_ms ? o->heartbeat_ms : 100,
		.mode = o && o->mode ? o->mode : 0640,
		.group = o ? o->group : 0,
		.flags = o ? o->flags : 0, .beat = beat,
	};
}

uint64_t bb__ring_bytes(uint64_t cap)
{
	return BB_SEG_HDR_LEN + sizeof(struct bb__ring_ctl) +
	       cap * sizeof(struct bb__slot);
}

int bb__ring_geom_check(const struct bb__seg_hdr *h)
{
	uint64_t cap = h->geom[0];

	if (cap < 2 || (cap & (cap - 1)) != 0 || cap > BB_RING_MAX_CAP)
		return BB_EGEOMETRY;
	if (h->geom[1] != sizeof(struct bb__slot) || h->geom[2] != sizeof(bb_bar))
		return BB_EGEOMETRY;
	return h->total_len == bb__ring_bytes(cap) ? 0 : BB_EGEOMETRY;
}

/*
 * After a writer died: continue where it stopped. head may lag the last
 * complete slot by one (death between publish and head store); a slot left
 * busy at head is simply rewritten by the next put, with the same
 * generation, so no reader ever accepts the dead writer's half record.
 */
static uint64_t recover_head(const struct bb_ring_writer *w)
{
	uint64_t p = atomic_load_explicit(&w->ctl->head, memory_order_acquire);

	for (uint64_t i = 0; i <= w->mask; i++, p++) {
		uint64_t s = atomic_load_explicit(&w->slots[p & w->mask].seq,
		                                  memory_order_relaxed);
		if (s != bb__seq_done(p))
			break;
	}
	return p;
}

/* The wake word: the predecessor's segment if it lives on, else a new one;
 * its id recorded for readers before anyone can see this writer. */
static int wake_open(bb_ring_writer *w, const struct bb__seg_spec *sp)
{
	mode_t mode = sp->mode | (sp->mode & 0444) >> 1; /* may read: may wait */
	int id, old = bb__ring_wake_id(w->ctl);
	int rc = bb__wake_writer_attach(old, mode, sp->group, &id, &w->word);

	if (rc != 0) {
		bb__seg_note(w->seg.path, "cannot make its wake word (System V "
		             "shared memory): %s", bb_strerror(rc));
		return rc;
	}
	if (id != old)
		/* Release pairs with the acquire in bb__ring_wake_id(). */
		atomic_store_explicit(&w->ctl->wake_id, (uint32_t)id + 1,
		                      memory_order_release);
	return 0;
}

int bb_ring_writer_open(bb_ring_writer **out, const char *bus,
                        const bb_seg_opts *opts)
{
	return bb__ring_writer_open(out, bus, opts, (struct bb__beat){ 0 });
}

int bb__ring_writer_open(bb_ring_writer **out, const char *bus,
                         const bb_seg_opts *opts, struct bb__beat beat)
{
	struct bb__seg_spec sp;
	int how;

	ring_spec(&sp, opts, beat);
	if (bb__ring_geom_check(&(struct bb__seg_hdr){
		.geom = { sp.geom[0], sp.geom[1], sp.geom[2], 0 },
		.total_len = sp.total_len }) != 0)
		return BB_EINVAL;
	bb_ring_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ENOMEM;
	int rc = bb__seg_writer_open(&w->seg, bus, &sp, &how);
	if (rc == 0) {
		w->ctl = bb__ring_ctl(&w->seg);
		w->slots = bb__ring_slots(&w->seg);
		rc = wake_open(w, &sp);
	}
	if (rc != 0) {
		bb__seg_writer_close(&w->seg);
		free(w);
		return rc;
	}
	/* Layout 1 kept the word in a file readers could truncate. */
	bb__seg_remove_ours(bus, "wake");
	w->mask = sp.geom[0] - 1;
	w->asym = bb__wake_register_writer();
	w->head = how == BB_SEG_ATTACHED ? recover_head(w) : 0;
	atomic_store_explicit(&w->ctl->head, w->head, memory_order_seq_cst);
	w->published = w->head;
	if (how != BB_SEG_ATTACHED)
		bb__seg_publish(&w->seg);
	w->epoch = bb__seg_writer_start(&w->seg);
	*out = w;
	return 0;
}

static void writer_close(bb_ring_writer *w, int discard)
{
	if (w == NULL)
		return;
	if (discard)
		bb__seg_writer_discard(&w->seg);
	else
		bb__seg_writer_close(&w->seg);
	/* After the lock is gone: sleepers woken now find the writer dead
	 * and return BB_ENOWRITER at once, not a heartbeat later. */
	bb__wake_all(w->word, atomic_load_explicit(w->word,
	                                           memory_order_relaxed));
	bb__wake_detach(w->word);
	free(w);
}

void bb_ring_writer_close(bb_ring_writer *w)
{
	writer_close(w, 0);
}

void bb_ring_writer_discard(bb_ring_writer *w)
{
	writer_close(w, 1);
}

void bb_ring_put(bb_ring_writer *w, const bb_bar *rec)
{
	bb_ring_put_n(w, rec, 1);
}

void bb_ring_put_n(bb_ring_writer *w, const bb_bar *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb__ring_write(w, &recs[i]);
	bb__ring_publish(w);
}

void bb__ring_write(bb_ring_writer *w, const bb_bar *rec)
{
	bb__slot_write(&w->slots[w->head & w->mask], w->head, rec);
	w->head++;
	/* Readers take a slot for plausible only a capacity ahead of the
	 * head they read (plausible() in ring_reader.c): never let it lag
	 * that far. */
	if (w->head - w->published > w->mask / 2)
		bb__ring_publish(w);
}

void bb__ring_publish(bb_ring_writer *w)
{
	uint64_t p = w->head;

	w->published = p;
	/* Store head, then load the wake word (bb__wake_check): the Dekker
	 * pair with a sleeper's CAS of that word and its load of head
	 * (has_data() in ring_reader.c), so either it sees this head or we
	 * see its bit. The CPU fence between our store and load is either
	 * seq_cst here or, when registered, the sleeper's membarrier(). */
	if (w->asym) {
		atomic_store_explicit(&w->ctl->head, p, memory_order_release);
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_store_explicit(&w->ctl->head, p, memory_order_seq_cst);
	}
	bb__wake_check(w->word);
}

void bb_ring_beat(bb_ring_writer *w)
{
	bb__seg_beat(&w->seg);
}

uint64_t bb_ring_writer_epoch(const bb_ring_writer *w) { return w->epoch; }

int bb_ring_writer_replaced(const bb_ring_writer *w)
{
	return w->seg.how == BB_SEG_REPLACED;
}
uint64_t bb_ring_writer_seq(const bb_ring_writer *w) { return w->head; }

int bb__ring_writer_last(const bb_ring_writer *w, bb_bar *out)
{
	if (w->head == 0)
		return BB_EEMPTY;
	uint64_t p = w->head - 1;
	/* Single writer reading its own complete slot: no race to lose. */
	return bb__slot_read(&w->slots[p & w->mask], out) == bb__seq_done(p)
	       ? 0 : BB_EEMPTY;
}

int bb__ring_writer_scan_back(const bb_ring_writer *w,
                              int (*fn)(void *arg, const bb_bar *rec),
                              void *arg)
{
	bb_bar rec;
	uint64_t n = w->head < w->mask ? w->head : w->mask;

	for (uint64_t i = 1; i <= n; i++) {
		uint64_t p = w->head - i;
		if (bb__slot_read(&w->slots[p & w->mask], &rec) != bb__seq_done(p))
			return BB_EEMPTY;
		int rc = fn(arg, &rec);
		if (rc != 0)
			return rc;
	}
	return 0;
}
