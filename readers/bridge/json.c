/*
 * json.c: --json-subjects, one bar as JSON on barbus.<bus>.<N>m.<symbol>:
 * the line barbus-tail --json prints for it, without its newline, as a
 * plain NATS message (no acknowledgement awaited).
 */
#include <errno.h>
#include <stdio.h>

#include "barfmt.h"
#include "bridge.h"

int br_json_bar(struct br_js *j, const char *bus, uint32_t minutes,
                const char *sym, const bb_bar *b)
{
	char subject[BB_NAME_MAX + BB_SYMBOL_MAX + 24], line[512];
	FILE *m = fmemopen(line, sizeof(line), "w");

	if (m == NULL)
		return ENOMEM;
	bb__barfmt_json(m, sym, b);
	long n = ftell(m);
	fclose(m);
	snprintf(subject, sizeof(subject), "barbus.%s.%um.%s", bus, minutes, sym);
	return br_js_publish_plain(j, subject, line, n > 0 ? (size_t)n - 1 : 0);
}
