/*
 * bridge_nats.h: nats-server for the bridge's stress programs. Each server
 * is `nats-server -js` on a free 127.0.0.1 port with its own store
 * directory under the program's temporary directory; it is a registered
 * child (SIGKILLed and reaped at exit, even on failure) and the directory
 * goes with the program's. Include after stress.h.
 */
#ifndef BRIDGE_NATS_H
#define BRIDGE_NATS_H

#include <fcntl.h>
#include <limits.h>

#include "loopback.h"

struct natsd {
	pid_t pid;
	int   port, cluster_port;
	char  store[PATH_MAX];
	char  url[64];
};

/* A port nobody listens on now, or the program fails. */
static int nats_free_port(void)
{
	int port = lo_free_port();

	if (port < 0)
		stress_fatal("no free port: %s", strerror(errno));
	return port;
}

/* Start (or restart, same port and store) n; routes: "" or a list of
 * nats-route://127.0.0.1:P for a cluster. Waits until it listens. */
static void nats_start(struct natsd *n, const char *routes)
{
	char port[16], cport[40], log[PATH_MAX + 8];

	snprintf(n->url, sizeof(n->url), "nats://127.0.0.1:%d", n->port);
	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(cport, sizeof(cport), "nats://127.0.0.1:%d", n->cluster_port);
	snprintf(log, sizeof(log), "%s.log", n->store);
	n->pid = stress_fork();
	if (n->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (routes[0] != '\0')
			execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1",
			       "-p", port, "-sd", n->store, "-n", n->store + strlen(n->store) - 2,
			       "--cluster_name", "bbtest", "--cluster", cport,
			       "--routes", routes, (char *)NULL);
		else
			execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1",
			       "-p", port, "-sd", n->store, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !lo_listening(n->port); i++)
		stress_sleep_ns(10 * 1000000);
	if (!lo_listening(n->port))
		stress_fatal("nats-server on port %d did not start (log %s)",
		             n->port, log);
}

/* A new server with its store in dir/name. */
static void nats_new(struct natsd *n, const char *dir, const char *name)
{
	memset(n, 0, sizeof(*n));
	n->port = nats_free_port();
	n->cluster_port = nats_free_port();
	snprintf(n->store, sizeof(n->store), "%s/%s", dir, name);
}

/* SIGKILL (sig 9) or SIGTERM, and reap. */
static void nats_stop(struct natsd *n, int sig)
{
	if (n->pid > 0) {
		kill(n->pid, sig);
		stress_reap(n->pid, 5000);
	}
	n->pid = 0;
}

static int nats_available(void)
{
	return stress_sh("command -v nats-server >/dev/null") == 0;
}

/*
 * Under ThreadSanitizer (make SANITIZE=thread stress) the bridge's
 * processes and nats-server are processes TSan cannot see together, and
 * libnats is not instrumented: nothing to learn, only a slower run. 1 when
 * the caller should end, having said "skipped".
 */
static int nats_skip_tsan(void)
{
	if (!stress_tsan())
		return 0;
	printf("skipped: the bridge's processes under ThreadSanitizer, which "
	       "sees one process at a time\n");
	return 1;
}

static const char *bridge_tmp; /* the program's temporary directory */

/* At exit: the children first (nats-server writes in the directory). */
static void bridge_rm_tmp(void)
{
	if (getpid() != g_stress.owner)
		return;
	stress_kill_children();
	if (bridge_tmp != NULL && bridge_tmp[0])
		stress_sh("rm -rf %s", bridge_tmp);
}

/*
 * The start of every bridge program, after stress_init(). 1 when it must
 * end at once with exit status *rc: skipped under ThreadSanitizer, or no
 * nats-server (a failed check). Else 0, with bin the programs' directory
 * and dir a new directory /tmp/bb-TAG-XXXXXX, removed at exit.
 */
static int bridge_begin(const char *argv0, char *bin, size_t binlen,
                        char *dir, size_t dirlen, const char *tag, int *rc)
{
	*rc = 0;
	if (nats_skip_tsan())
		return 1;
	if (!nats_available()) {
		CHECK(0, "nats-server is installed (make test installs it)");
		*rc = stress_done();
		return 1;
	}
	stress_bin(argv0, NULL, bin, binlen);
	snprintf(dir, dirlen, "/tmp/bb-%s-XXXXXX", tag);
	if (mkdtemp(dir) == NULL)
		stress_fatal("mkdtemp");
	bridge_tmp = dir;
	atexit(bridge_rm_tmp);
	return 0;
}

/*
 * barbus-bars ARGS of bus a and of bus b into DIR/WHAT[-h].a and .b: the
 * source (a) holds more than `lines` lines, and the mirror (b) prints the
 * same byte for byte.
 */
static inline void bridge_same(const char *bin, const char *dir,
                               const char *a, const char *b, const char *what,
                               const char *args, int lines)
{
	char f[160];

	snprintf(f, sizeof(f), "%s/%s%s", dir, what, args[0] ? "-h" : "");
	CHECK(stress_sh("%s/barbus-bars --bus %s %s > %s.a && "
	         "%s/barbus-bars --bus %s %s > %s.b", bin, a, args, f,
	         bin, b, args, f) == 0, "%s: barbus-bars %s of both buses",
	      what, args);
	CHECK(stress_sh("test $(wc -l < %s.a) -gt %d", f, lines) == 0,
	      "%s: the source holds more than %d lines of %s", what, lines, args);
	CHECK(stress_sh("cmp %s.a %s.b", f, f) == 0,
	      "%s: barbus-bars %s of the mirror equals the source's byte for byte",
	      what, args);
}

#endif /* BRIDGE_NATS_H */
