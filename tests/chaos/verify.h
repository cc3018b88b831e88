/*
 * verify.h: after the run, what each reader saw against the store.
 *
 * - Ring (r<N>.ring): every bar is the store's bar of its symbol and
 *   minute, word for word (a torn or invalid bar is not); events are
 *   well formed; no bar twice; the reader's position moves by exactly 1
 *   per record and by exactly the count a lap reported, from where it
 *   opened to the ring's head at the end (so lost + read = positions
 *   covered); a reader never lapped got every store bar and every
 *   session's start and end once.
 * - Snapshot (r<N>.snap): every session at 1m is the store's bars, and at
 *   each derived interval the bars recomputed here from the store
 *   (aligned to the open, cut at the close, first open, highest high,
 *   lowest low, last close, summed volume; no bar for an interval
 *   without minutes; final, so no flag).
 * Each kind of violation is printed for its first VF_SHOW occurrences per
 * reader, and counted in full in the check that closes it.
 */
#ifndef BB_CHAOS_VERIFY_H
#define BB_CHAOS_VERIFY_H

#include "chaos.h"

#define VF_MAX_SESS 16
#define VF_SHOW     10

struct vf_sess {
	bb_session s;
	int        nmin;
	bb_bar    *bar;   /* [minute * nsym + sym] */
	uint8_t   *have;
};

static struct {
	int            n;
	struct vf_sess s[VF_MAX_SESS];
	uint64_t       nbars;
} ex;

/* The store's bars of every session of the range; 0 or why not. */
static int vf_load(void)
{
	bb_calendar *cal;
	bb_store *st;
	bb_session s;
	int32_t d, to;
	char db[96];
	int rc;

	snprintf(db, sizeof(db), "%s/db", g.dir);
	if ((rc = bb_calendar_load(&cal, "XNYS", NULL, 0)) != 0)
		return rc;
	if ((rc = bb_store_open(&st, db, BB_STORE_RDONLY)) != 0)
		goto out;
	bb_date_parse(g.p.from, &d);
	bb_date_parse(g.p.to, &to);
	for (; rc == 0 && bb_calendar_next(cal, d, &s) == 0 && s.date <= to;
	     d = bb_days_to_date(bb_date_to_days(s.date) + 1)) {
		if (ex.n == VF_MAX_SESS)
			return BB_EINVAL;
		struct vf_sess *e = &ex.s[ex.n++];
		e->s = s;
		e->nmin = (int)((s.close - s.open) / 60);
		e->bar = calloc((size_t)e->nmin * (size_t)g.p.nsym, sizeof(bb_bar));
		e->have = calloc((size_t)e->nmin * (size_t)g.p.nsym, 1);
		static bb_bar buf[CH_MAX_ROWS];
		for (uint32_t sym = 0; rc == 0 && sym < (uint32_t)g.p.nsym; sym++) {
			size_t n = 0;
			rc = bb_store_range(st, sym, s.open, s.close, buf,
			                    CH_MAX_ROWS, &n);
			for (size_t i = 0; rc == 0 && i < n; i++) {
				size_t k = (size_t)((buf[i].time - s.open) / 60) *
				           (size_t)g.p.nsym + sym;
				e->bar[k] = buf[i];
				e->have[k] = 1;
				ex.nbars++;
			}
		}
	}
	bb_store_close(st);
out:
	bb_calendar_free(cal);
	return rc;
}

/* Index of the session whose minutes hold t (t on a minute), or -1. */
static int vf_sess_of(int64_t t)
{
	for (int i = 0; i < ex.n; i++)
		if (t >= ex.s[i].s.open && t < ex.s[i].s.close &&
		    (t - ex.s[i].s.open) % 60 == 0)
			return i;
	return -1;
}

static int vf_sess_of_date(int32_t date)
{
	for (int i = 0; i < ex.n; i++)
		if (ex.s[i].s.date == date)
			return i;
	return -1;
}

/* The store's bar of (sym, t), or NULL. */
static const bb_bar *vf_store_bar(uint32_t sym, int64_t t)
{
	int i = vf_sess_of(t);

	if (i < 0 || sym >= (uint32_t)g.p.nsym)
		return NULL;
	size_t k = (size_t)((t - ex.s[i].s.open) / 60) * (size_t)g.p.nsym + sym;
	return ex.s[i].have[k] ? &ex.s[i].bar[k] : NULL;
}

