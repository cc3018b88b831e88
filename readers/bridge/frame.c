/* frame.c: encode and decode the bridge's frames; see frame.h. */
#include <endian.h>
#include <string.h>

#include "frame.h"

/* Little-endian stores and loads, whatever the host: one unaligned move
 * and, on a big-endian host, a byte swap (a loop over the bytes is not
 * merged into one move by the compiler: it was two thirds of a mirror's
 * instructions). */
static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void putf(uint8_t *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	put64(p, v);
}

static double getf(const uint8_t *p)
{
	uint64_t v = get64(p);
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

/* Fixed body bytes of each type; 0 for an unknown one. */
static size_t body_bytes(int type)
{
	switch (type) {
	case BR_HELLO:         return BR_GEOM_BYTES;
	case BR_HISTORY:       return 24;
	case BR_SESSION_START: return 16;
	case BR_SESSION_END:   return 16;
	case BR_UP_HELLO:      return BR_UPHELLO_BYTES;
	case BR_UP:
	case BR_UP_END:        return BR_UP_BYTES;
	case BR_UP_BLOCK:      return BR_BLOCK_BYTES;
	default:               return 0;
	}
}

static int is_upkeep_items(int type)
{
	return type == BR_UP || type == BR_UP_END || type == BR_UP_BLOCK;
}

size_t br_frame_bytes(int type, uint32_t count, uint32_t nsym)
{
	size_t n = BR_HDR_BYTES + body_bytes(type);

	if (type == BR_HELLO)
		return n + (size_t)count * BR_NAME_BYTES;
	if (type == BR_HISTORY)
		n += (size_t)nsym * 4;
	if (is_upkeep_items(type))
		return n + (size_t)count * BR_ITEM_BYTES;
	return n + (size_t)count * BR_REC_BYTES;
}

/* Offset of the first record of f. */
static size_t records_off(const struct br_frame *f)
{
	size_t off = BR_HDR_BYTES + body_bytes(f->type);

	if (f->type == BR_HISTORY)
		off += (size_t)f->nsym * 4;
	return off;
}

/* UP, UP_END body: close, nqual, zero, then the upkeep's status. */
static void put_up(uint8_t *b, const struct br_frame *f)
{
	const bb_upkeep_info *u = &f->info;

	put64(b, (uint64_t)f->session.close);
	put32(b + 8, f->nqual);
	put32(b + 12, 0);
	put32(b + 16, (uint32_t)u->done_date);
	put32(b + 20, u->state);
	put32(b + 24, (uint32_t)u->date);
	put32(b + 28, u->nintervals);
	put64(b + 32, u->sessions_done);
	put64(b + 40, u->bars_seen);
	put64(b + 48, u->lapped);
	put64(b + 56, u->fills);
	put64(b + 64, u->unfillable);
}

static void get_up(const uint8_t *b, struct br_frame *f)
{
	bb_upkeep_info *u = &f->info;

	f->session.close = (int64_t)get64(b);
	f->nqual = get32(b + 8);
	u->done_date = (int32_t)get32(b + 16);
	u->state = get32(b + 20);
	u->date = (int32_t)get32(b + 24);
	u->nintervals = get32(b + 28);
	u->sessions_done = get64(b + 32);
	u->bars_seen = get64(b + 40);
	u->lapped = get64(b + 48);
	u->fills = get64(b + 56);
	u->unfillable = get64(b + 64);
}

void br_frame_put(uint8_t *buf, const struct br_frame *f)
{
	uint8_t *b = buf + BR_HDR_BYTES;

	memcpy(buf, BR_MAGIC, 4);
	buf[4] = BR_VERSION;
	buf[5] = f->type;
	buf[6] = (uint8_t)f->flags;
	buf[7] = (uint8_t)(f->flags >> 8);
	put32(buf + 8, f->count);
	put32(buf + 12, (uint32_t)f->date);
	put64(buf + 16, (uint64_t)f->time);
	put64(buf + 24, f->pos);
	switch (f->type) {
	case BR_HELLO:
		put32(b, f->geom.max_symbols);
		put32(b + 4, f->geom.table_symbols);
		put32(b + 8, f->geom.rows);
		put32(b + 12, f->geom.history);
		put64(b + 16, f->geom.ring_capacity);
		put32(b + 24, f->geom.mode);
		put32(b + 28, 0);
		break;
	case BR_HISTORY:
		put64(b, (uint64_t)f->session.close);
		put32(b + 8, f->session.flags);
		put32(b + 12, f->first);
		put32(b + 16, f->nsym);
		put32(b + 20, 0);
		break;
	case BR_SESSION_START:
	case BR_SESSION_END:
		put64(b, (uint64_t)f->session.close);
		put32(b + 8, f->session.flags);
		put32(b + 12, f->type == BR_SESSION_END ? f->reason : f->history);
		break;
	case BR_UP_HELLO:
		put32(b, f->nintervals);
		put32(b + 4, f->history_days);
		for (int k = 0; k < BB_UPKEEP_MAX_INTERVALS; k++)
			put32(b + 8 + 4 * k, f->minutes[k]);
		break;
	case BR_UP:
	case BR_UP_END:
		put_up(b, f);
		break;
	case BR_UP_BLOCK:
		put64(b, (uint64_t)f->session.close);
		put32(b + 8, f->first);
		put32(b + 12, f->nsym);
		put32(b + 16, f->last);
		put32(b + 20, 0);
		break;
	}
}

/* The 52-byte bar record at p, its time an offset from base. */
static void bar_put(uint8_t *p, int64_t base, const bb_bar *b)
{
	put32(p, b->symbol);
	put32(p + 4, b->flags);
	put32(p + 8, (uint32_t)(int32_t)(b->time - base));
	putf(p + 12, b->open);
	putf(p + 20, b->high);
	putf(p + 28, b->low);
	putf(p + 36, b->close);
	putf(p + 44, b->volume);
}

static void bar_get(const uint8_t *p, int64_t base, bb_bar *out)
{
	out->symbol = get32(p);
	out->flags = get32(p + 4);
	out->time = base + (int32_t)get32(p + 8);
	out->open = getf(p + 12);
	out->high = getf(p + 20);
	out->low = getf(p + 28);
	out->close = getf(p + 36);
	out->volume = getf(p + 44);
}

void br_rec_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                const bb_bar *b)
{
	bar_put(buf + records_off(f) + (size_t)i * BR_REC_BYTES, f->time, b);
}

