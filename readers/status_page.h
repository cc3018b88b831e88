/*
 * status_page.h: the status page barbus-status --http serves at /. Static
 * HTML whose script reads /status.json (a long poll: answered when the
 * session clock moves, or after a second) and redraws: bus and
 * health, session, writers, ring rate, and the worst-quality symbols.
 * data-refreshes on <body> counts the redraws and data-clocks the distinct
 * session clocks seen (the end-to-end test reads both). Included by
 * status_http.h only.
 */
#ifndef BB_STATUS_PAGE_H
#define BB_STATUS_PAGE_H

#include "status_snap.h"

static const char page_head[] =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>barbus %s</title>\n<style>\n"
"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
"h1{font-size:1.4em;margin:0 0 .3em}table{border-collapse:collapse;"
"margin:.4em 0 1.2em}\n"
"td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
"th{background:#f2f2f2}\n"
".healthy{color:#070}.degraded{color:#b00;font-weight:bold}"
"td.num{text-align:right}\n"
"</style></head>\n"
"<body data-refreshes=\"0\" data-clocks=\"0\">\n"
"<h1>bus <span id=\"bus\">%s</span></h1>\n"
"<p>health: <span id=\"health\">-</span> <span id=\"why\"></span>"
" &middot; read <span id=\"time\">-</span></p>\n"
"<h2>session</h2><table id=\"session\"><tr><th>date</th><th>state</th>"
"<th>clock</th><th>stalled since</th><th>number</th></tr>"
"<tr><td id=\"s-date\">-</td><td id=\"s-state\">-</td>"
"<td id=\"s-clock\">-</td><td id=\"s-stalled\">-</td>"
"<td id=\"s-number\">-</td></tr></table>\n"
"<h2>writers</h2><table id=\"writers\"><tr><th>writer</th><th>run</th>"
"<th>pid</th><th>restarts</th><th>heartbeat age (s)</th><th>state</th>"
"</tr></table>\n"
"<h2>ring</h2><table id=\"ring\"><tr><th>head</th><th>capacity</th>"
"<th>records/s</th><th>bars</th></tr><tr><td id=\"r-head\">-</td>"
"<td id=\"r-cap\">-</td><td id=\"r-rate\">-</td><td id=\"r-bars\">-</td>"
"</tr></table>\n"
"<h2>bar quality, worst symbols</h2><table id=\"quality\"><tr>"
"<th>symbol</th><th>quality %%</th><th>with fills %%</th><th>expected</th>"
"<th>real</th><th>late</th><th>filled</th><th>unfillable</th>"
"<th>pending</th></tr></table>\n";

static const char page_script[] =
"<script>\n"
"'use strict';\n"
"const clocks = new Set();\n"
"function txt(id, v) { document.getElementById(id).textContent ="
" v === null || v === undefined ? '-' : String(v); }\n"
"function row(table, cells) {\n"
"  const tr = table.insertRow();\n"
"  for (const c of cells) { const td = tr.insertCell();"
" td.textContent = c === null || c === undefined ? '-' : String(c);"
" if (typeof c === 'number') td.className = 'num'; }\n"
"}\n"
"function clear(table) { while (table.rows.length > 1)"
" table.deleteRow(1); }\n"
"function draw(j) {\n"
"  const h = document.getElementById('health');\n"
"  if (j.error) { h.textContent = 'unreadable'; h.className = 'degraded';"
" txt('why', j.error); return; }\n"
"  h.textContent = j.health.status; h.className = j.health.status;\n"
"  txt('why', j.health.why ? '(' + j.health.why + ')' : '');\n"
"  txt('time', j.time);\n"
"  const s = j.session || {};\n"
"  txt('s-date', s.date); txt('s-state', s.state); txt('s-clock', s.clock);\n"
"  txt('s-stalled', s.stalled_since); txt('s-number', s.number);\n"
"  if (s.clock) clocks.add(s.clock);\n"
"  const w = document.getElementById('writers'); clear(w);\n"
"  row(w, ['coordinator', j.coordinator.run, j.coordinator.pid,"
" j.coordinator.restarts, j.coordinator.heartbeat_age_s, s.state]);\n"
"  if (j.upkeep) row(w, ['upkeep', j.upkeep.run, j.upkeep.pid,"
" j.upkeep.restarts, j.upkeep.heartbeat_age_s, j.upkeep.state]);\n"
"  txt('r-head', j.ring.head); txt('r-cap', j.ring.capacity);\n"
"  txt('r-rate', j.ring.records_per_s === null ? null :"
" j.ring.records_per_s.toFixed(1));\n"
"  txt('r-bars', j.counters.bars);\n"
"  const q = document.getElementById('quality'); clear(q);\n"
"  for (const e of j.quality.worst) row(q, [e.symbol, e.quality,"
" e.quality_with_fills, e.expected, e.real, e.late, e.filled,"
" e.unfillable, e.pending]);\n"
"}\n"
"let last = null;\n"
"async function refresh() {\n"
"  try {\n"
"    const q = last ? '?since=' + encodeURIComponent(last) : '';\n"
"    const r = await fetch('status.json' + q, { cache: 'no-store' });\n"
"    const j = await r.json();\n"
"    draw(j);\n"
"    last = j.session && j.session.clock ? j.session.clock : null;\n"
"  } catch (e) { txt('why', 'no answer: ' + e); last = null; }\n"
"  document.body.dataset.refreshes ="
" String(Number(document.body.dataset.refreshes) + 1);\n"
"  document.body.dataset.clocks = String(clocks.size);\n"
"  setTimeout(refresh, 250);\n"
"}\n"
"refresh();\n"
"</script>\n</body></html>\n";

/* The page for bus (a checked name: nothing in it needs escaping). */
static void page(struct sbuf *out, const char *bus)
{
	sb_printf(out, page_head, bus, bus);
	sb_printf(out, "%s", page_script);
}

#endif /* BB_STATUS_PAGE_H */
