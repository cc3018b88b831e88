/*
 * seg.c: create, re-attach, open and validate segments; writer liveness.
 *
 * A writer holds an OFD write lock on its segment for as long as it lives;
 * the kernel drops it when the process dies, however it dies. Readers ask
 * with F_OFD_GETLK, so "is the writer alive?" never rests on a pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seg.h"

int64_t bb__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int bb__seg_name(char *buf, size_t len, const char *bus, const char *role)
{
	if (bb_bus_name_check(bus) != 0 || role == NULL || role[0] == '\0' ||
	    strlen(role) > 16 || strchr(role, '/') != NULL)
		return BB_ENAME;
	int n = snprintf(buf, len, "/barbus.%s.%s", bus, role);
	return n > 0 && (size_t)n < len ? 0 : BB_ENAME;
}

int bb__seg_hdr_check(const struct bb__seg_hdr *h, size_t len, uint32_t role)
{
	if (len < sizeof(*h))
		return len == 0 ? BB_ENOTREADY : BB_ETRUNCATED;
	/* Acquire pairs with the release in bb__seg_publish(): the fields
	 * written before the version are safe to read only after this. */
	uint32_t ver = atomic_load_explicit(&h->version, memory_order_acquire);
	if (ver == 0)
		return BB_ENOTREADY;
	if (h->magic != BB_MAGIC)
		return BB_EBADMAGIC;
	if (ver != BB_LAYOUT_VERSION)
		return BB_EVERSION;
	if (h->role != role)
		return BB_EROLE;
	if (h->hdr_len != BB_SEG_HDR_LEN || h->total_len < h->hdr_len)
		return BB_EGEOMETRY;
	return h->total_len <= len ? 0 : BB_ETRUNCATED;
}

/* Non-blocking OFD write lock on the whole object. */
static int lock_writer(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? BB_EBUSY : errno;
}