#define VF_SAY(cnt, ...) \
	do { if ((cnt)++ < VF_SHOW) { printf("violation "); \
	     printf(__VA_ARGS__); putchar('\n'); } } while (0)

/* What one reader's ring file says. */
struct vf_ring {
	uint64_t reads, lost, laps, bars, seen;
	uint64_t invalid, dups, events_bad, errors, seq_err, epoch_err;
	uint64_t start, end;
	uint64_t starts[VF_MAX_SESS], ends[VF_MAX_SESS];
	uint8_t *seen_at[VF_MAX_SESS];
};

static void vf_bar(struct vf_ring *v, int rd, const struct ch_rec *e)
{
	const bb_bar *want = vf_store_bar(e->bar.symbol, e->bar.time);

	v->bars++;
	if (want == NULL || memcmp(want, &e->bar, sizeof(*want)) != 0) {
		VF_SAY(v->invalid, "reader %s: torn or invalid bar at position "
		       "%llu: symbol %u time %lld open %.17g close %.17g flags "
		       "%#x", ch_rd_name[rd], (unsigned long long)e->seq,
		       e->bar.symbol, (long long)e->bar.time, e->bar.open,
		       e->bar.close, e->bar.flags);
		return;
	}
	int i = vf_sess_of(e->bar.time);
	size_t k = (size_t)((e->bar.time - ex.s[i].s.open) / 60) *
	           (size_t)g.p.nsym + e->bar.symbol;
	if (v->seen_at[i][k]++ != 0)
		VF_SAY(v->dups, "reader %s: bar %u at %lld received twice "
		       "(position %llu)", ch_rd_name[rd], e->bar.symbol,
		       (long long)e->bar.time, (unsigned long long)e->seq);
	else
		v->seen++;
}

static void vf_event(struct vf_ring *v, int rd, const struct ch_rec *e)
{
	bb_session s;
	uint32_t kind = BB_KIND(e->bar.flags);
	int i = -1, ok;

	if (kind == BB_KIND_MINUTE_END) {
		ok = vf_sess_of(e->bar.time) >= 0 && e->bar.volume >= 0 &&
		     e->bar.volume <= g.p.nsym &&
		     e->bar.volume == (double)(uint32_t)e->bar.volume;
	} else {
		ok = (kind == BB_KIND_SESSION_START || kind == BB_KIND_SESSION_END) &&
		     bb_event_session_get(&e->bar, &s, NULL) == 0 &&
		     (i = vf_sess_of_date(s.date)) >= 0 &&
		     ex.s[i].s.open == s.open && ex.s[i].s.close == s.close;
		if (ok)
			(kind == BB_KIND_SESSION_START ? v->starts : v->ends)[i]++;
	}
	if (!ok)
		VF_SAY(v->events_bad, "reader %s: bad record of kind %u at "
		       "position %llu", ch_rd_name[rd], kind,
		       (unsigned long long)e->seq);
}

/* One record of the file: position, epoch, then its content. */
static void vf_rec(struct vf_ring *v, int rd, const struct ch_rec *e,
                   uint64_t *pos, uint64_t *epoch)
{
	if (e->seq != *pos)
		VF_SAY(v->seq_err, "reader %s: at position %llu, expected %llu",
		       ch_rd_name[rd], (unsigned long long)e->seq,
		       (unsigned long long)*pos);
	if (e->epoch < *epoch)
		VF_SAY(v->epoch_err, "reader %s: epoch went back from %llu to "
		       "%llu", ch_rd_name[rd], (unsigned long long)*epoch,
		       (unsigned long long)e->epoch);
	*epoch = e->epoch;
	if (e->rc == BB_ELAPPED) {
		v->laps++;
		v->lost += e->lost;
		*pos = e->seq + e->lost;
		return;
	}
	if (e->rc != 0) {
		VF_SAY(v->errors, "reader %s: %s at position %llu",
		       ch_rd_name[rd], bb_strerror(e->rc),
		       (unsigned long long)e->seq);
		*pos = e->seq; /* unknown: take the next record's */
		return;
	}
	v->reads++;
	*pos = e->seq + 1;
	if (BB_KIND(e->bar.flags) == BB_KIND_BAR)
		vf_bar(v, rd, e);
	else
		vf_event(v, rd, e);
}

