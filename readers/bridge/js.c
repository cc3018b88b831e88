/* js.c: NATS JetStream for the bridge: the stream, publishing; see bridge.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "frame.h"

#define NS_PER_S 1000000000LL
#define BACKOFF_FIRST_MS 2   /* a stream or HELLO waited for: 2, 4, 8 .. */
#define BACKOFF_MAX_MS   200 /* .. then every 200 ms */

void br_backoff(int *wait_ms)
{
	*wait_ms = *wait_ms <= 0 ? BACKOFF_FIRST_MS
	           : *wait_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *wait_ms * 2;
	nats_Sleep(*wait_ms);
}

static int nats_fail(struct br_js *j, const char *what, natsStatus s,
                     jsErrCode jerr)
{
	snprintf(j->err, sizeof(j->err), "%s: %s (%s, JetStream error %d)",
	         what, natsStatus_GetText(s), nats_GetLastError(NULL), (int)jerr);
	return EIO;
}

static int connect(struct br_js *j, const struct br_opts *o)
{
	natsOptions *no = NULL;
	natsStatus s = natsOptions_Create(&no);

	/* Reconnect for ever: a restarted nats-server (or another node of a
	 * cluster) is found again; publishes meanwhile are retried. */
	/* "URL,URL,...": every server of a cluster. */
	char urls[1024], *servers[16], *save = NULL;
	int n = 0;
	snprintf(urls, sizeof(urls), "%s", o->url);
	for (char *u = strtok_r(urls, ",", &save); u != NULL && n < 16;
	     u = strtok_r(NULL, ",", &save))
		servers[n++] = u;
	if (s == NATS_OK)
		s = natsOptions_SetServers(no, (const char **)servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(no, 100);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(no, true, NULL, NULL);
	/* Frames, pull requests and acknowledgements leave at once, not when
	 * the library's flusher thread gets to them (a frame is 26 KB for 500
	 * symbols: one write each costs little). */
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(no, true);
	if (s == NATS_OK)
		s = natsConnection_Connect(&j->nc, no);
	natsOptions_Destroy(no);
	if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED) {
		jsOptions jo;
		jsOptions_Init(&jo);
		jo.Wait = 2000;
		s = natsConnection_JetStream(&j->js, j->nc, &jo);
	}
	return s == NATS_OK ? 0 : nats_fail(j, o->url, s, 0);
}

/* The settings of an existing stream that contradict o: 0 or a message. */
static int compare(struct br_js *j, const struct br_opts *o,
                   const jsStreamConfig *c)
{
	const char *what = NULL;
	int subject = 0;

	for (int i = 0; i < c->SubjectsLen; i++)
		subject |= strcmp(c->Subjects[i], o->subjects) == 0;
	if (!subject)
		what = "its subjects do not include";
	else if (c->MaxAge != o->max_age_s * NS_PER_S)
		what = "its max age differs from --max-age for";
	else if (c->MaxBytes != o->max_bytes)
		what = "its max bytes differ from --max-bytes for";
	else if (c->Replicas != o->replicas && !(c->Replicas == 0 && o->replicas == 1))
		what = "its replicas differ from --replicas for";
	else if (c->Duplicates != o->dup_window_s * NS_PER_S)
		what = "its de-duplication window differs from --dup-window for";
	else if (c->Retention != js_LimitsPolicy)
		what = "its retention is not limits for";
	if (what == NULL)
		return 0;
	snprintf(j->err, sizeof(j->err), "stream %s exists with other settings: "
	         "%s subject %s; remove it (nats stream rm %s) or use its settings",
	         o->stream, what, o->subjects, o->stream);
	return BB_EMISMATCH;
}

static int ensure_stream(struct br_js *j, const struct br_opts *o)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, j->js, o->stream, NULL, &jerr);

	if (s == NATS_OK) {
		int rc = compare(j, o, si->Config);
		jsStreamInfo_Destroy(si);
		return rc;
	}
	if (s != NATS_NOT_FOUND)
		return nats_fail(j, "stream info", s, jerr);
	jsStreamConfig c;
	const char *subj[1] = { o->subjects };
	jsStreamConfig_Init(&c);
	c.Name = o->stream;
	c.Subjects = subj;
	c.SubjectsLen = 1;
	c.Retention = js_LimitsPolicy;
	c.Storage = js_FileStorage;
	c.MaxAge = o->max_age_s * NS_PER_S;
	c.MaxBytes = o->max_bytes;
	c.Replicas = o->replicas;
	c.Duplicates = o->dup_window_s * NS_PER_S;
	s = js_AddStream(&si, j->js, &c, NULL, &jerr);
	if (s != NATS_OK)
		return nats_fail(j, "creating the stream", s, jerr);
	jsStreamInfo_Destroy(si);
	return 0;
}

