/*
 * upsrc.c: `publish`'s part for the upkeep's segments (docs/bridge.md).
 * After each published minute, once the source's upkeep has taken it, the
 * rows of up.fills and up.<N>m that changed since the last UP frame and
 * the quality figures that changed go out as one UP frame; at a session's
 * end UP_END frames, then the session's history block (up.fills.h,
 * up.<N>m.h) as UP_BLOCK frames. What was sent is remembered per symbol,
 * so a restarted publisher (remembering nothing) sends the whole state
 * once: the mirror applies rows by their index, so nothing is doubled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../upkeep/upkeep.h"
#include "clock.h"
#include "control.h"
#include "upkeep_status.h"
#include "up.h"

#define UP_IV_MAX      BB_UPKEEP_MAX_INTERVALS
#define MINUTE_WAIT_MS 2000 /* the upkeep behind a minute: waited this long */
#define LOOK_AGAIN_S   1    /* no upkeep: looked for again this often */
#define CHUNK_ITEMS    ((BR_UP_CHUNK_BYTES - BR_HDR_BYTES - BR_UP_BYTES) / \
                        BR_ITEM_BYTES)

/* What the stream was sent of one symbol's derived interval. */
struct sent_iv {
	uint32_t n;    /* rows */
	bb_bar   last; /* row n - 1 as sent */
};

struct br_upsrc {
	const struct br_opts *o;
	struct br_js   *j;
	const bb_bus   *bus;
	bb_upkeep      *u;       /* NULL: no upkeep (yet) */
	time_t          looked;  /* when it was last looked for */
	bb_table       *status, *fills, *iv[UP_IV_MAX], *hfills, *hiv[UP_IV_MAX];
	uint32_t        niv, min[UP_IV_MAX], days, nblocks, nsym, rows;
	uint16_t        tag;     /* br_up_tag() of the layout sent */
	/* The upkeep as found: its process, its whole interval list. */
	pid_t           pid;
	uint32_t        all_n, all_min[UP_IV_MAX];
	/* Sent of the session `date` (0: nothing), per source symbol. */
	int32_t         date;
	uint32_t       *nfills;
	struct sent_iv *siv;     /* [k * nsym + sym] */
	bb_quality     *squal;
	/* Their copies while a frame is made (restored when it is not sent). */
	uint32_t       *nfills0;
	struct sent_iv *siv0;
	bb_quality     *squal0;
	uint32_t       *qsym;    /* stream ids of a frame's quality items */
	bb_bar         *rowbuf;  /* one symbol's rows */
	uint8_t        *buf;     /* the frame */
	struct br_frame f;
};

int br_up_intervals(const char *list, uint32_t *min, uint32_t *n, char *why,
                    size_t len)
{
	struct up_intervals iv;
	char rest[256] = "";
	size_t at = 0;

	/* "1m" is the bus's own bars: always carried; the others are the
	 * upkeep's, parsed as barbus-upkeep parses them. */
	for (const char *p = list; *p != '\0'; p += strcspn(p, ",") +
	                                         (p[strcspn(p, ",")] == ',')) {
		size_t k = strcspn(p, ",");
		if (k == 2 && strncmp(p, "1m", 2) == 0)
			continue;
		if (k == 0 || at + k + 1 >= sizeof(rest)) {
			snprintf(why, len, "want 1m and intervals like 5m, 15m, 1h, "
			         "separated by commas");
			return BB_EINVAL;
		}
		at += (size_t)snprintf(rest + at, sizeof(rest) - at, "%s%.*s",
		                       at ? "," : "", (int)k, p);
	}
	if (up_intervals_parse(rest, &iv, why, len) != 0)
		return BB_EINVAL;
	memcpy(min, iv.min, iv.n * sizeof(*min));
	*n = iv.n;
	return 0;
}

static void close_tables(struct br_upsrc *u)
{
	bb_table_close(u->status);
	bb_table_close(u->fills);
	bb_table_close(u->hfills);
	for (uint32_t k = 0; k < UP_IV_MAX; k++) {
		bb_table_close(u->iv[k]);
		bb_table_close(u->hiv[k]);
	}
	u->status = u->fills = u->hfills = NULL;
	memset(u->iv, 0, sizeof(u->iv));
	memset(u->hiv, 0, sizeof(u->hiv));
	bb_upkeep_close(u->u);
	u->u = NULL;
}

