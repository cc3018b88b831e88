/* event.c: ring events other than bars, in the bar record. See barbus.h. */
#include "barbus.h"

void bb_event_minute_end(bb_bar *ev, int64_t t, uint32_t bars)
{
	*ev = (bb_bar){
		.flags = BB_KIND_FLAGS(BB_KIND_MINUTE_END), .time = t,
		.volume = (double)bars,
	};
}

void bb_event_session(bb_bar *ev, int kind, const bb_session *s, int reason)
{
	*ev = (bb_bar){
		.symbol = (uint32_t)s->date, .flags = BB_KIND_FLAGS(kind),
		.time = s->open, .open = (double)s->close,
		.high = kind == BB_KIND_SESSION_END ? (double)reason : 0,
		.low = (double)s->flags,
	};
}

int bb_event_session_get(const bb_bar *ev, bb_session *s, int *reason)
{
	uint32_t kind = BB_KIND(ev->flags);

	if (kind != BB_KIND_SESSION_START && kind != BB_KIND_SESSION_END)
		return BB_EINVAL;
	*s = (bb_session){
		.date = (int32_t)ev->symbol, .open = ev->time,
		.close = (int64_t)ev->open, .flags = (uint32_t)ev->low,
	};
	if (reason != NULL)
		*reason = (int)ev->high;
	return 0;
}

uint64_t bb_event_session_number(const bb_bar *ev)
{
	uint32_t kind = BB_KIND(ev->flags);

	if (kind != BB_KIND_SESSION_START && kind != BB_KIND_SESSION_END)
		return 0;
	return ev->volume >= 1 && ev->volume < 9007199254740992.0
	       ? (uint64_t)ev->volume : 0;
}