int br_js_open(struct br_js *j, const struct br_opts *o)
{
	int rc;
	time_t until = time(NULL) + o->retry_s;

	memset(j, 0, sizeof(*j));
	rc = connect(j, o);
	/* The stream's leader may be electing (a cluster starting): retry. */
	if (rc == 0)
		while ((rc = ensure_stream(j, o)) == EIO && time(NULL) < until)
			nats_Sleep(200);
	if (rc != 0)
		br_js_close(j);
	return rc;
}

void br_js_close(struct br_js *j)
{
	/* Plain publishes (--json-subjects) still buffered go out first. */
	if (j->nc != NULL)
		natsConnection_FlushTimeout(j->nc, 1000);
	br_win_close(j);
	jsCtx_Destroy(j->js);
	natsConnection_Destroy(j->nc);
	j->js = NULL;
	j->nc = NULL;
}

int br_js_publish(struct br_js *j, const struct br_opts *o,
                  const char *subject, const char *id, const void *data,
                  size_t len)
{
	int rc = br_js_send(j, o, subject, id, data, len);

	return rc == 0 ? br_js_drain(j, o) : rc;
}

int br_js_publish_plain(struct br_js *j, const char *subject,
                        const void *data, size_t len)
{
	natsStatus s = natsConnection_Publish(j->nc, subject, data, (int)len);

	return s == NATS_OK ? 0 : nats_fail(j, subject, s, 0);
}

int br_js_last(struct br_js *j, const struct br_opts *o, const char *subject,
               natsMsg **out)
{
	jsErrCode jerr = 0;
	natsStatus s = js_GetLastMsg(out, j->js, o->stream, subject, NULL, &jerr);

	if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
		return BB_EEMPTY;
	return s == NATS_OK ? 0 : nats_fail(j, "last message", s, jerr);
}

int br_js_last_pos(struct br_js *j, const struct br_opts *o, uint64_t *pos)
{
	natsMsg *m = NULL;
	struct br_frame f;
	int rc = br_js_last(j, o, o->subject, &m);

	if (rc != 0)
		return rc;
	rc = br_frame_get((const uint8_t *)natsMsg_GetData(m),
	                  (size_t)natsMsg_GetDataLength(m), &f, NULL);
	if (rc == 0)
		*pos = f.pos;
	else
		snprintf(j->err, sizeof(j->err), "stream %s: its last message is "
		         "no bridge frame", o->stream);
	natsMsg_Destroy(m);
	return rc == 0 ? 0 : EIO;
}

/* o's subjects from the stream's "barbus.<src>.>". */
static int subjects_of(struct br_js *j, struct br_opts *o,
                       const jsStreamConfig *c)
{
	const char *sj = c->SubjectsLen == 1 ? c->Subjects[0] : "";
	size_t n = strlen(sj);

	if (n < 10 || strncmp(sj, "barbus.", 7) != 0 ||
	    strcmp(sj + n - 2, ".>") != 0 || n - 9 > BB_NAME_MAX) {
		snprintf(j->err, sizeof(j->err), "stream %s: subject \"%s\" is not "
		         "a bridge's (barbus.<bus>.>)", o->stream, sj);
		return EIO;
	}
	snprintf(o->subjects, sizeof(o->subjects), "%s", sj);
	snprintf(o->subject, sizeof(o->subject), "%.*sframes", (int)(n - 1), sj);
	snprintf(o->hello, sizeof(o->hello), "%.*shello", (int)(n - 1), sj);
	return 0;
}

int br_js_attach(struct br_js *j, struct br_opts *o)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	time_t until = time(NULL) + o->retry_s;
	natsStatus s;
	int rc;

	memset(j, 0, sizeof(*j));
	if ((rc = connect(j, o)) != 0)
		return rc;
	/* Its publisher may not have made it yet (both started together), or
	 * a cluster may be electing the stream's leader: wait up to --retry. */
	int wait_ms = 0;
	while ((s = js_GetStreamInfo(&si, j->js, o->stream, NULL, &jerr)) !=
	       NATS_OK && time(NULL) < until)
		br_backoff(&wait_ms);
	if (s == NATS_NOT_FOUND) {
		snprintf(j->err, sizeof(j->err), "stream %s not found (a "
		         "publisher creates it)", o->stream);
		rc = EIO;
	} else if (s != NATS_OK) {
		rc = nats_fail(j, "stream info", s, jerr);
	} else {
		rc = subjects_of(j, o, si->Config);
		jsStreamInfo_Destroy(si);
	}
	if (rc != 0)
		br_js_close(j);
	return rc;
}
