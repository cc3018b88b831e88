/*
 * tz.h: time zones from the system's IANA database (TZif files, RFC 8536),
 * for the calendar parser: a zone file is read once, when a calendar that
 * names it is loaded, and never through libc's process-global TZ state.
 */
#ifndef BB_TZ_H
#define BB_TZ_H

#include <stddef.h>
#include <stdint.h>

#define BB__TZ_DIR      "/usr/share/zoneinfo" /* TZDIR overrides it */
#define BB__TZ_NAME_MAX 128

typedef struct bb__tz bb__tz;

/*
 * Zone name ("Europe/London"): TZif version 2 or later from
 * $TZDIR/name (TZDIR unset or empty: BB__TZ_DIR). "UTC" and "Etc/UTC" need
 * no file. 0, or an error (BB_EINVAL for a bad name or malformed file, an
 * errno value for an unreadable one) with the reason in why[0..why_len).
 * Free with bb__tz_free().
 */
int bb__tz_load(bb__tz **out, const char *name, char *why, size_t why_len);

/* The same from a TZif file's bytes, data[0..len). */
int bb__tz_parse(bb__tz **out, const unsigned char *data, size_t len,
                 char *why, size_t why_len);

void bb__tz_free(bb__tz *z); /* NULL is a no-op */

/* 0 when name is a plausible zone name: [A-Za-z0-9_+-] parts joined by
 * '/', no empty, "." or ".." part, shorter than BB__TZ_NAME_MAX. */
int bb__tz_name_check(const char *name);

/* UTC offset (seconds east) in effect at UTC time t. */
int32_t bb__tz_offset_at(const bb__tz *z, int64_t t);

/*
 * The UTC offsets the zone's clocks may have when they read local (a local
 * time as seconds since 1970-01-01 00:00 local): how many into off[] (0 in
 * a skipped gap, 2 in a repeated hour, earlier instant first, else 1).
 */
int bb__tz_local_offsets(const bb__tz *z, int64_t local, int32_t off[2]);

#endif /* BB_TZ_H */
