/*
 * ini.c: the INI configuration file of barbus-coordinator ([coordinator])
 * and barbus-upkeep ([upkeep]), read through libinih by the settings
 * tables. Byte 0 picks the program (bit 0: upkeep; bit 1: the
 * coordinator's live mode, else backtest); the rest is the file's text,
 * handed over as --config /proc/self/fd/N of a memfd. Inputs naming /dev,
 * /proc or /sys paths (an @FILE list) are skipped (config.h). Properties
 * as in args.c: an error names FILE:LINE and why; nothing leaks.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];

	if (size < 1 || fuzz_config_unsafe((const char *)data, size))
		return 0;
	int fd = memfd_create("fuzz.ini", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *argv[] = { data[0] & 1 ? "barbus-upkeep" : "barbus-coordinator",
	                 "--config", path,
	                 data[0] & 2 ? "live" : "backtest", NULL };
	if (data[0] & 1)
		fuzz_config_upkeep(3, argv);
	else
		fuzz_config_coordinator(4, argv);
	close(fd);
	return 0;
}
