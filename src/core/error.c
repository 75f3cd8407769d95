/*
 * error.c - error codes, their texts, and the thread's detailed message.
 *
 * Codes come from one X-macro list in ipcx.h (IPCX_ERRNO_MAP), so the enum,
 * the names and the texts cannot drift apart. The detailed message is
 * thread-local, like dlerror(): the library never prints, the caller asks.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[IPCX__ERRMSG_MAX];

const char *ipcx_strerror(int code)
{
	switch (code) {
	case IPCX_OK:
		return "success";
#define ERR_TEXT(name, val, text) \
	case IPCX_##name:         \
		return text;
		IPCX_ERRNO_MAP(ERR_TEXT)
#undef ERR_TEXT
	default:
		return "unknown error";
	}
}

const char *ipcx_errname(int code)
{
	switch (code) {
	case IPCX_OK:
		return "OK";
#define ERR_NAME(name, val, text) \
	case IPCX_##name:         \
		return #name;
		IPCX_ERRNO_MAP(ERR_NAME)
#undef ERR_NAME
	default:
		return "UNKNOWN";
	}
}

const char *ipcx_errmsg(void)
{
	return err_msg[0] ? err_msg : "no error";
}

const char *ipcx_version(void)
{
	return IPCX_VERSION_STRING;
}

/* The bytes err_set escapes: every control byte (NUL ends the text). */
static const char err_ctl[] =
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
    "\x7f";

/*
 * Messages quote names from the caller, which may be hostile: a newline or
 * a terminal escape in an endpoint must not reach a log or a terminal as
 * such. Control bytes become \xNN (the message stays one line).
 */
__attribute__((format(printf, 1, 0))) static void err_set(const char *fmt,
                                                          va_list ap)
{
	char raw[sizeof(err_msg)];
	size_t o;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* Most messages have no control byte: take the clean prefix in one
	 * copy (a loop per byte costs when errors come in a loop, such as
	 * IPCX_EAGAIN or IPCX_ENOBUFS answers). */
	o = strcspn(raw, err_ctl);
	if (o + 5 >= sizeof(err_msg))
		o = sizeof(err_msg) - 6;
	memcpy(err_msg, raw, o);
	for (const char *p = raw + o; *p && o + 5 < sizeof(err_msg); p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(err_msg + o, sizeof(err_msg) - o,
			                      "\\x%02x", c);
		else
			err_msg[o++] = (char)c;
	}
	err_msg[o] = '\0';
}

int ipcx__err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(fmt, ap);
	va_end(ap);
	return code;
}

int ipcx__errno_code(int e)
{
	switch (e) {
	case EINVAL:
		return IPCX_EINVAL;
	case ETIMEDOUT:
		return IPCX_ETIMEDOUT;
	case EMSGSIZE:
		return IPCX_EMSGSIZE;
	case EPIPE:
	case ECONNRESET:
	case ECONNABORTED:
	case ENOTCONN:
		return IPCX_EPEER;
	case ECONNREFUSED:
	case ENXIO:
		return IPCX_ENOPEER;
	case ENOENT:
	case ESRCH:
		return IPCX_ENOENT;
	case EEXIST:
	case EADDRINUSE:
		return IPCX_EEXIST;
	case EACCES:
	case EPERM:
		return IPCX_EACCES;
	case EAGAIN:
		return IPCX_EAGAIN;
	case ENOMEM:
	case ENOBUFS:
	case ENOSPC:
		return IPCX_ENOMEM;
	case ENAMETOOLONG:
		return IPCX_ENAMETOOLONG;
	case EBUSY:
		return IPCX_EBUSY;
	case EOPNOTSUPP:
	case ENOSYS:
		return IPCX_ENOTSUP;
	default:
		return IPCX_ESYS;
	}
}

int ipcx__errno_path(int e, const char *what, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash == NULL ? 0 : (int)(slash - path);

	if (e != ENOENT || slash == NULL)
		return ipcx__errno(e, "%s", what);
	if (dlen == 0)
		dlen = 1; /* "/name": the root, which always exists */
	return ipcx__err(IPCX_ENOENT,
	                 "%s: the directory %.*s does not exist (create it "
	                 "first: mkdir -p %.*s)",
	                 what, dlen, path, dlen, path);
}

int ipcx__errno(int e, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	err_set(fmt, ap);
	va_end(ap);
	n = strlen(err_msg);
	/* strerror_r (GNU) may return a static string instead of filling. */
	{
		char tmp[128];
		const char *s = strerror_r(e, tmp, sizeof(tmp));
		snprintf(err_msg + n, sizeof(err_msg) - n, ": %s", s);
	}
	return ipcx__errno_code(e);
}
