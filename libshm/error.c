/* error.c: bb_strerror() and name validation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "error.h"

const char *bb_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define X(name, msg) case BB_E##name: return msg;
		BB_ERRORS(X)
#undef X
	default:
		break;
	}
	if (err > 0)
		return strerror(err);
	if (err >= MDB_KEYEXIST && err <= MDB_LAST_ERRCODE)
		return mdb_strerror(err);
	return "unknown error";
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

int bb_bus_name_check(const char *name)
{
	size_t n = 0;

	if (name == NULL)
		return BB_ENAME;
	for (; name[n] != '\0'; n++) {
		char c = name[n];
		if (n == BB_NAME_MAX || !(is_alnum(c) || c == '-' || c == '_'))
			return BB_ENAME;
	}
	return n > 0 ? 0 : BB_ENAME;
}

int bb_symbol_check(const char *sym)
{
	size_t n = 0;

	if (sym == NULL || !is_alnum(sym[0]))
		return BB_EBADSYMBOL;
	for (; sym[n] != '\0'; n++) {
		char c = sym[n];
		if (n == BB_SYMBOL_MAX ||
		    !(is_alnum(c) || c == '.' || c == '_' || c == '/' || c == '-'))
			return BB_EBADSYMBOL;
	}
	return 0;
}

int bb__fail(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return BB_EINVAL;
}

const char *bb_version(void)
{
	return BB_VERSION;
}
