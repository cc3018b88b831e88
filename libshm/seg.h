/*
 * seg.h: the segment header every barbus shared-memory object starts with,
 * and the create / re-attach / open / validate / liveness operations on it.
 * One mechanism for every role; role modules add their own geometry checks.
 */
#ifndef BB_SEG_H
#define BB_SEG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "barbus.h"
#include "clock.h"

#define BB_MAGIC          0x3130535542524142ull /* "BARBUS01" little-endian */
#define BB_LAYOUT_VERSION 3u
#define BB_SEG_HDR_LEN    128u   /* body starts here, cache-line aligned */
#define BB_SEG_NAME_MAX   (1 + 7 + BB_NAME_MAX + 1 + 16 + 1)
#define BB_GEOM_WORDS     4
#define BB_SEG_PATH_MAX   256u   /* directory + name */
#define BB_SEG_WHY_MAX    160u
#define BB_HEARTBEAT_MAX_MS 3600000u /* an hour: readers probe this often */

enum bb__role {
	BB_ROLE_RING = 1,
	BB_ROLE_WAKE = 2,   /* layout 1 before the SysV wake word: retired */
	BB_ROLE_TABLE = 3,
	BB_ROLE_CONTROL = 4,
};

enum bb__seg_state {
	BB_SEG_RUNNING = 1, /* writer attached */
	BB_SEG_STOPPED = 2, /* writer closed it cleanly */
};

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

/*
 * Bytes 0-63 are written once at creation and published by the release
 * store of `version`; bytes 64-127 change while the writer runs.
 */
struct bb__seg_hdr {
	uint64_t          magic;        /*  0: BB_MAGIC */
	_Atomic uint32_t  version;      /*  8: 0 until published */
	uint32_t          role;         /* 12: enum bb__role */
	uint64_t          total_len;    /* 16: bytes in the object */
	uint32_t          hdr_len;      /* 24: BB_SEG_HDR_LEN */
	uint32_t          heartbeat_ms; /* 28: writer beats at least this often */
	uint64_t          geom[BB_GEOM_WORDS]; /* 32: role-specific geometry */
	_Atomic uint64_t  epoch;        /* 64: bumped by each writer attach */
	_Atomic int64_t   heartbeat_ns; /* 72: CLOCK_MONOTONIC of last beat */
	_Atomic int32_t   writer_pid;   /* 80: informational only */
	_Atomic uint32_t  state;        /* 84: enum bb__seg_state */
	int64_t           created_ns;   /* 88: CLOCK_REALTIME at creation */
	uint8_t           pad[32];      /* 96 */
};
_Static_assert(sizeof(struct bb__seg_hdr) == BB_SEG_HDR_LEN, "header size");

/* A mapped segment. fd stays open: the writer's lock, the reader's probe. */
struct bb__seg {
	struct bb__seg_hdr *hdr;
	size_t              len;
	int                 fd;
	int                 how;  /* writer: enum bb__seg_attach */
	char                name[BB_SEG_NAME_MAX];
	char                path[BB_SEG_PATH_MAX]; /* dir + name */
};

/* What a writer wants the segment to look like. */
/* Called every BB__BEAT_PAGES pages while a fresh segment's pages are
 * stored to: a writer making several segments keeps one it published
 * already beating, so that it is not taken for stuck meanwhile. */
struct bb__beat {
	void (*fn)(void *ctx);
	void  *ctx;
};
#define BB__BEAT_PAGES 4096 /* 16 MiB: about 20 ms here */

struct bb__seg_spec {
	const char *role_name;          /* "ring", "wake", ... */
	uint32_t    role;
	uint64_t    geom[BB_GEOM_WORDS];
	uint64_t    total_len;
	uint32_t    heartbeat_ms;
	mode_t      mode;
	gid_t       group;
	unsigned    flags;              /* bb_seg_flags */
	struct bb__beat beat;           /* while its pages are stored to */
};

enum bb__seg_attach {
	BB_SEG_CREATED  = 0, /* fresh object: body is zero, header unpublished */
	BB_SEG_ATTACHED = 1, /* same geometry: body kept for the new writer */
	BB_SEG_REPLACED = 2, /* leftover of another layout unlinked, new one made */
};

/* "/barbus.<bus>.<role>"; BB_ENAME for an invalid bus or role name. */
int  bb__seg_name(char *buf, size_t len, const char *bus, const char *role);
/*
 * The file of segment name: $BB_SHM_DIR (an absolute directory, for tests
 * that run a bus on a small tmpfs) or /dev/shm, then name. BB_ENAME when
 * BB_SHM_DIR is relative or too long.
 */
int  bb__seg_path(char *buf, size_t len, const char *name);
/* Header checks only, no syscalls: 0 or a BB_E* code. */
int  bb__seg_hdr_check(const struct bb__seg_hdr *h, size_t len, uint32_t role);
/*
 * Everything a reader or a re-attaching writer relies on in a mapped
 * segment of role `role` (header, role geometry, and the body fields whose
 * damage would make readers fail for good): 0 or a BB_E* code, and then a
 * reason in why (if not NULL). No syscalls: buf may be any bytes, so a
 * fuzzer can feed it directly. bb__seg_validate_fd() maps fd read-only
 * first (regular files only).
 */
int  bb__seg_validate(const void *buf, size_t len, uint32_t role,
                      char *why, size_t why_len);
int  bb__seg_validate_fd(int fd, uint32_t role, char *why, size_t why_len);
/* Report a replaced or refused segment through bb_seg_notify_set()'s hook. */
void bb__seg_note(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Writer: take the writer lock on segment (bus, spec->role_name), creating
 * or re-attaching it; *how says which (enum bb__seg_attach). An existing
 * object is adopted only if it is a regular file owned by our effective
 * uid (else BB_EOWNER, reported through the notify hook with its owner and
 * mode); its mode and group are applied again. A damaged one, or something
 * else of ours at its path (a directory, a FIFO), is replaced and the
 * reason reported; one that cannot be replaced is named in the report. A created
 * segment must be published with bb__seg_publish() once its body is ready.
 * Either way the caller then calls bb__seg_writer_start().
 */
int  bb__seg_writer_open(struct bb__seg *s, const char *bus,
                         const struct bb__seg_spec *spec, int *how);
void bb__seg_publish(struct bb__seg *s);
/* Bump the epoch, record pid, beat, mark running; returns the new epoch. */
uint64_t bb__seg_writer_start(struct bb__seg *s);
void bb__seg_beat(struct bb__seg *s);
/* Writer: mark stopped, unmap, release the lock. */
void bb__seg_writer_close(struct bb__seg *s);
/* Writer: as close, and unlink the object if this writer created it
 * (undoing a half-made bus after a later segment failed). */
void bb__seg_writer_discard(struct bb__seg *s);
/* Unlink segment (bus, role) if it is a regular file of ours (a retired
 * role's leftover). */
void bb__seg_remove_ours(const char *bus, const char *role);
/* Reader: map read-only (or read-write with BB__SEG_RW) and validate. */
#define BB__SEG_RW 1u
int  bb__seg_reader_open(struct bb__seg *s, const char *bus,
                         const char *role_name, uint32_t role, unsigned flags);
void bb__seg_reader_close(struct bb__seg *s);
/* enum bb_writer_state, from the writer lock and the heartbeat age. */
int  bb__seg_writer_state(const struct bb__seg *s, pid_t *pid);

#endif /* BB_SEG_H */
