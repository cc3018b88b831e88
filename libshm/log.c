/* log.c: the daemons' log lines; see log.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "barbus.h"
#include "error.h"
#include "log.h"

/* The process-wide logger (log.h says why): set once by main(). */
static struct {
	const char *prog;
	int         level;
	int         journal;
	FILE       *out;
} g = { "barbus", BB__LOG_INFO, 0, NULL };

static const char *const words[] = {
	[BB__LOG_ERR] = "ERROR", [BB__LOG_WARNING] = "WARNING",
	[BB__LOG_NOTICE] = "NOTICE", [BB__LOG_INFO] = "INFO",
	[BB__LOG_DEBUG] = "DEBUG",
};

/* Is f the stream systemd connected to the journal? $JOURNAL_STREAM is
 * "DEVICE:INODE" of that stream; a child whose stderr went elsewhere
 * inherits the variable, hence the comparison. */
static int is_journal(FILE *f)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(fileno(f), &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void bb__log_setup(const char *prog, int level, FILE *out)
{
	g.prog = prog;
	g.level = level;
	g.out = out;
	g.journal = is_journal(out);
}

void bb__log_prefix(int level, int journal, long long unix_ms, char *buf,
                    size_t len)
{
	char t[24];

	if (level < BB__LOG_ERR || level > BB__LOG_DEBUG)
		level = BB__LOG_ERR;
	if (journal) {
		snprintf(buf, len, "<%d>", level);
		return;
	}
	bb_time_format(unix_ms / 1000, t); /* "YYYY-MM-DDTHH:MM:SSZ" */
	t[19] = '\0';
	snprintf(buf, len, "%s.%03lldZ %s ", t, unix_ms % 1000, words[level]);
}

void bb__log(int level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n;

	if (level > g.level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	bb__log_prefix(level, g.journal, (long long)ts.tv_sec * 1000 +
	               ts.tv_nsec / 1000000, line, sizeof(line));
	n = (int)strlen(line);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", g.prog);
	va_start(ap, fmt);
	if (n < (int)sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so that the lines of threads never interleave
	 * (a longer message is cut). */
	n = (int)strlen(line);
	if (n == (int)sizeof(line) - 1)
		n--;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, g.out ? g.out : stderr);
}

int bb__log_level_parse(void *dst, const char *v, char *reason, size_t len)
{
	static const struct { const char *name; int level; } l[] = {
		{ "error", BB__LOG_ERR }, { "warning", BB__LOG_WARNING },
		{ "notice", BB__LOG_NOTICE }, { "info", BB__LOG_INFO },
		{ "debug", BB__LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (strcmp(v, l[i].name) == 0) {
			memcpy(dst, &l[i].level, sizeof(int));
			return 0;
		}
	return bb__fail(reason, len, "'%s' is not error, warning, notice, info "
	                "or debug", v);
}