static int open_tables(struct br_upsrc *u)
{
	const char *bus = u->o->bus;
	char role[24];
	int rc = bb_table_open(&u->status, bus, BB__UP_STATUS_ROLE);

	if (rc == 0)
		rc = bb_table_open(&u->fills, bus, "up.fills");
	for (uint32_t k = 0; rc == 0 && k < u->niv; k++) {
		snprintf(role, sizeof(role), "up.%um", u->min[k]);
		rc = bb_table_open(&u->iv[k], bus, role);
		snprintf(role, sizeof(role), "up.%um.h", u->min[k]);
		if (rc == 0 && u->nblocks)
			rc = bb_table_open(&u->hiv[k], bus, role);
	}
	if (rc == 0 && u->nblocks)
		rc = bb_table_open(&u->hfills, bus, "up.fills.h");
	return rc;
}

static void free_state(struct br_upsrc *u)
{
	free(u->nfills);
	free(u->nfills0);
	free(u->siv);
	free(u->siv0);
	free(u->squal);
	free(u->squal0);
	free(u->qsym);
	free(u->rowbuf);
	free(u->buf);
	u->nfills = u->nfills0 = NULL;
	u->siv = u->siv0 = NULL;
	u->squal = u->squal0 = NULL;
	u->qsym = NULL;
	u->rowbuf = NULL;
	u->buf = NULL;
	u->date = 0;
}

static int alloc_state(struct br_upsrc *u)
{
	size_t n = u->nsym, iv = (size_t)u->niv * n;

	u->nfills = calloc(n, sizeof(*u->nfills));
	u->nfills0 = calloc(n, sizeof(*u->nfills0));
	u->siv = calloc(iv + 1, sizeof(*u->siv));
	u->siv0 = calloc(iv + 1, sizeof(*u->siv0));
	u->squal = calloc(n, sizeof(*u->squal));
	u->squal0 = calloc(n, sizeof(*u->squal0));
	u->qsym = calloc(n, sizeof(*u->qsym));
	u->rowbuf = malloc(u->rows * sizeof(*u->rowbuf));
	u->buf = malloc(BR_UP_CHUNK_BYTES);
	return u->nfills && u->nfills0 && u->siv && u->siv0 && u->squal &&
	       u->squal0 && u->qsym && u->rowbuf && u->buf ? 0 : ENOMEM;
}

/* The UP_HELLO: its intervals and history days, on barbus.<bus>.upkeep.
 * Its id names the upkeep process too: a publisher restarted sends the
 * same one again (not stored twice), an upkeep restarted a new one. */
static int send_hello(struct br_upsrc *u)
{
	struct br_frame f = { .type = BR_UP_HELLO, .flags = u->tag,
	                      .nintervals = u->niv, .history_days = u->days };
	uint8_t buf[BR_HDR_BYTES + BR_UPHELLO_BYTES];
	char subject[BB_NAME_MAX + 32], id[BB_NAME_MAX + 160];
	int at = snprintf(id, sizeof(id), "%s-uphello-%d-%u", u->o->bus,
	                  (int)u->pid, u->days);

	for (uint32_t k = 0; k < u->niv; k++) {
		f.minutes[k] = u->min[k];
		at += snprintf(id + at, sizeof(id) - (size_t)at, "-%u", u->min[k]);
	}
	br_frame_put(buf, &f);
	snprintf(subject, sizeof(subject), "barbus.%s.upkeep", u->o->bus);
	return br_js_publish(u->j, u->o, subject, id, buf, sizeof(buf));
}

/* --intervals: only those of the upkeep's intervals; one it does not
 * derive is said (once per upkeep found) and left. */
static void select_intervals(struct br_upsrc *u)
{
	uint32_t want[UP_IV_MAX], nw, keep = 0;
	char why[160];

	if (u->o->intervals[0] == '\0' ||
	    br_up_intervals(u->o->intervals, want, &nw, why, sizeof(why)) != 0)
		return;
	for (uint32_t k = 0; k < u->niv; k++)
		for (uint32_t i = 0; i < nw; i++)
			if (want[i] == u->min[k])
				u->min[keep++] = u->min[k];
	for (uint32_t i = 0; i < nw; i++) {
		uint32_t k = 0;
		while (k < keep && u->min[k] != want[i])
			k++;
		if (k == keep)
			fprintf(stderr, "barbus-bridge: publish %s: --intervals %um: "
			        "the bus's upkeep does not derive it; not carried\n",
			        u->o->bus, want[i]);
	}
	u->niv = keep;
}

