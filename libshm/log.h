/*
 * log.h: the daemons' log lines (internal; not installed). One line per
 * event on stderr, with a level:
 *   - under systemd (stderr is the journal: $JOURNAL_STREAM names its
 *     device and inode), "<N>PROG: message", N the syslog priority, which
 *     journald takes as the line's level and stamps itself;
 *   - otherwise "YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL PROG: message".
 * Lines below the chosen level (--log-level) are dropped.
 *
 * The logger is process-wide, like bb_seg_notify_set(): main() sets it up
 * once, before any thread starts, and every module of the program logs
 * through it (one visible struct in log.c).
 */
#ifndef BB_LOG_H
#define BB_LOG_H

#include <stddef.h>
#include <stdio.h>

/* syslog priorities, so that journald reads them as they are. */
enum bb__log_level {
	BB__LOG_ERR     = 3,
	BB__LOG_WARNING = 4,
	BB__LOG_NOTICE  = 5,
	BB__LOG_INFO    = 6,
	BB__LOG_DEBUG   = 7,
};

/* prog: "barbus-coordinator" (kept, not copied); level: the lowest
 * priority written (a bb__log_level); out: stderr, or a test's stream.
 * Whether out is the journal is read from $JOURNAL_STREAM now. */
void bb__log_setup(const char *prog, int level, FILE *out);
/* One line at level. */
void bb__log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Its setting: "error", "warning", "notice", "info" or "debug" into an int
 * (settings.h CUSTOM parser). */
int  bb__log_level_parse(void *dst, const char *v, char *reason, size_t len);
/* "<N>" when the journal takes the lines, else a time and a level word,
 * into buf: what bb__log() puts before "PROG: ". Exposed for tests. */
void bb__log_prefix(int level, int journal, long long unix_ms, char *buf,
                    size_t len);

#endif /* BB_LOG_H */
