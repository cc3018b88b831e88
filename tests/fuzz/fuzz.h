/*
 * fuzz.h: what every harness in tests/fuzz/ shares. A harness is one
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (make fuzz:
 * clang -fsanitize=fuzzer, ASan and UBSan) or with replay.c (make test:
 * every file of tests/fuzz/<harness>/ replayed once, so a crash once found
 * stays fixed). A harness never prints; a broken property aborts.
 */
#ifndef BB_FUZZ_H
#define BB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test must keep: abort (a crash to libFuzzer,
 * a failure to the replay runner) naming the line when it does not. */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",       \
			        __FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

#endif /* BB_FUZZ_H */
