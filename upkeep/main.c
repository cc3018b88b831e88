/*
 * barbus-upkeep: the bus's second writer. Follows a bus's ring, control
 * segment and session table read-only; fills gaps from the store, derives
 * bars of longer intervals and keeps per-symbol bar quality, in segments
 * it alone writes. See docs/upkeep.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "upkeep.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Segments adopted, repaired, replaced or refused: one line each. */
static void seg_note(void *arg, const char *line)
{
	(void)arg;
	bb__log(BB__LOG_WARNING, "%s", line);
}

int main(int argc, char **argv)
{
	struct up_config c;
	char err[512] = "";
	int rc = up_config_parse(&c, argc, argv, err, sizeof(err));

	bb_seg_notify_set(seg_note, NULL);

	if (rc == 1)
		return 0; /* --help */
	if (rc != 0) {
		fprintf(stderr, "barbus-upkeep: %s\n", err[0] ? err : bb_strerror(rc));
		return 2;
	}
	bb__log_setup("barbus-upkeep", c.log_level, stderr);
	if (!c.enabled) {
		bb__log(BB__LOG_NOTICE, "disabled (enabled = false); "
		        "nothing to do");
		return 0;
	}
	catch_signals();
	rc = up_follow(&c, &stop);
	if (rc != 0 && !(stop && rc == EINTR)) {
		if (rc != BB_EBUSY)
			bb__log(BB__LOG_ERR, "bus %s: %s", c.bus,
			        bb_strerror(rc));
		return 1;
	}
	return 0;
}