/*
 * Another upkeep runs on the bus now, with another layout: other intervals
 * or history days (it made new tables beside ours, or replaced them: ours
 * are then unlinked copies nobody writes). Looked at only when the process
 * holding our up.status is not the one found, or none: a new process of
 * the same layout attached to the same tables and changes nothing. 1: the
 * new one, opened, is in *now.
 */
static int replaced(struct br_upsrc *u, bb_upkeep **now)
{
	uint32_t min[UP_IV_MAX];
	pid_t pid = 0;
	int st = bb_upkeep_writer_state(u->u, &pid);

	if ((st != BB_WRITER_DEAD && pid == u->pid) ||
	    bb_upkeep_open(now, u->o->bus) != 0)
		return 0;
	size_t n = bb_upkeep_intervals(*now, min, UP_IV_MAX);
	int alive = bb_upkeep_writer_state(*now, &pid) == BB_WRITER_ALIVE;
	int other = n != u->all_n || n > UP_IV_MAX ||
	            memcmp(min, u->all_min, n * sizeof(*min)) != 0 ||
	            bb_upkeep_history_days(*now) != u->days ||
	            st == BB_WRITER_DEAD; /* ours unlinked: not its file */
	if (alive && other)
		return 1;
	bb_upkeep_close(*now);
	*now = NULL;
	if (alive)
		u->pid = pid; /* the same layout: the same tables */
	return 0;
}

/* The source's upkeep, when there is one now: its tables opened and its
 * UP_HELLO sent. 0 also when there is none. An upkeep replaced by another
 * is left for the new one, whose rows are all sent again (under its own
 * UP_HELLO). */
static int look(struct br_upsrc *u)
{
	bb_table *q = NULL;
	bb_upkeep *found = NULL;

	if (time(NULL) - u->looked < LOOK_AGAIN_S)
		return 0;
	u->looked = time(NULL);
	if (u->u != NULL) {
		if (!replaced(u, &found))
			return 0;
		fprintf(stderr, "barbus-bridge: publish %s: the upkeep was "
		        "replaced; its new segments are carried from now on\n",
		        u->o->bus);
		close_tables(u);
		free_state(u);
	} else if (bb_upkeep_open(&found, u->o->bus) != 0) {
		return 0;
	}
	u->u = found;
	u->niv = (uint32_t)bb_upkeep_intervals(u->u, u->min, UP_IV_MAX);
	u->all_n = u->niv;
	memcpy(u->all_min, u->min, sizeof(u->min));
	bb_upkeep_writer_state(u->u, &u->pid);
	if (u->niv <= UP_IV_MAX)
		select_intervals(u);
	u->days = bb_upkeep_history_days(u->u);
	u->nblocks = u->days ? u->days + 1 : 0;
	int rc = open_tables(u);
	if (rc == 0 && (rc = bb_table_open(&q, u->o->bus, "up.quality")) == 0) {
		u->nsym = bb_table_symbols(q);
		u->rows = bb_table_rows(u->fills);
		bb_table_close(q);
	}
	if (rc != 0 || u->niv > UP_IV_MAX) {
		close_tables(u); /* half made: looked for again */
		return 0;
	}
	u->tag = br_up_tag(u->niv, u->min, u->days);
	if ((rc = alloc_state(u)) == 0)
		rc = send_hello(u);
	return rc;
}

int br_upsrc_new(struct br_upsrc **out, const struct br_opts *o,
                 struct br_js *j, const bb_bus *bus)
{
	struct br_upsrc *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return ENOMEM;
	u->o = o;
	u->j = j;
	u->bus = bus;
	*out = u;
	return 0;
}

void br_upsrc_free(struct br_upsrc *u)
{
	if (u == NULL)
		return;
	close_tables(u);
	free_state(u);
	free(u);
}

/* ---- one frame's items ------------------------------------------------ */

static int item(struct br_upsrc *u, uint32_t table, uint32_t row,
                const bb_bar *b, uint32_t sym)
{
	bb_bar m = *b;

	if (u->f.count >= CHUNK_ITEMS)
		return BB_EFULL;
	m.symbol = sym;
	br_item_put(u->buf, &u->f, u->f.count++, table, row, &m);
	return 0;
}

static int rows_last(struct br_upsrc *u, const bb_table *t, uint32_t tsym,
                     const bb_session *ses, size_t n, size_t *got);