void br_name_put(uint8_t *buf, uint32_t i, const char *name)
{
	uint8_t *p = buf + BR_HDR_BYTES + BR_GEOM_BYTES + (size_t)i * BR_NAME_BYTES;
	size_t n = strnlen(name, BR_NAME_BYTES);

	memset(p, 0, BR_NAME_BYTES);
	memcpy(p, name, n);
}

void br_count_put(uint8_t *buf, uint32_t i, uint32_t n)
{
	put32(buf + BR_HDR_BYTES + body_bytes(BR_HISTORY) + (size_t)i * 4, n);
}

/* The body of a decoded header; *why on a bad field. */
static int body_get(const uint8_t *b, struct br_frame *f, const char **why)
{
	switch (f->type) {
	case BR_HELLO:
		f->geom = (struct br_geom){ get32(b), get32(b + 4), get32(b + 8),
		                            get32(b + 12), get64(b + 16),
		                            get32(b + 24) };
		break;
	case BR_HISTORY:
		f->session.close = (int64_t)get64(b);
		f->session.flags = get32(b + 8);
		f->first = get32(b + 12);
		f->nsym = get32(b + 16);
		break;
	case BR_SESSION_START:
	case BR_SESSION_END:
		f->session.close = (int64_t)get64(b);
		f->session.flags = get32(b + 8);
		if (f->type == BR_SESSION_END)
			f->reason = get32(b + 12);
		else
			f->history = get32(b + 12);
		break;
	case BR_UP_HELLO:
		f->nintervals = get32(b);
		f->history_days = get32(b + 4);
		for (int k = 0; k < BB_UPKEEP_MAX_INTERVALS; k++)
			f->minutes[k] = get32(b + 8 + 4 * k);
		if (f->nintervals > BB_UPKEEP_MAX_INTERVALS) {
			*why = "nintervals (more than 14)";
			return BB_ECORRUPT;
		}
		break;
	case BR_UP:
	case BR_UP_END:
		get_up(b, f);
		break;
	case BR_UP_BLOCK:
		f->session.close = (int64_t)get64(b);
		f->first = get32(b + 8);
		f->nsym = get32(b + 12);
		f->last = get32(b + 16);
		break;
	}
	f->session.date = f->date;
	f->session.open = f->time;
	if (f->type != BR_MINUTE && f->type != BR_HISTORY &&
	    f->type != BR_HELLO && !is_upkeep_items(f->type) && f->count != 0) {
		*why = "count (records in a frame of a type that has none)";
		return BB_ECORRUPT;
	}
	if (f->nqual > f->count) {
		*why = "nqual (more quality figures than items)";
		return BB_ECORRUPT;
	}
	return 0;
}

