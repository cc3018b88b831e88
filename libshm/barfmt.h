/*
 * barfmt.h: how the reader tools print bars and events (internal): the
 * import CSV columns plus flags (barbus-bars, barbus-tail), JSON lines, and
 * the interval flag's parser.
 */
#ifndef BB_BARFMT_H
#define BB_BARFMT_H

#include <stddef.h>
#include <stdio.h>

#include "barbus.h"

#define BB__BARFMT_HEADER "symbol,timestamp,open,high,low,close,volume,flags"

/* Flag words "filled|synthetic|partial|late" (empty: none) into buf. */
void bb__barfmt_flags(uint32_t flags, char *buf, size_t len);
/* One bar as a CSV line: the import columns, then the flag words. */
void bb__barfmt_csv(FILE *out, const char *sym, const bb_bar *b);
/* One bar as a JSON object on one line. */
void bb__barfmt_json(FILE *out, const char *sym, const bb_bar *b);
/* A ring event (MINUTE_END, SESSION_START, SESSION_END) as one line: a
 * JSON object, or with csv a comment line "# EVENT ...". */
void bb__barfmt_event(FILE *out, const bb_bar *ev, int csv);

/* settings.h CUSTOM parser of "1m", "15m", "2h" into a uint32_t of
 * minutes (1..1440). */
int  bb__barfmt_interval(void *dst, const char *value, char *reason,
                         size_t len);

#endif /* BB_BARFMT_H */
