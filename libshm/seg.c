/*
 * seg.c: create, re-attach, open and validate segments; writer liveness.
 *
 * A writer holds an OFD write lock on its segment for as long as it lives;
 * the kernel drops it when the process dies, however it dies. Readers ask
 * with F_OFD_GETLK, so "is the writer alive?" never rests on a pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "seg.h"

int bb__seg_name(char *buf, size_t len, const char *bus, const char *role)
{
	if (bb_bus_name_check(bus) != 0 || role == NULL || role[0] == '\0' ||
	    strlen(role) > 16 || strchr(role, '/') != NULL)
		return BB_ENAME;
	int n = snprintf(buf, len, "/barbus.%s.%s", bus, role);
	return n > 0 && (size_t)n < len ? 0 : BB_ENAME;
}

int bb__seg_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("BB_SHM_DIR");

	if (dir == NULL || dir[0] == '\0')
		dir = "/dev/shm";
	if (dir[0] != '/')
		return BB_ENAME;
	int n = snprintf(buf, len, "%s%s", dir, name);
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
	/* A zero heartbeat would make every liveness probe immediate (and
	 * blocking readers spin); a huge one would make them never probe. */
	if (h->hdr_len != BB_SEG_HDR_LEN || h->total_len < h->hdr_len ||
	    h->heartbeat_ms == 0 || h->heartbeat_ms > BB_HEARTBEAT_MAX_MS)
		return BB_EGEOMETRY;
	return h->total_len <= len ? 0 : BB_ETRUNCATED;
}

static struct {
	void (*fn)(void *arg, const char *line);
	void *arg;
} notify;

void bb_seg_notify_set(void (*fn)(void *arg, const char *line), void *arg)
{
	notify.fn = fn;
	notify.arg = arg;
}

void bb__seg_note(const char *path, const char *fmt, ...)
{
	char line[BB_SEG_PATH_MAX + 2 * BB_SEG_WHY_MAX];
	va_list ap;

	if (notify.fn == NULL)
		return;
	int n = snprintf(line, sizeof(line), "segment %s: ", path);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	notify.fn(notify.arg, line);
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

/*
 * Store to every page of a fresh, still unpublished mapping (its bytes are
 * zero, and stay so). MAP_POPULATE maps a shared mapping's pages read-only,
 * so without this each page's first store would still fault, in the middle
 * of a session; under shadow paging every first access of a page by a
 * process also traps to the hypervisor (5 to 7 us a page measured on a
 * Firecracker VM: docs/PERFORMANCE.md, "Pages touched once").
 */
static void touch_pages(void *p, size_t len, const struct bb__beat *beat)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t step = pg > 0 ? (size_t)pg : 4096, n = 0;

	for (size_t off = 0; off < len; off += step) {
		((volatile char *)p)[off] = 0;
		if (++n % BB__BEAT_PAGES == 0 && beat->fn != NULL)
			beat->fn(beat->ctx);
	}
}

/* Mode and group of the spec, on a fresh object or again on a reused one. */
static int apply_perms(struct bb__seg *s, const struct bb__seg_spec *sp,
                       const struct stat *st)
{
	if ((st->st_mode & 07777) != sp->mode) {
		if (fchmod(s->fd, sp->mode) != 0)
			return errno;
		if (st->st_size > 0)
			bb__seg_note(s->path, "mode %04o set to %04o",
			             (unsigned)(st->st_mode & 07777),
			             (unsigned)sp->mode);
	}
	if (sp->group != 0 && st->st_gid != sp->group &&
	    fchown(s->fd, (uid_t)-1, sp->group) != 0)
		return errno;
	return 0;
}

/* Size and permissions of a fresh object; header fields but the version. */
static int init_fresh(struct bb__seg *s, const struct bb__seg_spec *sp)
{
	/* Reserve every page now: a full /dev/shm fails here, not as a
	 * SIGBUS in some later store. posix_fallocate returns the error. */
	int rc = posix_fallocate(s->fd, 0, (off_t)sp->total_len);
	if (rc != 0)
		return rc;
	s->hdr = map_fd(s->fd, sp->total_len, PROT_READ | PROT_WRITE, sp->flags);
	if (s->hdr == NULL)
		return errno;
	s->len = sp->total_len;
	if (sp->flags & BB_SEG_POPULATE)
		touch_pages(s->hdr, s->len, &sp->beat);
	s->hdr->magic = BB_MAGIC;
	s->hdr->role = sp->role;
	s->hdr->total_len = sp->total_len;
	s->hdr->hdr_len = BB_SEG_HDR_LEN;
	s->hdr->heartbeat_ms = sp->heartbeat_ms;
	memcpy(s->hdr->geom, sp->geom, sizeof(s->hdr->geom));
	s->hdr->created_ns = bb__real_ns();
	return 0;
}

/*
 * Does the existing, locked object match the spec and validate in full?
 * 0, or a BB_E* code with the reason in why.
 */
