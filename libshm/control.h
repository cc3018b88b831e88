/*
 * control.h: the control segment ("control"), written by the coordinator:
 * session status, counters, recent transition times, the history block map
 * and the symbol directory. Layout in docs/layout.md.
 */
#ifndef BB_CONTROL_H
#define BB_CONTROL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "seg.h"
#include "seqlock.h"

#define BB_CTL_MAX_BLOCKS 64   /* history blocks (sessions) at most */
#define BB_CTL_NAME_LEN   32   /* directory entry: NUL-padded name */
#define BB_CTL_COUNTERS   32   /* counter words reserved (bb_counter) */
#define BB_CTL_MAX_SYMS   (1u << 20)

_Static_assert(BB_CTR_COUNT <= BB_CTL_COUNTERS, "counter room");
_Static_assert(sizeof(bb_status) == 56, "status fits a slot");

/* The tables the control segment describes: the session table, and
 * history block k (k < the control header's BB_CTL_G_BLOCKS). */
#define BB__ROLE_SESSION "bars.1m"
#define BB__ROLE_MAX     16 /* bytes of a role name buffer */

static inline void bb__hist_role(char *buf, size_t len, uint32_t k)
{
	snprintf(buf, len, "hist.%u", k);
}

/* Where history block k stands: 56 bytes, one slot per block. */
struct bb__block {
	int32_t  date;    /* session date; 0: block unused */
	uint32_t pad0;
	int64_t  open, close;
	uint64_t session; /* bb_status.sessions of that session */
	uint64_t pad[3];
};
_Static_assert(sizeof(struct bb__block) == 56, "block fits a slot");

struct bb__ctl {
	struct bb__slot  status;                        /*    0 */
	_Atomic uint64_t counters[BB_CTL_COUNTERS];     /*   64 */
	_Atomic uint64_t transitions[BB_TRANSITIONS];   /*  320 */
	struct bb__slot  blocks[BB_CTL_MAX_BLOCKS];     /*  832 */
	_Atomic uint64_t nsym;                          /* 4928: directory entries */
	uint8_t          pad[56];
	char             names[][BB_CTL_NAME_LEN];      /* 4992 */
};

/* Geometry words of the control header. */
enum { BB_CTL_G_SYMS = 0, BB_CTL_G_BLOCKS = 1, BB_CTL_G_ROWS = 2 };

/* Header, body, directory, then the replay set: a bit per symbol. */
uint64_t bb__ctl_bytes(uint64_t max_syms);
/* Geometry of a header already passed bb__seg_hdr_check(). */
int      bb__ctl_geom_check(const struct bb__seg_hdr *h);

static inline struct bb__ctl *bb__ctl_body(const struct bb__seg *s)
{
	return (struct bb__ctl *)((char *)s->hdr + BB_SEG_HDR_LEN);
}

/* Writer side (the coordinator): the segment stays owned by the caller. */
void bb__ctl_set_status(struct bb__ctl *c, const bb_status *st);
void bb__ctl_add(struct bb__ctl *c, int counter, uint64_t n);
void bb__ctl_set(struct bb__ctl *c, int counter, uint64_t v);
void bb__ctl_set_block(struct bb__ctl *c, uint32_t k, const struct bb__block *b);
void bb__ctl_set_transition(struct bb__ctl *c, uint64_t session, uint64_t ns);
/* Append a name (ids are dense); BB_EFULL past max_syms. */
int  bb__ctl_add_symbol(struct bb__ctl *c, uint64_t max_syms, const char *name);

static inline uint32_t bb__ctl_nsym(const struct bb__ctl *c)
{
	/* Acquire pairs with the release in bb__ctl_add_symbol(). */
	return (uint32_t)atomic_load_explicit(&c->nsym, memory_order_acquire);
}

/*
 * The symbol directory holds at most max_syms names, each NUL-terminated
 * and a valid symbol: 0, or BB_ECORRUPT with *bad the first bad entry
 * (UINT64_MAX: the count itself).
 */
int  bb__ctl_dir_check(const struct bb__ctl *c, uint64_t max_syms,
                       uint64_t *bad);

/* The symbols a backtest replays (ids; n 0: every symbol), into the
 * replay set and BB_CTR_REPLAYED_SYMBOLS. Ids past max_syms are ignored. */
void bb__ctl_set_replayed(struct bb__ctl *c, uint64_t max_syms,
                          const uint32_t *ids, size_t n);

/* Reader side. */
int  bb__ctl_status(const struct bb__ctl *c, bb_status *out);
/* 1 when sym is published by the run (every symbol unless a subset is). */
int  bb__ctl_replayed(const struct bb__ctl *c, uint64_t max_syms,
                      uint32_t sym);
int  bb__ctl_block(const struct bb__ctl *c, uint32_t k, struct bb__block *out);

#endif /* BB_CONTROL_H */
