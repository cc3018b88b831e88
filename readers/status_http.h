/*
 * status_http.h: barbus-status --http ADDR, a small single-threaded
 * HTTP/1.1 server on poll(): GET (or HEAD) /metrics (the Prometheus text),
 * /healthz (200 healthy, 503 degraded or no bus; the --check line as body),
 * /status.json (the --json object) and / (a self-refreshing status page).
 * Every request is answered from the bus as it is then (records/s from
 * the reading made once a second), with Connection: close;
 * /status.json?since=CLOCK waits (up to a second) for the session clock to
 * move off CLOCK, so the page redraws as soon as it does. A request is at most REQ_MAX bytes and
 * must arrive within REQ_TIMEOUT_MS; malformed ones get 400, other methods
 * 405, other paths 404. Included by readers/status.c only, after its
 * collect(), rate_update() and unreadable().
 */
#ifndef BB_STATUS_HTTP_H
#define BB_STATUS_HTTP_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "status_snap.h"
#include "status_page.h"

#define REQ_MAX        4096
#define REQ_TIMEOUT_MS 5000
#define MAX_CLIENTS    32
#define SEND_TIMEOUT_S 2
#define HOLD_MS        1000 /* a long poll's longest wait */
#define HOLD_POLL_MS   20   /* how often a held poll looks at the clock */


struct client {
	int     fd;        /* -1: free */
	size_t  n;
	int64_t deadline;  /* mono ns */
	int64_t held;      /* mono ns: a held /status.json?since= answered
	                      then at the latest; 0: not held */
	char    req[REQ_MAX + 1];
};

/* The last reading of the bus. */
struct reading {
	struct snap s;
	int         rc;    /* collect()'s */
	const char *what;
};

static int listen_on(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	                          .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;

	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, PROG ": --http: %s: HOST:PORT expected\n", addr);
		return -2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, PROG ": --http: %s: %s\n", addr, gai_strerror(rc));
		return -2;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 16) != 0) {
		fprintf(stderr, PROG ": --http: %s: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Say where we listen (the port, when ADDR asked for port 0). */
static void announce(int fd, const char *bus)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof(host));
			port = ntohs(in->sin6_port);
		}
	}
	printf(PROG ": bus %s: serving http://%s%s%s:%d/\n", bus,
	       ss.ss_family == AF_INET6 ? "[" : "", host,
	       ss.ss_family == AF_INET6 ? "]" : "", port);
	fflush(stdout);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* peer gone or too slow (SO_SNDTIMEO) */
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int code, const char *type, const char *body,
                    size_t len, int head_only)
{
	char hdr[256];
	const char *text = code == 200 ? "OK" : code == 400 ? "Bad Request"
	                 : code == 404 ? "Not Found" : code == 405
	                 ? "Method Not Allowed" : code == 408 ? "Request Timeout"
	                 : "Service Unavailable";
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	                 "Connection: close\r\n\r\n", code, text, type, len);

	send_all(fd, hdr, (size_t)n);
	if (!head_only)
		send_all(fd, body, len);
}

static void plain(int fd, int code, const char *msg)
{
	respond(fd, code, "text/plain; charset=utf-8", msg, strlen(msg), 0);
}

/* Answer one complete request head (NUL-terminated) from reading r. */
static void answer(int fd, char *req, const struct reading *r,
                   struct sbuf *out)
{
	char *sp1 = strchr(req, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	char *eol = strstr(req, "\r\n");

	if (sp1 == NULL || sp2 == NULL || eol == NULL || sp2 > eol ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2 + 9 != eol ||
	    sp1[1] != '/') {
		plain(fd, 400, "bad request\n");
		return;
	}
	*sp1 = *sp2 = '\0';
	int head = strcmp(req, "HEAD") == 0;
	if (!head && strcmp(req, "GET") != 0) {
		plain(fd, 405, "only GET and HEAD\n");
		return;
	}
	char *path = sp1 + 1;
	path[strcspn(path, "?#")] = '\0';
	sb_reset(out);
	int code = r->rc == 0 ? 200 : 503;
	const char *type = "text/plain; charset=utf-8";
	if (strcmp(path, "/metrics") == 0) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		if (r->rc == 0)
			fmt_prom(out, &r->s);
		else
			unreadable(out, r->s.bus, r->rc, r->what);
	} else if (strcmp(path, "/healthz") == 0) {
		fmt_check(out, &r->s, r->rc, r->what);
		code = r->rc == 0 && r->s.verdict == V_HEALTHY ? 200 : 503;
	} else if (strcmp(path, "/status.json") == 0) {
		type = "application/json";
		if (r->rc == 0) {
			fmt_json(out, &r->s, "\n");
		} else {
			struct sbuf msg = { 0 };
			unreadable(&msg, r->s.bus, r->rc, r->what);
			sb_printf(out, "{\"schema\":%d,\"bus\":", STATUS_SCHEMA);
			js_str(out, r->s.bus);
			sb_printf(out, ",\"error\":");
			msg.n ? msg.p[--msg.n] = '\0' : 0;
			js_str(out, msg.p ? msg.p : "");
			sb_printf(out, "}\n");
			sb_free(&msg);
		}
	} else if (strcmp(path, "/") == 0) {
		type = "text/html; charset=utf-8";
		code = 200;
		page(out, r->s.bus);
	} else {
		plain(fd, 404, "not found: try /, /metrics, /healthz, "
		      "/status.json\n");
		return;
	}
	respond(fd, code, type, out->oom ? "" : out->p, out->oom ? 0 : out->n,
	        head);
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static void client_accept(int lfd, struct client *cl)
{
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd < 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			cl[i].fd = fd;
			cl[i].n = 0;
			cl[i].held = 0;
			cl[i].deadline = bb__mono_ns() + REQ_TIMEOUT_MS * 1000000LL;
			return;
		}
	close(fd); /* full: the client retries */
}