int br_frame_get(const uint8_t *buf, size_t len, struct br_frame *f,
                 const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(f, 0, sizeof(*f));
	if (len < 5 || memcmp(buf, BR_MAGIC, 4) != 0) {
		*why = "magic";
		return len < 4 ? BB_ETRUNCATED : BB_EBADMAGIC;
	}
	if (buf[4] != BR_VERSION) {
		*why = "version";
		return BB_EVERSION;
	}
	if (len < BR_HDR_BYTES) {
		*why = "header";
		return BB_ETRUNCATED;
	}
	f->type = buf[5];
	f->flags = (uint16_t)(buf[6] | buf[7] << 8);
	f->count = get32(buf + 8);
	f->date = (int32_t)get32(buf + 12);
	f->time = (int64_t)get64(buf + 16);
	f->pos = get64(buf + 24);
	if (f->type < 1 || f->type > BR_TYPE_MAX) {
		*why = "type";
		return BB_ECORRUPT;
	}
	if (len < BR_HDR_BYTES + body_bytes(f->type)) {
		*why = "body";
		return BB_ETRUNCATED;
	}
	int rc = body_get(buf + BR_HDR_BYTES, f, why);
	if (rc != 0)
		return rc;
	if (f->type == BR_HISTORY && f->nsym > (len - BR_HDR_BYTES) / 4) {
		*why = "nsym";
		return BB_ETRUNCATED;
	}
	size_t want = br_frame_bytes(f->type, f->count, f->nsym);
	if (len != want) {
		*why = len < want ? "records" : "trailing bytes";
		return len < want ? BB_ETRUNCATED : BB_ECORRUPT;
	}
	f->recs = buf + records_off(f);
	f->names = buf + BR_HDR_BYTES + BR_GEOM_BYTES;
	if (f->type == BR_HISTORY) {
		uint64_t sum = 0;
		for (uint32_t j = 0; j < f->nsym; j++)
			sum += br_count_get(f, j);
		if (sum != f->count) {
			*why = "per-symbol counts (their sum is not count)";
			return BB_ECORRUPT;
		}
	}
	return 0;
}

void br_rec_get(const struct br_frame *f, uint32_t i, bb_bar *out)
{
	bar_get(f->recs + (size_t)i * BR_REC_BYTES, f->time, out);
}

uint32_t br_rec_symbol(const struct br_frame *f, uint32_t i)
{
	return get32(f->recs + (size_t)i * BR_REC_BYTES);
}

uint32_t br_count_get(const struct br_frame *f, uint32_t j)
{
	return get32(f->recs - (size_t)(f->nsym - j) * 4);
}

void br_name_get(const struct br_frame *f, uint32_t i, char *buf)
{
	memcpy(buf, f->names + (size_t)i * BR_NAME_BYTES, BR_NAME_BYTES);
	buf[BR_NAME_BYTES] = '\0';
}

/* Item i of the upkeep frame f being encoded at buf. */
static uint8_t *item_at(uint8_t *buf, const struct br_frame *f, uint32_t i)
{
	return buf + records_off(f) + (size_t)i * BR_ITEM_BYTES;
}

void br_item_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                 uint32_t table, uint32_t row, const bb_bar *b)
{
	uint8_t *p = item_at(buf, f, i);

	put32(p, table);
	put32(p + 4, row);
	bar_put(p + 8, f->time, b);
}

void br_item_get(const struct br_frame *f, uint32_t i, uint32_t *table,
                 uint32_t *row, bb_bar *out)
{
	const uint8_t *p = f->recs + (size_t)i * BR_ITEM_BYTES;

	*table = get32(p);
	*row = get32(p + 4);
	bar_get(p + 8, f->time, out);
}

/* Quality item i is item count - nqual + i. */
void br_quality_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                    uint32_t sym, const bb_quality *q)
{
	uint8_t *p = item_at(buf, f, f->count - f->nqual + i);

	put32(p, sym);
	put32(p + 4, q->expected);
	put32(p + 8, q->real);
	put32(p + 12, q->filled);
	put32(p + 16, q->synthetic);
	put32(p + 20, q->unfillable);
	put32(p + 24, q->pending);
	put32(p + 28, (uint32_t)q->date);
	put32(p + 32, q->late);
	putf(p + 36, q->quality);
	putf(p + 44, q->quality_with_fills);
	put32(p + 52, q->underived);
	put32(p + 56, q->reserved);
}

void br_quality_get(const struct br_frame *f, uint32_t i, uint32_t *sym,
                    bb_quality *out)
{
	const uint8_t *p = f->recs + (size_t)(f->count - f->nqual + i) *
	                   BR_ITEM_BYTES;

	*sym = get32(p);
	out->expected = get32(p + 4);
	out->real = get32(p + 8);
	out->filled = get32(p + 12);
	out->synthetic = get32(p + 16);
	out->unfillable = get32(p + 20);
	out->pending = get32(p + 24);
	out->date = (int32_t)get32(p + 28);
	out->late = get32(p + 32);
	out->quality = getf(p + 36);
	out->quality_with_fills = getf(p + 44);
	out->underived = get32(p + 52);
	out->reserved = get32(p + 56);
}
