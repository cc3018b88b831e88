/* frame.c: encode and decode the bridge's frames; see frame.h. */
#include <string.h>

#include "frame.h"

/* Little-endian stores and loads, whatever the host. */
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
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
	default:               return 0;
	}
}

size_t br_frame_bytes(int type, uint32_t count, uint32_t nsym)
{
	size_t n = BR_HDR_BYTES + body_bytes(type);

	if (type == BR_HELLO)
		return n + (size_t)count * BR_NAME_BYTES;
	if (type == BR_HISTORY)
		n += (size_t)nsym * 4;
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
	}
}

void br_rec_put(uint8_t *buf, const struct br_frame *f, uint32_t i,
                const bb_bar *b)
{
	uint8_t *p = buf + records_off(f) + (size_t)i * BR_REC_BYTES;

	put32(p, b->symbol);
	put32(p + 4, b->flags);
	put32(p + 8, (uint32_t)(int32_t)(b->time - f->time));
	putf(p + 12, b->open);
	putf(p + 20, b->high);
	putf(p + 28, b->low);
	putf(p + 36, b->close);
	putf(p + 44, b->volume);
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
	}
	f->session.date = f->date;
	f->session.open = f->time;
	if (f->type != BR_MINUTE && f->type != BR_HISTORY &&
	    f->type != BR_HELLO && f->count != 0) {
		*why = "count (records in a frame of a type that has none)";
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
	const uint8_t *p = f->recs + (size_t)i * BR_REC_BYTES;

	out->symbol = get32(p);
	out->flags = get32(p + 4);
	out->time = f->time + (int32_t)get32(p + 8);
	out->open = getf(p + 12);
	out->high = getf(p + 20);
	out->low = getf(p + 28);
	out->close = getf(p + 36);
	out->volume = getf(p + 44);
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