/* sym's rows of table t (all: a table only appends and rewrites its
 * latest); BB_ERETRY when one lies outside the session (the upkeep is on
 * another one now). */
static int rows_of(struct br_upsrc *u, const bb_table *t, uint32_t tsym,
                   const bb_session *ses, size_t *got)
{
	return rows_last(u, t, tsym, ses, u->rows, got);
}

/* The same for sym's last n rows. */
static int rows_last(struct br_upsrc *u, const bb_table *t, uint32_t tsym,
                     const bb_session *ses, size_t n, size_t *got)
{
	int rc = bb_table_last_n(t, tsym, u->rowbuf, n, got);

	for (size_t i = 0; rc == 0 && i < *got; i++)
		if (u->rowbuf[i].time < ses->open || u->rowbuf[i].time >= ses->close)
			rc = BB_ERETRY;
	return rc;
}

/* The rows of a derived table for src from the latest one sent on (a
 * table rewrites only its latest row, and a derived table's times
 * increase): rowbuf[j] is row *first + j. All of them when nothing was
 * sent yet or more came than were looked for. */
static int iv_tail(struct br_upsrc *u, const bb_table *t, uint32_t src,
                   const struct sent_iv *s, const bb_session *ses,
                   size_t *first, size_t *got)
{
	uint32_t c = bb_table_count(t, src);
	size_t want = (c > s->n ? c - s->n : 0) + 3; /* the latest sent, and
	                                                 two more come since */
	int rc;

	*first = 0;
	if (s->n == 0 || want >= u->rows)
		return rows_of(u, t, src, ses, got);
	rc = rows_last(u, t, src, ses, want, got);
	for (size_t p = 0; rc == 0 && p < *got && p < s->n; p++)
		if (u->rowbuf[p].time == s->last.time) {
			*first = s->n - 1 - p;
			return 0;
		}
	return rc == 0 ? rows_of(u, t, src, ses, got) : rc;
}

/* Source symbol src (stream id sym): its fills and derived rows not sent
 * yet, as items. */
static int sym_rows(struct br_upsrc *u, uint32_t src, uint32_t sym,
                    const bb_session *ses)
{
	size_t got;
	int rc = rows_of(u, u->fills, src, ses, &got);

	for (size_t i = u->nfills[src]; rc == 0 && i < got; i++)
		rc = item(u, BR_TABLE_FILLS, (uint32_t)i, &u->rowbuf[i], sym);
	if (rc == 0)
		u->nfills[src] = (uint32_t)got;
	for (uint32_t k = 0; rc == 0 && k < u->niv; k++) {
		struct sent_iv *s = &u->siv[k * u->nsym + src];
		size_t first = 0, n;
		rc = iv_tail(u, u->iv[k], src, s, ses, &first, &got);
		n = first + got; /* rowbuf[j] is row first + j */
		if (rc == 0 && n < s->n)
			rc = BB_ERETRY; /* reset: a new session */
		size_t from = s->n;
		if (rc == 0 && s->n > 0 && memcmp(&u->rowbuf[s->n - 1 - first],
		                                  &s->last, sizeof(s->last)) != 0)
			from = s->n - 1; /* the latest, rewritten */
		for (size_t i = from; rc == 0 && i < n; i++)
			rc = item(u, BR_TABLE_IV + k, (uint32_t)i,
			          &u->rowbuf[i - first], sym);
		if (rc == 0 && n > 0) {
			s->n = (uint32_t)n;
			s->last = u->rowbuf[n - 1 - first];
		}
	}
	return rc;
}

static void save(struct br_upsrc *u, int back)
{
	size_t n = u->nsym, iv = (size_t)u->niv * n;

	if (!back) {
		memcpy(u->nfills0, u->nfills, n * sizeof(*u->nfills));
		memcpy(u->siv0, u->siv, iv * sizeof(*u->siv));
		memcpy(u->squal0, u->squal, n * sizeof(*u->squal));
	} else {
		memcpy(u->nfills, u->nfills0, n * sizeof(*u->nfills));
		memcpy(u->siv, u->siv0, iv * sizeof(*u->siv));
		memcpy(u->squal, u->squal0, n * sizeof(*u->squal));
	}
}

/* Record row of the upkeep's status table, read again while the upkeep
 * rewrites it (BB_ERETRY is no answer: taken for one, a block not found
 * or a session taken as finished went unsent). */
