/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rust cannot construct a C va_list, but libndctl's ndctl_set_log_fn() hands the user
 * callback one. This shim is the only C in libndctl: Rust passes an already formatted
 * message as the single "%s" argument and this function turns the "..." into the va_list
 * the callback expects.
 */
#include <errno.h>
#include <stdarg.h>

typedef void (*ndctl_capi_log_fn)(void *ctx, int priority, const char *file, int line,
				  const char *fn, const char *format, va_list args);

__attribute__((visibility("hidden")))
void ndctl_capi_log(void *ctx, ndctl_capi_log_fn log_fn, int priority, const char *file,
		    int line, const char *fn, const char *format, ...)
{
	va_list args;
	/* A logging callback must not clobber the errno the caller is about to report. */
	int saved_errno = errno;

	va_start(args, format);
	log_fn(ctx, priority, file, line, fn, format, args);
	va_end(args);
	errno = saved_errno;
}