/* The mapping, or NULL with errno set; populated with BB_SEG_POPULATE. */
static void *map_fd(int fd, size_t len, int prot, unsigned flags)
{
	int pop = flags & BB_SEG_POPULATE ? MAP_POPULATE : 0;
	void *p = mmap(NULL, len, prot, MAP_SHARED | pop, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Size and permissions of a fresh object; header fields but the version. */
static int init_fresh(struct bb__seg *s, const struct bb__seg_spec *sp)
{
	if (fchmod(s->fd, sp->mode) != 0)
		return errno;
	if (sp->group != 0 && fchown(s->fd, (uid_t)-1, sp->group) != 0)
		return errno;
	/* Reserve every page now: a full /dev/shm fails here, not as a
	 * SIGBUS in some later store. posix_fallocate returns the error. */
	int rc = posix_fallocate(s->fd, 0, (off_t)sp->total_len);
	if (rc != 0)
		return rc;
	s->hdr = map_fd(s->fd, sp->total_len, PROT_READ | PROT_WRITE, sp->flags);
	if (s->hdr == NULL)
		return errno;
	s->len = sp->total_len;
	s->hdr->magic = BB_MAGIC;
	s->hdr->role = sp->role;
	s->hdr->total_len = sp->total_len;
	s->hdr->hdr_len = BB_SEG_HDR_LEN;
	s->hdr->heartbeat_ms = sp->heartbeat_ms;
	memcpy(s->hdr->geom, sp->geom, sizeof(s->hdr->geom));
	return 0;
}

/* Does the existing, locked object match the spec? 0, or why not. */
static int check_existing(struct bb__seg *s, const struct bb__seg_spec *sp)
{
	struct stat st;

	if (fstat(s->fd, &st) != 0)
		return errno;
	if ((uint64_t)st.st_size != sp->total_len)
		return BB_EMISMATCH;
	/* Its pages exist already: mapping them all now would only slow a
	 * restarting writer down. */
	s->hdr = map_fd(s->fd, sp->total_len, PROT_READ | PROT_WRITE, 0);
	if (s->hdr == NULL)
		return errno;
	s->len = sp->total_len;
	int rc = bb__seg_hdr_check(s->hdr, s->len, sp->role);
	if (rc == 0 && memcmp(s->hdr->geom, sp->geom, sizeof(sp->geom)) != 0)
		rc = BB_EMISMATCH;
	return rc;
}

static void unmap(struct bb__seg *s)
{
	if (s->hdr != NULL && munmap(s->hdr, s->len) != 0)
		s->len = 0; /* only EINVAL is possible, and means a bug */
	s->hdr = NULL;
}

/* One attempt: open (maybe create), lock, then create or check. */
static int writer_try(struct bb__seg *s, const struct bb__seg_spec *sp,
                      int excl, int *how)
{
	int flags = O_RDWR | O_CREAT | (excl ? O_EXCL : 0);

	s->fd = shm_open(s->name, flags, sp->mode);
	if (s->fd < 0)
		return errno;
	int rc = lock_writer(s->fd);
	if (rc != 0)
		return rc;
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		return errno;
	if (st.st_size == 0) {
		*how = BB_SEG_CREATED;
		return init_fresh(s, sp);
	}
	*how = BB_SEG_ATTACHED;
	return check_existing(s, sp);
}

static void seg_reset(struct bb__seg *s)
{
	unmap(s);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int bb__seg_writer_open(struct bb__seg *s, const char *bus,
                        const struct bb__seg_spec *sp, int *how)
{
	*s = (struct bb__seg){ .fd = -1 };
	int rc = bb__seg_name(s->name, sizeof(s->name), bus, sp->role_name);
	if (rc != 0)
		return rc;
	rc = writer_try(s, sp, 0, how);
	if ((sp->flags & BB_SEG_KEEP) && rc < 0 && rc != BB_EBUSY)
		rc = BB_EMISMATCH;
	else if (rc == BB_EMISMATCH || rc == BB_EBADMAGIC || rc == BB_EVERSION ||
	    rc == BB_EROLE || rc == BB_EGEOMETRY || rc == BB_ETRUNCATED ||
	    rc == BB_ENOTREADY) {
		/* We hold the lock, so no live writer owns this leftover.
		 * Readers that still map it keep their copy; new ones get
		 * the new object. Never rewrite memory a reader may read. */
		seg_reset(s);
		if (shm_unlink(s->name) != 0 && errno != ENOENT)
			return errno;
		rc = writer_try(s, sp, 1, how);
		*how = BB_SEG_REPLACED;
	}
	if (rc != 0)
		seg_reset(s);
	s->how = *how;
	return rc;
}

void bb__seg_publish(struct bb__seg *s)
{
	/* Release pairs with the acquire in bb__seg_hdr_check(). */
	atomic_store_explicit(&s->hdr->version, BB_LAYOUT_VERSION,
	                      memory_order_release);
}

uint64_t bb__seg_writer_start(struct bb__seg *s)
{
	struct bb__seg_hdr *h = s->hdr;

	atomic_store_explicit(&h->writer_pid, (int32_t)getpid(),
	                      memory_order_relaxed);
	bb__seg_beat(s);
	atomic_store_explicit(&h->state, BB_SEG_RUNNING, memory_order_relaxed);
	/* Release pairs with the acquire in bb_*_epoch() readers: a reader
	 * that sees the new epoch also sees the pid and state above. */
	return atomic_fetch_add_explicit(&h->epoch, 1, memory_order_release) + 1;
}

void bb__seg_beat(struct bb__seg *s)
{
	atomic_store_explicit(&s->hdr->heartbeat_ns, bb__mono_ns(),
	                      memory_order_relaxed);
}

void bb__seg_writer_close(struct bb__seg *s)
{
	if (s->hdr != NULL)
		atomic_store_explicit(&s->hdr->state, BB_SEG_STOPPED,
		                      memory_order_relaxed);
	seg_reset(s); /* closing the fd releases the OFD lock */
}

int bb__seg_reader_open(struct bb__seg *s, const char *bus,
                        const char *role_name, uint32_t role, unsigned flags)
{
	struct stat st;
	int rw = (flags & BB__SEG_RW) != 0;

	*s = (struct bb__seg){ .fd = -1 };
	int rc = bb__seg_name(s->name, sizeof(s->name), bus, role_name);
	if (rc != 0)
		return rc;
	s->fd = shm_open(s->name, rw ? O_RDWR : O_RDONLY, 0);
	if (s->fd < 0)
		return errno;
	if (fstat(s->fd, &st) != 0) {
		rc = errno;
		goto out;
	}
	s->len = (size_t)st.st_size;
	if (s->len < sizeof(struct bb__seg_hdr)) {
		rc = s->len == 0 ? BB_ENOTREADY : BB_ETRUNCATED;
		goto out;
	}
	s->hdr = map_fd(s->fd, s->len, PROT_READ | (rw ? PROT_WRITE : 0), 0);
	if (s->hdr == NULL) {
		rc = errno;
		goto out;
	}
	rc = bb__seg_hdr_check(s->hdr, s->len, role);
out:
	if (rc != 0)
		seg_reset(s);
	return rc;
}

void bb__seg_reader_close(struct bb__seg *s)
{
	seg_reset(s);
}

int bb__seg_writer_state(const struct bb__seg *s, pid_t *pid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	const struct bb__seg_hdr *h = s->hdr;

	if (pid != NULL)
		*pid = atomic_load_explicit(&h->writer_pid, memory_order_relaxed);
	/* F_OFD_GETLK only tests; it needs no write access to the fd. */
	if (fcntl(s->fd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return BB_WRITER_DEAD;
	int64_t beat = atomic_load_explicit(&h->heartbeat_ns,
	                                    memory_order_relaxed);
	int64_t limit = 3 * (int64_t)h->heartbeat_ms * 1000000;
	/* Not now - beat > limit: that overflows for a beat far in the past,
	 * which any writer may have left in the word; now - limit cannot. */
	return beat < bb__mono_ns() - limit ? BB_WRITER_STUCK : BB_WRITER_ALIVE;
}