static int status_row(const struct br_upsrc *u, uint32_t row, void *rec)
{
	int rc = BB_ERETRY;

	for (int i = 0; rc == BB_ERETRY && i < 1000; i++)
		rc = bb_table_record(u->status, row, rec);
	return rc;
}

static int status_info(const struct br_upsrc *u, bb_upkeep_info *st)
{
	return status_row(u, BB__UP_ROW_INFO, st);
}

/*
 * The items of an UP frame into u->f and u->buf: the rows of every symbol
 * not sent yet, then the quality figures that changed; as many symbols as
 * one frame holds (the rest go in the next). BB_ERETRY: the upkeep is not
 * on session ses (nothing sent of it then).
 */
static int collect(struct br_upsrc *u, const struct br_up_map *map,
                   const bb_session *ses, int *all)
{
	bb_upkeep_info st;
	uint32_t i, nq = 0, *qsym = u->qsym;
	int rc = status_info(u, &st);

	*all = 1;
	if (rc == 0 && st.date != ses->date)
		rc = BB_ERETRY;
	if (rc == 0 && u->date != ses->date) {
		/* A new session: nothing of it sent yet. */
		memset(u->nfills, 0, u->nsym * sizeof(*u->nfills));
		memset(u->siv, 0, (size_t)u->niv * u->nsym * sizeof(*u->siv));
		memset(u->squal, 0, u->nsym * sizeof(*u->squal));
		u->date = ses->date;
	}
	if (rc != 0)
		return rc;
	save(u, 0);
	for (i = 0; rc == 0 && i < map->n; i++) {
		uint32_t src = map->src_of[i], at = u->f.count;
		struct sent_iv keep[UP_IV_MAX];
		if (src >= u->nsym)
			continue;
		uint32_t nf = u->nfills[src];
		for (uint32_t k = 0; k < u->niv; k++)
			keep[k] = u->siv[k * u->nsym + src];
		rc = sym_rows(u, src, i, ses);
		if (rc == BB_EFULL) { /* this symbol goes in the next frame */
			u->f.count = at;
			u->nfills[src] = nf;
			for (uint32_t k = 0; k < u->niv; k++)
				u->siv[k * u->nsym + src] = keep[k];
			*all = 0;
			break;
		}
	}
	if (rc == BB_EFULL)
		rc = 0;
	/* Quality figures of the symbols whose rows went (all, or the
	 * first i), as many as fit. */
	for (uint32_t j = 0; rc == 0 && j < i && j < map->n; j++) {
		uint32_t src = map->src_of[j];
		bb_quality q;
		if (src >= u->nsym || bb_upkeep_quality(u->u, src, &q) != 0 ||
		    q.date != ses->date ||
		    memcmp(&q, &u->squal[src], sizeof(q)) == 0)
			continue;
		if (u->f.count + nq >= CHUNK_ITEMS) {
			*all = 0;
			break;
		}
		u->squal[src] = q;
		qsym[nq++] = j;
	}
	/* The upkeep still on ses: what was read belongs to it. */
	if (rc == 0 && (rc = status_info(u, &u->f.info)) == 0 &&
	    u->f.info.date != ses->date)
		rc = BB_ERETRY;
	if (rc != 0) {
		save(u, 1);
		return rc;
	}
	u->f.nqual = nq;
	u->f.count += nq;
	br_frame_put(u->buf, &u->f);
	for (uint32_t j = 0; j < nq; j++)
		br_quality_put(u->buf, &u->f, j, qsym[j],
		               &u->squal[map->src_of[qsym[j]]]);
	return 0;
}

/* --json-subjects: each derived bar of the UP frame just stored that is
 * final, and each fill (a 1-minute bar the upkeep made, flagged
 * synthetic), as the JSON line of barbus-tail --json without its newline,
 * on barbus.<bus>.<N>m.<symbol> (fills: 1m; plain NATS: no acknowledgement
 * awaited). */
