/*
 * config.h: the daemons' settings parsers as the args and ini harnesses
 * drive them: co_config_parse() (coordinator/config.c) and
 * up_config_parse() (upkeep/config.c), each the one entry point from argv
 * through defaults and the --config file to flags.
 */
#ifndef BB_FUZZ_CONFIG_H
#define BB_FUZZ_CONFIG_H

#include <errno.h>
#include <string.h>

#include "../../coordinator/config.h"
#include "../../upkeep/upkeep.h"
#include "fuzz.h"

#define FUZZ_ERR_MAX 1024

/*
 * A word no harness may hand to the parsers: a path into /dev, /proc or
 * /sys (--config /dev/stdin, --symbols @/dev/zero) would block or read
 * forever, which is the operator's choice and not a parser's bug.
 */
static inline int fuzz_config_unsafe(const char *s, size_t n)
{
	static const char *const bad[] = { "dev/", "proc/", "sys/" };

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (memmem(s, n, bad[k], strlen(bad[k])) != NULL)
			return 1;
	return 0;
}

/* The refusal names its cause: a non-empty message, terminated. */
static inline void fuzz_config_check_err(int rc, const char *err)
{
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == BB_EINVAL || rc == ENOMEM);
	if (rc == BB_EINVAL)
		FUZZ_CHECK(memchr(err, '\0', FUZZ_ERR_MAX) != NULL &&
		           err[0] != '\0');
}

/* argv through the coordinator's parser; what it accepts is consistent. */
static inline void fuzz_config_coordinator(int argc, char **argv)
{
	static struct co_config c; /* PATH_MAX fields: not on the stack */
	char err[FUZZ_ERR_MAX];

	memset(err, 'x', sizeof(err));
	int rc = co_config_parse(&c, argc, argv, err, sizeof(err));
	fuzz_config_check_err(rc, err);
	if (rc != 0)
		return;
	FUZZ_CHECK(bb_bus_name_check(c.bus) == 0);
	FUZZ_CHECK(c.mode == BB_MODE_BACKTEST || c.mode == BB_MODE_LIVE);
	FUZZ_CHECK(c.mode == BB_MODE_LIVE || c.from <= c.to);
	for (size_t i = 0; i < c.nsymbols; i++)
		FUZZ_CHECK(bb_symbol_check(c.symbols[i]) == 0);
	co_config_free(&c);
}

static inline void fuzz_config_upkeep(int argc, char **argv)
{
	static struct up_config c;
	char err[FUZZ_ERR_MAX];

	memset(err, 'x', sizeof(err));
	int rc = up_config_parse(&c, argc, argv, err, sizeof(err));
	fuzz_config_check_err(rc, err);
	if (rc != 0)
		return;
	FUZZ_CHECK(c.intervals.n <= UP_MAX_INTERVALS);
	for (uint32_t k = 0; k < c.intervals.n; k++)
		FUZZ_CHECK(c.intervals.min[k] >= 2 &&
		           c.intervals.min[k] <= UP_MAX_INTERVAL_MIN);
	FUZZ_CHECK(!c.enabled || bb_bus_name_check(c.bus) == 0);
}

#endif /* BB_FUZZ_CONFIG_H */