/* The clock value a /status.json?since=CLOCK request waits to see
 * change (%3A decoded; the page sends encodeURIComponent's), into buf;
 * 0 when the request asks for none. */
static int since_of(const char *req, char *buf, size_t len)
{
	const char *p = strncmp(req, "GET /status.json?", 17) == 0
	              ? strstr(req, "since=") : NULL;
	const char *eol = strstr(req, " HTTP/1.");
	size_t n = 0;

	if (p == NULL || eol == NULL || p > eol)
		return 0;
	for (p += 6; p < eol && *p != '&' && n + 1 < len; p++) {
		if (strncmp(p, "%3A", 3) == 0 || strncmp(p, "%3a", 3) == 0) {
			buf[n++] = ':';
			p += 2;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return n > 0;
}

/* Has the session clock moved off since (the ISO text the page saw)? */
static int clock_moved(const struct reading *fresh, const char *since)
{
	char iso[32] = "";
	const bb_status *st = &fresh->s.st;

	if (fresh->rc != 0 || !fresh->s.have_status)
		return 1;
	if (st->date != 0 && st->clock >= st->open)
		bb_time_format(st->clock, iso);
	return strcmp(iso, since) != 0;
}

/*
 * Answer c's complete request from the bus as it is now (records/s from
 * the last tick), unless it is a long poll, /status.json?since=CLOCK, and
 * the clock still says CLOCK: then it is held (for up to HOLD_MS) and
 * 0 returned. The page polls so, to be redrawn as soon as the clock moves.
 */
static int client_answer(struct client *c, const struct reading *r,
                         const struct opts *o, struct sbuf *out, int64_t now)
{
	struct reading fresh = { 0 };
	char since[64];

	fresh.rc = collect(&fresh.s, o, &fresh.what);
	fresh.s.rate = r->rc == 0 ? r->s.rate : -1;
	if (since_of(c->req, since, sizeof(since)) &&
	    !clock_moved(&fresh, since) && (c->held == 0 || now < c->held)) {
		if (c->held == 0)
			c->held = now + HOLD_MS * 1000000LL;
		snap_free(&fresh.s);
		return 0;
	}
	/* Blocking from here: the answer is small, sends time out. */
	fcntl(c->fd, F_SETFL, 0);
	answer(c->fd, c->req, &fresh, out);
	snap_free(&fresh.s);
	client_close(c);
	return 1;
}

static void client_read(struct client *c, const struct reading *r,
                        const struct opts *o, struct sbuf *out)
{
	if (c->held) { /* a held client speaks again: gone, or pipelining */
		client_close(c);
		return;
	}
	ssize_t n = recv(c->fd, c->req + c->n, REQ_MAX - c->n, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->n += (size_t)n;
	c->req[c->n] = '\0';
	if (strstr(c->req, "\r\n\r\n") != NULL) {
		client_answer(c, r, o, out, bb__mono_ns());
	} else if (c->n == REQ_MAX || memchr(c->req, '\0', c->n) != NULL) {
		fcntl(c->fd, F_SETFL, 0);
		plain(c->fd, 400, "request too large or malformed\n");
		client_close(c);
	}
}

static void reread(struct reading *r, const struct opts *o,
                   struct rate_state *rs)
{
	snap_free(&r->s);
	r->rc = collect(&r->s, o, &r->what);
	if (r->rc == 0)
		rate_update(&r->s, rs);
}

/* Serve until killed (SIGTERM, SIGINT); 1 when ADDR cannot be bound, 2
 * when it is malformed. */
static int http_serve(const char *addr, const struct opts *o)
{
	static struct client cl[MAX_CLIENTS];
	struct pollfd pf[MAX_CLIENTS + 1];
	struct rate_state rs = { 0 };
	struct reading r = { 0 };
	struct sbuf out = { 0 };
	int lfd = listen_on(addr);

	if (lfd < 0)
		return lfd == -2 ? 2 : 1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	reread(&r, o, &rs);
	announce(lfd, r.s.bus);
	int64_t next = bb__mono_ns() + 1000000000LL;
	for (;;) {
		int64_t now = bb__mono_ns();
		if (now >= next) {
			reread(&r, o, &rs);
			next = now + 1000000000LL;
		}
		pf[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		int wait_ms = (int)((next - now) / 1000000) + 1;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (cl[i].fd >= 0 && cl[i].held &&
			    !client_answer(&cl[i], &r, o, &out, now))
				wait_ms = HOLD_POLL_MS; /* still held: look again soon */
			if (cl[i].fd >= 0 && !cl[i].held && now > cl[i].deadline) {
				fcntl(cl[i].fd, F_SETFL, 0);
				plain(cl[i].fd, 408, "request timeout\n");
				client_close(&cl[i]);
			}
			pf[i + 1] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		}
		if (poll(pf, MAX_CLIENTS + 1, wait_ms) < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN)
			client_accept(lfd, cl);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && pf[i + 1].revents)
				client_read(&cl[i], &r, o, &out);
	}
	fprintf(stderr, PROG ": --http: poll: %s\n", strerror(errno));
	snap_free(&r.s);
	sb_free(&out);
	close(lfd);
	return 1;
}

#endif /* BB_STATUS_HTTP_H */