static int send_json(struct br_upsrc *u, const struct br_up_map *map)
{
	char sym[BB_SYMBOL_MAX + 1];
	struct br_frame f;
	uint32_t table, row;
	bb_bar b;
	int rc = br_frame_get(u->buf, br_frame_bytes(u->f.type, u->f.count, 0),
	                      &f, NULL);

	for (uint32_t i = 0; rc == 0 && i + f.nqual < f.count; i++) {
		br_item_get(&f, i, &table, &row, &b);
		if (table != BR_TABLE_FILLS && (table - BR_TABLE_IV >= u->niv ||
		                                (b.flags & BB_BAR_PARTIAL)))
			continue;
		if (b.symbol >= map->n ||
		    bb_symbol_name(u->bus, map->src_of[b.symbol], sym,
		                   sizeof(sym)) != 0)
			snprintf(sym, sizeof(sym), "%u", b.symbol);
		rc = br_json_bar(u->j, u->o->bus, table == BR_TABLE_FILLS ? 1
		                 : u->min[table - BR_TABLE_IV], sym, &b);
	}
	return rc;
}

/* Make and send one UP or UP_END frame at sub; *all: everything went. */
static int send_up(struct br_upsrc *u, const struct br_up_map *map,
                   const bb_session *ses, uint64_t number, int type,
                   uint32_t sub, int *all, br_up_emit emit, void *ctx)
{
	int stored = 0;

	u->f = (struct br_frame){ .type = (uint8_t)type, .flags = u->tag,
	                          .date = ses->date, .time = ses->open,
	                          .pos = br_pos(number, sub), .session = *ses };
	int rc = collect(u, map, ses, all);

	if (rc == BB_ERETRY) {
		*all = 1;
		return 0; /* the upkeep is not (or no longer) on ses */
	}
	if (rc != 0)
		return rc;
	if (type == BR_UP && u->f.count == 0)
		return 0;
	rc = emit(ctx, &u->f, u->buf, br_frame_bytes(type, u->f.count, 0),
	          &stored);
	if (rc == 0 && stored && u->o->json_subjects)
		rc = send_json(u, map);
	if (rc == 0 && !stored) {
		/* The stream held that position: what this frame would have
		 * said was not sent, so it is not counted as sent. */
		memset(u->nfills, 0, u->nsym * sizeof(*u->nfills));
		memset(u->siv, 0, (size_t)u->niv * u->nsym * sizeof(*u->siv));
		memset(u->squal, 0, u->nsym * sizeof(*u->squal));
	}
	return rc;
}

/* ---- waiting for the upkeep -------------------------------------------- */

/* The upkeep finished ses (or left, or went on to a later session). */
static int finished(struct br_upsrc *u, const bb_session *ses)
{
	bb_upkeep_info st;

	return status_info(u, &st) != 0 || st.date > ses->date ||
	       (st.date == ses->date && st.done_date == ses->date) ||
	       bb_upkeep_writer_state(u->u, NULL) != BB_WRITER_ALIVE;
}

/* The upkeep took minute t of ses: the quality of the last symbol it
 * follows counts it (an upkeep completes minutes for symbols in order). */
static int took(struct br_upsrc *u, const struct br_up_map *map,
                const bb_session *ses, int64_t t)
{
	bb_quality q;
	uint32_t want = (uint32_t)((t - ses->open) / 60) + 1;

	if (finished(u, ses))
		return 1;
	for (uint32_t i = map->n; i-- > 0;) {
		uint32_t src = map->src_of[i];
		if (!bb_symbol_replayed(u->bus, src))
			continue;
		return bb_upkeep_quality(u->u, src, &q) == 0 &&
		       q.date == ses->date && q.expected >= want;
	}
	return 1;
}

int br_upsrc_minute(struct br_upsrc *u, const struct br_up_map *map,
                    const bb_session *ses, uint64_t number, int64_t t,
                    br_up_emit emit, void *ctx)
{
	int all, rc = look(u);

	if (rc != 0 || u->u == NULL)
		return rc;
	for (int64_t until = bb__mono_ms() + MINUTE_WAIT_MS;
	     !took(u, map, ses, t) && bb__mono_ms() < until;)
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	all = 0;
	for (uint32_t c = 0; rc == 0 && !all && c < BR_UP_CHUNKS; c++)
		rc = send_up(u, map, ses, number, BR_UP, br_sub_up(ses->open, t, c),
		             &all, emit, ctx);
	return rc;
}

/* Wait (up to --retry) for the upkeep to finish ses. */
static void wait_finished(struct br_upsrc *u, const bb_session *ses)
{
	for (time_t until = time(NULL) + u->o->retry_s;
	     !finished(u, ses) && time(NULL) < until;)
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
}

/* ---- history blocks ----------------------------------------------------- */

/* The block holding session `date`, or -1. */
static int block_of(struct br_upsrc *u, int32_t date)
{
	struct bb__block b;

	for (uint32_t k = 0; k < u->nblocks; k++)
		if (status_row(u, bb__up_block_row(k), &b) == 0 &&
		    b.date == date)
			return (int)k;
	return -1;
}

