/*
 * args.c: command-line parsing of barbus-coordinator and barbus-upkeep.
 * Byte 0 picks the program (bit 0: upkeep); the rest, split at NUL bytes,
 * is argv[1..]. Inputs naming /dev, /proc or /sys paths are skipped
 * (config.h). Properties: an error has a message; what is accepted obeys
 * the documented rules (valid bus and symbol names, from <= to, intervals
 * 2..1440 minutes); nothing leaks (LeakSanitizer).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[ARGS_MAX + 1];
	int argc = 1;

	if (size < 1 || fuzz_config_unsafe((const char *)data, size))
		return 0;
	int upkeep = data[0] & 1;
	/* One NUL-terminated copy, in a buffer of exactly its size. */
	char *words = malloc(size);
	FUZZ_CHECK(words != NULL);
	memcpy(words, data + 1, size - 1);
	words[size - 1] = '\0';
	argv[0] = upkeep ? "barbus-upkeep" : "barbus-coordinator";
	for (char *p = words, *end = words + size - 1;
	     p < end && argc < ARGS_MAX; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (upkeep)
		fuzz_config_upkeep(argc, argv);
	else
		fuzz_config_coordinator(argc, argv);
	free(words);
	return 0;
}