static int check_existing(struct bb__seg *s, const struct bb__seg_spec *sp,
                          const struct stat *st, char *why, size_t n)
{
	if ((uint64_t)st->st_size != sp->total_len) {
		snprintf(why, n, "%s: %lld bytes, %llu expected",
		         bb_strerror(BB_EMISMATCH), (long long)st->st_size,
		         (unsigned long long)sp->total_len);
		return BB_EMISMATCH;
	}
	/* Its pages exist already: mapping them all now would only slow a
	 * restarting writer down. */
	s->hdr = map_fd(s->fd, sp->total_len, PROT_READ | PROT_WRITE, 0);
	if (s->hdr == NULL)
		return errno;
	s->len = sp->total_len;
	int rc = bb__seg_validate(s->hdr, s->len, sp->role, why, n);
	if (rc == 0 && (s->hdr->total_len != sp->total_len ||
	    memcmp(s->hdr->geom, sp->geom, sizeof(sp->geom)) != 0)) {
		snprintf(why, n, "%s", bb_strerror(BB_EMISMATCH));
		rc = BB_EMISMATCH;
	}
	/* Readers take the interval at open; a new setting is theirs at
	 * their next open. */
	if (rc == 0 && s->hdr->heartbeat_ms != sp->heartbeat_ms)
		s->hdr->heartbeat_ms = sp->heartbeat_ms;
	return rc;
}

static void unmap(struct bb__seg *s)
{
	if (s->hdr != NULL && munmap(s->hdr, s->len) != 0)
		s->len = 0; /* only EINVAL is possible, and means a bug */
	s->hdr = NULL;
}

static void seg_reset(struct bb__seg *s)
{
	unmap(s);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISLNK(m) ? "a symbolic link" : S_ISSOCK(m) ? "a socket" :
	       S_ISREG(m) ? "a regular file" : "a device";
}

/* Not a regular file of ours at the path: BB_EOWNER, reported. */
static int refuse(const char *path, const struct stat *st)
{
	bb__seg_note(path, "refused: %s owned by uid %u gid %u, mode %04o "
	             "(we are uid %u); remove it or run as its owner",
	             kind_of(st->st_mode), (unsigned)st->st_uid,
	             (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777),
	             (unsigned)geteuid());
	return BB_EOWNER;
}

/* Remove what is at path (ours, not adoptable) so a fresh one can be made. */
static int remove_ours(const char *path, const struct stat *st, const char *why)
{
	int rc = S_ISDIR(st->st_mode) ? rmdir(path) : unlink(path);

	if (rc != 0 && errno != ENOENT) {
		rc = errno;
		bb__seg_note(path, "cannot replace %s (%s): %s",
		             kind_of(st->st_mode), why, strerror(rc));
		return rc;
	}
	bb__seg_note(path, "replaced: %s", why);
	return 0;
}

/* The path holds no usable regular file (open failed, or fstat says so). */
static int foreign(struct bb__seg *s, int err)
{
	struct stat st;
	char why[BB_SEG_WHY_MAX];

	if (lstat(s->path, &st) != 0)
		return err ? err : errno;
	if (st.st_uid != geteuid())
		return refuse(s->path, &st);
	if (S_ISREG(st.st_mode))
		return err; /* ours and regular, yet open failed: say why */
	snprintf(why, sizeof(why), "%s was at its path", kind_of(st.st_mode));
	return remove_ours(s->path, &st, why);
}

/* Fresh object, created here with O_EXCL: lock, permissions, body. */
static int create_fresh(struct bb__seg *s, const struct bb__seg_spec *sp)
{
	struct stat st;

	int rc = lock_writer(s->fd);
	if (rc == 0 && fstat(s->fd, &st) != 0)
		rc = errno;
	if (rc == 0)
		rc = apply_perms(s, sp, &st);
	if (rc == 0)
		rc = init_fresh(s, sp);
	if (rc != 0 && rc != BB_EBUSY) {
		/* Unpublished, so nobody maps it: no half-made leftover. */
		bb__seg_note(s->path, "cannot create (%llu bytes): %s",
		             (unsigned long long)sp->total_len, bb_strerror(rc));
		seg_reset(s);
		unlink(s->path);
	}
	return rc;
}

