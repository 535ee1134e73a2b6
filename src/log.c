/*
 * log.c: stderr or syslog output for pagerfs.
 *
 * Defaults to stderr at LOG_WARNING so that library users and tests see
 * errors without configuring anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include "log.h"

static atomic_int log_sink = PFS_LOG_STDERR;
static atomic_int log_max_level = LOG_WARNING;

void pfs_log_open(enum pfs_log_sink sink, int max_level, const char *ident)
{
	if (sink == PFS_LOG_SYSLOG)
		openlog(ident ? ident : "pagerfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_sink, sink);
	atomic_store(&log_max_level, max_level);
}

void pfs_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	va_list ap;

	if (level > atomic_load(&log_max_level))
		return;
	va_start(ap, fmt);
	if (atomic_load(&log_sink) == PFS_LOG_SYSLOG) {
		vsyslog(level, fmt, ap);
	} else {
		char line[1024];
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "pagerfs: %s: %s\n", names[level & 7], line);
	}
	va_end(ap);
}