/* Reads r<rd>.ring and r<rd>.sum into v; 0 or why not. */
static int vf_ring_read(struct vf_ring *v, int rd)
{
	char path[PATH_MAX];
	struct ch_sum sum;
	struct ch_rec e;
	uint64_t epoch = 0;

	ch_path(path, sizeof(path), rd, "sum");
	FILE *f = fopen(path, "rb");
	if (f == NULL || fread(&sum, sizeof(sum), 1, f) != 1)
		return f == NULL ? errno : BB_ETRUNCATED;
	fclose(f);
	v->start = sum.start;
	v->end = sum.end;
	for (int i = 0; i < ex.n; i++)
		v->seen_at[i] = calloc((size_t)ex.s[i].nmin * (size_t)g.p.nsym, 1);
	ch_path(path, sizeof(path), rd, "ring");
	if ((f = fopen(path, "rb")) == NULL)
		return errno;
	uint64_t pos = sum.start;
	while (fread(&e, sizeof(e), 1, f) == 1)
		vf_rec(v, rd, &e, &pos, &epoch);
	fclose(f);
	if (pos != sum.end)
		VF_SAY(v->seq_err, "reader %s: its records end at position %llu, "
		       "the reader at %llu", ch_rd_name[rd],
		       (unsigned long long)pos, (unsigned long long)sum.end);
	return sum.snap_rc;
}

/* The checks of one reader's ring against the store and the head. */
static void vf_ring(int rd, uint64_t head, uint64_t *lost_out)
{
	struct vf_ring v = { 0 };
	const char *n = ch_rd_name[rd];
	int rc = vf_ring_read(&v, rd);

	CHECK(rc == 0, "reader %s: its files are complete and it could read "
	      "the bus at the end (%s)", n, bb_strerror(rc));
	CHECK(v.invalid == 0, "reader %s: no torn or invalid bar among %llu "
	      "(%llu)", n, (unsigned long long)v.bars,
	      (unsigned long long)v.invalid);
	CHECK(v.events_bad == 0 && v.errors == 0, "reader %s: every event well "
	      "formed (%llu bad), no read error (%llu)", n,
	      (unsigned long long)v.events_bad, (unsigned long long)v.errors);
	CHECK(v.dups == 0, "reader %s: no bar received twice (%llu)", n,
	      (unsigned long long)v.dups);
	CHECK(v.seq_err == 0 && v.epoch_err == 0, "reader %s: its position "
	      "moved by 1 per record and by the lost count per lap (%llu "
	      "errors), epochs only went up (%llu errors)", n,
	      (unsigned long long)v.seq_err, (unsigned long long)v.epoch_err);
	CHECK(v.start == 0 && v.end == head && v.reads + v.lost == head - v.start,
	      "reader %s: lost %llu + read %llu = positions covered %llu - %llu "
	      "(the ring's head %llu)", n, (unsigned long long)v.lost,
	      (unsigned long long)v.reads, (unsigned long long)v.end,
	      (unsigned long long)v.start, (unsigned long long)head);
	uint64_t se_bad = 0;
	for (int i = 0; i < ex.n; i++)
		se_bad += v.lost == 0 && (v.starts[i] != 1 || v.ends[i] != 1);
	if (v.lost == 0)
		CHECK(v.seen == ex.nbars && se_bad == 0, "reader %s (never "
		      "lapped): every store bar once (%llu of %llu), every "
		      "session started and ended once (%llu wrong)", n,
		      (unsigned long long)v.seen, (unsigned long long)ex.nbars,
		      (unsigned long long)se_bad);
	INFO("reader %s: %llu records, %llu bars, %llu laps losing %llu",
	     n, (unsigned long long)v.reads, (unsigned long long)v.bars,
	     (unsigned long long)v.laps, (unsigned long long)v.lost);
	for (int i = 0; i < ex.n; i++)
		free(v.seen_at[i]);
	*lost_out = v.lost;
}

/* The bars interval iv of sym in session s should be: the store's at 1m,
 * recomputed from them otherwise. Returns how many, into out. */