/* An existing regular file of ours: lock, permissions again, validate. */
static int adopt(struct bb__seg *s, const struct bb__seg_spec *sp,
                 char *why, size_t n)
{
	struct stat st;

	int rc = lock_writer(s->fd);
	if (rc != 0)
		return rc;
	if (fstat(s->fd, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return BB_EOWNER; /* caller looks at the path again */
	if ((rc = apply_perms(s, sp, &st)) != 0)
		return rc;
	if (st.st_size == 0) {
		snprintf(why, n, "%s", "empty: its writer died creating it");
		return BB_ENOTREADY;
	}
	return check_existing(s, sp, &st, why, n);
}

#define OPEN_FLAGS (O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

/*
 * Create with O_EXCL, else adopt what is there. *how is set on success.
 * Returns 0, an error, or BB_ERETRY when something of ours that could not
 * be adopted was removed (the caller tries once more).
 */
static int writer_try(struct bb__seg *s, const struct bb__seg_spec *sp,
                      int *how)
{
	char why[BB_SEG_WHY_MAX] = "";

	s->fd = open(s->path, OPEN_FLAGS | O_CREAT | O_EXCL, sp->mode);
	if (s->fd >= 0) {
		*how = BB_SEG_CREATED;
		return create_fresh(s, sp);
	}
	if (errno != EEXIST)
		return errno;
	s->fd = open(s->path, OPEN_FLAGS);
	int rc = s->fd < 0 ? errno : adopt(s, sp, why, sizeof(why));
	if (rc == 0) {
		*how = BB_SEG_ATTACHED;
		return 0;
	}
	if (rc == ENOENT)
		return BB_ERETRY; /* removed since O_EXCL failed: create it */
	if (rc == BB_EBUSY)
		return rc;
	if (s->fd < 0 || rc == BB_EOWNER) {
		rc = foreign(s, rc == BB_EOWNER ? 0 : rc);
		return rc == 0 ? BB_ERETRY : rc;
	}
	if (rc > 0)
		return rc; /* a system error, not a verdict on the object */
	if (sp->flags & BB_SEG_KEEP) {
		bb__seg_note(s->path, "kept, not replaced: %s",
		             why[0] ? why : bb_strerror(rc));
		return BB_EMISMATCH;
	}
	/* We hold the lock, so no live writer owns this leftover. Readers
	 * that still map it keep their copy; new ones get the new object.
	 * Never rewrite memory a reader may read. */
	seg_reset(s);
	if (unlink(s->path) != 0 && errno != ENOENT)
		return errno;
	bb__seg_note(s->path, "replaced: %s", why[0] ? why : bb_strerror(rc));
	return BB_ERETRY;
}

int bb__seg_writer_open(struct bb__seg *s, const char *bus,
                        const struct bb__seg_spec *sp, int *how)
{
	*s = (struct bb__seg){ .fd = -1 };
	int rc = bb__seg_name(s->name, sizeof(s->name), bus, sp->role_name);
	if (rc == 0)
		rc = bb__seg_path(s->path, sizeof(s->path), s->name);
	*how = BB_SEG_CREATED;
	/* At most: remove what is there, then create. A third round means
	 * another process keeps putting things at the path. */
	for (int round = 0; rc == 0 && round < 3; round++) {
		rc = writer_try(s, sp, how);
		if (rc != BB_ERETRY)
			break;
		seg_reset(s);
		s->how = BB_SEG_REPLACED;
		rc = round < 2 ? 0 : BB_EBUSY;
	}
	if (rc != 0)
		seg_reset(s);
	else if (s->how == BB_SEG_REPLACED)
		*how = BB_SEG_REPLACED;
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

void bb__seg_writer_discard(struct bb__seg *s)
{
	/* Unlink while the lock is held: no other writer adopted it. */
	if (s->fd >= 0 && s->how != BB_SEG_ATTACHED)
		unlink(s->path);
	bb__seg_writer_close(s);
}

void bb__seg_remove_ours(const char *bus, const char *role)
{
	char name[BB_SEG_NAME_MAX], path[BB_SEG_PATH_MAX];
	struct stat st;

	if (bb__seg_name(name, sizeof(name), bus, role) == 0 &&
	    bb__seg_path(path, sizeof(path), name) == 0 &&
	    lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid())
		unlink(path);
}

/*
 * Open for reading, never blocking: O_NONBLOCK so a FIFO at the path
 * cannot hold the open, O_NOFOLLOW so a link cannot point elsewhere, and
 * anything but a regular file is refused before it is mapped.
 */
static int open_reader(struct bb__seg *s, int rw, struct stat *st)
{
	s->fd = open(s->path, (rw ? O_RDWR : O_RDONLY) | O_NONBLOCK |
	             O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0)
		return errno == ELOOP ? BB_EOWNER : errno;
	if (fstat(s->fd, st) != 0)
		return errno;
	return S_ISREG(st->st_mode) ? 0 : BB_EOWNER;
}

int bb__seg_reader_open(struct bb__seg *s, const char *bus,
                        const char *role_name, uint32_t role, unsigned flags)
{
	struct stat st;
	int rw = (flags & BB__SEG_RW) != 0;

	*s = (struct bb__seg){ .fd = -1 };
	int rc = bb__seg_name(s->name, sizeof(s->name), bus, role_name);
	if (rc == 0)
		rc = bb__seg_path(s->path, sizeof(s->path), s->name);
	if (rc == 0)
		rc = open_reader(s, rw, &st);
	if (rc != 0)
		goto out;
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
