/*
 * inspect.c: the operators' view of the segments of a bus (barbus-status,
 * barbus-bus): how each writer runs or stopped, the ring's head, every
 * bus in the shared-memory directory, and removing a bus.
 *
 * Read-only like every reader, but for bb_bus_remove(), which unlinks.
 * How a writer stopped comes from two facts a dead process cannot falsify:
 * the OFD writer lock (held while it lives, dropped by the kernel however
 * it dies) and the header's state word (RUNNING until a clean close writes
 * STOPPED). No lock and still RUNNING: the writer died without closing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "seg.h"
#include "wake.h"

#define PREFIX "barbus."

static int run_of(const struct bb__seg *s, int64_t *age_ms)
{
	int ws = bb__seg_writer_state(s, NULL);
	int64_t beat = atomic_load_explicit(&s->hdr->heartbeat_ns,
	                                    memory_order_relaxed);

	*age_ms = (bb__mono_ns() - beat) / 1000000;
	if (ws == BB_WRITER_ALIVE)
		return BB_RUN_RUNNING;
	if (ws == BB_WRITER_STUCK)
		return BB_RUN_STUCK;
	uint32_t st = atomic_load_explicit(&s->hdr->state, memory_order_relaxed);
	return st == BB_SEG_STOPPED ? BB_RUN_STOPPED : BB_RUN_CRASHED;
}

/* The header role a segment of this name has (docs/layout.md). */
static uint32_t role_of(const char *role)
{
	if (strcmp(role, "ring") == 0)
		return BB_ROLE_RING;
	if (strcmp(role, "control") == 0)
		return BB_ROLE_CONTROL;
	return strcmp(role, "wake") == 0 ? BB_ROLE_WAKE : BB_ROLE_TABLE;
}

int bb_seg_inspect(const char *bus, const char *role, bb_seg_info *out)
{
	struct bb__seg s;
	struct stat st;

	*out = (bb_seg_info){ .heartbeat_age_ms = -1 };
	int rc = bb__seg_name(s.name, sizeof(s.name), bus, role);
	if (rc == 0)
		rc = bb__seg_path(s.path, sizeof(s.path), s.name);
	if (rc != 0)
		return rc;
	if (lstat(s.path, &st) != 0)
		return errno;
	out->bytes = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtime;
	if ((out->err = bb__seg_reader_open(&s, bus, role, role_of(role), 0)) != 0)
		return 0;
	int64_t age;
	out->run = (uint32_t)run_of(&s, &age);
	out->pid = atomic_load_explicit(&s.hdr->writer_pid, memory_order_relaxed);
	/* Acquire pairs with the release in bb__seg_writer_start(). */
	out->epoch = atomic_load_explicit(&s.hdr->epoch, memory_order_acquire);
	if (out->run == BB_RUN_RUNNING || out->run == BB_RUN_STUCK)
		out->heartbeat_age_ms = age;
	bb__seg_reader_close(&s);
	return 0;
}

int bb_ring_info_get(const char *bus, bb_ring_info *out)
{
	struct bb__seg s;

	*out = (bb_ring_info){ 0 };
	int rc = bb__seg_reader_open(&s, bus, "ring", BB_ROLE_RING, 0);
	if (rc != 0)
		return rc;
	if ((rc = bb__ring_geom_check(s.hdr)) == 0) {
		out->capacity = s.hdr->geom[0];
		/* Acquire pairs with the writer's release of head. */
		out->head = atomic_load_explicit(&bb__ring_ctl(&s)->head,
		                                 memory_order_acquire);
		/* Acquire pairs with the release in bb__seg_writer_start(). */
		out->epoch = atomic_load_explicit(&s.hdr->epoch,
		                                  memory_order_acquire);
	}
	bb__seg_reader_close(&s);
	return rc;
}

/* The shared-memory directory ($BB_SHM_DIR or /dev/shm) into buf. */
static int shm_dir(char *buf, size_t len)
{
	int rc = bb__seg_path(buf, len, "/");
	size_t n = strlen(buf);

	if (rc == 0 && n > 1)
		buf[n - 1] = '\0';
	return rc;
}

/* Split "barbus.<bus>.<role>" (bus names hold no dot); 0 or BB_ENAME. */
static int split_name(const char *file, char *bus, char *role)
{
	size_t p = strlen(PREFIX);

	if (strncmp(file, PREFIX, p) != 0)
		return BB_ENAME;
	const char *dot = strchr(file + p, '.');
	if (dot == NULL || (size_t)(dot - file - p) > BB_NAME_MAX ||
	    strlen(dot + 1) == 0 || strlen(dot + 1) > 16)
		return BB_ENAME;
	memcpy(bus, file + p, (size_t)(dot - file - p));
	bus[dot - file - p] = '\0';
	strcpy(role, dot + 1);
	return bb_bus_name_check(bus);
}

int bb_shm_foreach(int (*fn)(void *arg, const char *bus, const char *role),
                   void *arg)
{
	char dir[BB_SEG_PATH_MAX], bus[BB_NAME_MAX + 1], role[17];
	int rc = shm_dir(dir, sizeof(dir));

	if (rc != 0)
		return rc;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (split_name(e->d_name, bus, role) == 0)
			rc = fn(arg, bus, role);
	closedir(d);
	return rc;
}

/* Is segment file path locked by a live writer? */
static int locked(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return 0;
	int held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

struct removal {
	const char *bus;
	int         pass;    /* 0: look for live writers; 1: unlink */
	int         busy;
	unsigned    removed;
	int         err;
};

static int remove_one(void *arg, const char *bus, const char *role)
{
	struct removal *r = arg;
	char name[BB_SEG_NAME_MAX], path[BB_SEG_PATH_MAX];

	if (strcmp(bus, r->bus) != 0 ||
	    bb__seg_name(name, sizeof(name), bus, role) != 0 ||
	    bb__seg_path(path, sizeof(path), name) != 0)
		return 0;
	if (r->pass == 0) {
		r->busy |= locked(path);
		return 0;
	}
	if (unlink(path) == 0)
		r->removed++;
	else if (errno != ENOENT && r->err == 0)
		r->err = errno;
	return 0;
}

/* The ring's System V wake word, if it is still ours: marked removed
 * (its writer did so at creation; this covers a writer killed between
 * making it and marking it), freed when its last user detaches. */
static void remove_wake(const char *bus)
{
	struct bb__seg s;
	struct shmid_ds ds;

	if (bb__seg_reader_open(&s, bus, "ring", BB_ROLE_RING, 0) != 0)
		return;
	int id = bb__ring_wake_id(bb__ring_ctl(&s));
	if (id >= 0 && shmctl(id, IPC_STAT, &ds) == 0 &&
	    ds.shm_perm.uid == geteuid() && ds.shm_segsz == BB_WAKE_BYTES)
		shmctl(id, IPC_RMID, NULL);
	bb__seg_reader_close(&s);
}

int bb_bus_remove(const char *bus, unsigned flags, unsigned *removed)
{
	struct removal r = { .bus = bus };

	if (removed != NULL)
		*removed = 0;
	if (bb_bus_name_check(bus) != 0)
		return BB_ENAME;
	int rc = bb_shm_foreach(remove_one, &r);
	if (rc != 0)
		return rc;
	if (r.busy && !(flags & BB_REMOVE_FORCE))
		return BB_EBUSY;
	remove_wake(bus);
	r.pass = 1;
	if ((rc = bb_shm_foreach(remove_one, &r)) == 0)
		rc = r.err;
	if (removed != NULL)
		*removed = r.removed;
	return rc;
}