/* One symbol's rows of block k as items; BB_EFULL when they do not fit. */
static int block_rows(struct br_upsrc *u, int k, uint32_t src, uint32_t sym,
                      const bb_session *ses)
{
	uint32_t ts = bb__up_hist_symbol((uint32_t)k, u->nsym, src);
	size_t got;
	int rc = rows_of(u, u->hfills, ts, ses, &got);

	for (size_t i = 0; rc == 0 && i < got; i++)
		rc = item(u, BR_TABLE_FILLS, (uint32_t)i, &u->rowbuf[i], sym);
	for (uint32_t iv = 0; rc == 0 && iv < u->niv; iv++) {
		rc = rows_of(u, u->hiv[iv], ts, ses, &got);
		for (size_t i = 0; rc == 0 && i < got; i++)
			rc = item(u, BR_TABLE_IV + iv, (uint32_t)i, &u->rowbuf[i], sym);
	}
	return rc;
}

/* Session ses's history block as UP_BLOCK frames, the upkeep done with
 * ses (or waited for in vain); *owed 1 when it has no block of ses. */
static int send_block(struct br_upsrc *u, const struct br_up_map *map,
                      const bb_session *ses, uint64_t number,
                      br_up_emit emit, void *ctx, int *owed)
{
	int rc = 0, k, stored;
	uint32_t first = 0, c = 0;

	if (!u->nblocks)
		return 0;
	if ((k = block_of(u, ses->date)) < 0) {
		*owed = 1; /* not written yet, or never: asked again */
		return 0;
	}
	while (rc == 0 && (first < map->n || c == 0)) {
		u->f = (struct br_frame){ .type = BR_UP_BLOCK, .flags = u->tag,
		                          .date = ses->date, .time = ses->open,
		                          .session = *ses,
		                          .pos = br_pos(number, BR_SUB_BLOCK + c),
		                          .first = first };
		uint32_t i = first;
		for (; rc == 0 && i < map->n; i++) {
			uint32_t at = u->f.count;
			if (map->src_of[i] >= u->nsym)
				continue;
			rc = block_rows(u, k, map->src_of[i], i, ses);
			if (rc == BB_EFULL && i > first) {
				u->f.count = at; /* in the next chunk */
				rc = 0;
				break;
			}
		}
		/* The block rolled to another session meanwhile: not sent. */
		if (rc == BB_ERETRY || block_of(u, ses->date) != k)
			return 0;
		u->f.nsym = i - first;
		u->f.last = i >= map->n ? BR_BLOCK_LAST : 0;
		br_frame_put(u->buf, &u->f);
		if (rc == 0)
			rc = emit(ctx, &u->f, u->buf,
			          br_frame_bytes(BR_UP_BLOCK, u->f.count, 0), &stored);
		first = i;
		c++;
	}
	return rc;
}

int br_upsrc_end(struct br_upsrc *u, const struct br_up_map *map,
                 const bb_session *ses, uint64_t number, br_up_emit emit,
                 void *ctx, int *owed)
{
	int all = 0, rc = look(u);

	*owed = u->u == NULL;
	if (rc != 0 || u->u == NULL)
		return rc;
	wait_finished(u, ses);
	for (uint32_t c = 0; rc == 0 && !all && c < BR_SUB_BLOCK - BR_SUB_UP_END;
	     c++)
		rc = send_up(u, map, ses, number, BR_UP_END, BR_SUB_UP_END + c, &all,
		             emit, ctx);
	return rc == 0 ? send_block(u, map, ses, number, emit, ctx, owed) : rc;
}

int br_upsrc_block(struct br_upsrc *u, const struct br_up_map *map,
                   const bb_session *ses, uint64_t number, br_up_emit emit,
                   void *ctx, int *owed)
{
	int rc = look(u);

	*owed = rc == 0 && u->u == NULL; /* an upkeep may come */
	if (rc != 0 || u->u == NULL)
		return rc;
	/* A session the bus has in history may still be the upkeep's
	 * current one (a publisher starting again, lapped, while the upkeep
	 * finishes it): its block is written at its end. Sent later, it
	 * would be skipped as stored (the stream's last being past it). */
	wait_finished(u, ses);
	return send_block(u, map, ses, number, emit, ctx, owed);
}