static size_t vf_expect(const struct vf_sess *s, uint32_t sym, uint32_t iv,
                        bb_bar *out)
{
	size_t n = 0;

	for (int m0 = 0; m0 < s->nmin; m0 += (int)iv) {
		int any = 0;
		bb_bar d = { 0 };
		for (int m = m0; m < m0 + (int)iv && m < s->nmin; m++) {
			size_t k = (size_t)m * (size_t)g.p.nsym + sym;
			if (!s->have[k])
				continue;
			const bb_bar *b = &s->bar[k];
			if (!any) {
				d = *b;
				d.time = s->s.open + (int64_t)m0 * 60;
				any = 1;
				continue;
			}
			d.high = b->high > d.high ? b->high : d.high;
			d.low = b->low < d.low ? b->low : d.low;
			d.close = b->close;
			d.volume += b->volume;
		}
		if (any)
			out[n++] = d;
	}
	return n;
}

struct vf_snap {
	uint64_t bad, rc_bad, lists;
	uint32_t covered[VF_MAX_SESS][CH_NIV];
};

static void vf_snap_one(struct vf_snap *v, int rd, const struct ch_snap *h,
                        const bb_bar *got)
{
	static bb_bar want[CH_MAX_ROWS];
	int k = 0, i = vf_sess_of_date(h->date);

	while (k < CH_NIV && ch_iv[k] != h->interval)
		k++;
	if (h->rc != 0 || i < 0 || k == CH_NIV) {
		VF_SAY(v->rc_bad, "reader %s: back %d symbol %u %um: %s (date %d)",
		       ch_rd_name[rd], h->back, h->sym, h->interval,
		       bb_strerror(h->rc), h->date);
		return;
	}
	v->lists++;
	v->covered[i][k]++;
	size_t n = vf_expect(&ex.s[i], h->sym, h->interval, want);
	size_t j = 0;
	while (j < n && j < h->n && memcmp(&want[j], &got[j], sizeof(bb_bar)) == 0)
		j++;
	if (j == n && n == h->n)
		return;
	VF_SAY(v->bad, "reader %s: session %d symbol %u %um: %u bars, %zu "
	       "expected; first difference at %zu (time %lld: open %.17g/%.17g "
	       "volume %.17g/%.17g flags %#x/%#x)", ch_rd_name[rd], h->date,
	       h->sym, h->interval, h->n, n, j,
	       (long long)(j < h->n ? got[j].time : 0),
	       j < h->n ? got[j].open : 0, j < n ? want[j].open : 0,
	       j < h->n ? got[j].volume : 0, j < n ? want[j].volume : 0,
	       j < h->n ? got[j].flags : 0, j < n ? want[j].flags : 0);
}

/* The checks of one reader's snapshot against the store. */
static void vf_snap(int rd)
{
	static bb_bar got[CH_MAX_ROWS];
	struct vf_snap v = { 0 };
	struct ch_snap h;
	char path[PATH_MAX];
	uint64_t holes = 0;

	ch_path(path, sizeof(path), rd, "snap");
	FILE *f = fopen(path, "rb");
	while (f != NULL && fread(&h, sizeof(h), 1, f) == 1) {
		if (h.n > CH_MAX_ROWS || fread(got, sizeof(got[0]), h.n, f) != h.n)
			break;
		vf_snap_one(&v, rd, &h, got);
	}
	if (f != NULL)
		fclose(f);
	for (int i = 0; i < ex.n; i++)
		for (int k = 0; k < CH_NIV; k++)
			holes += v.covered[i][k] != (uint32_t)g.p.nsym;
	CHECK(v.rc_bad == 0 && holes == 0, "reader %s: every session of the "
	      "range kept, at 1m and every interval, for every symbol (%llu "
	      "reads failed, %llu session-intervals incomplete)", ch_rd_name[rd],
	      (unsigned long long)v.rc_bad, (unsigned long long)holes);
	CHECK(v.bad == 0 && v.lists > 0, "reader %s: 1m series equal the store "
	      "and derived bars a recomputation (%llu of %llu lists differ)",
	      ch_rd_name[rd], (unsigned long long)v.bad,
	      (unsigned long long)v.lists);
}

#endif /* BB_CHAOS_VERIFY_H */
