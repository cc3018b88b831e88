/* error.h: internal helpers of error.c. */
#ifndef BB_ERROR_H
#define BB_ERROR_H

#include <stddef.h>

#include "barbus.h"

/* Write a reason into buf[0..len) (nothing when buf is NULL or len 0) and
 * return BB_EINVAL, so that a parser can `return bb__fail(...)`. */
__attribute__((format(printf, 3, 4)))
int bb__fail(char *buf, size_t len, const char *fmt, ...);

#endif /* BB_ERROR_H */
