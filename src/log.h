/*
 * log.h: the daemon's log, to stderr (foreground) or syslog.
 *
 * The sink is chosen once at start-up (pfs_log_open) and then only read; it is
 * process-wide like syslog itself. Logging never fails a caller's operation.
 */
#ifndef PAGERFS_LOG_H
#define PAGERFS_LOG_H

#include <syslog.h>

enum pfs_log_sink { PFS_LOG_STDERR, PFS_LOG_SYSLOG };

void pfs_log_open(enum pfs_log_sink sink, int max_level, const char *ident);
void pfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pfs_err(...)   pfs_log(LOG_ERR, __VA_ARGS__)
#define pfs_warn(...)  pfs_log(LOG_WARNING, __VA_ARGS__)
#define pfs_info(...)  pfs_log(LOG_INFO, __VA_ARGS__)
#define pfs_debug(...) pfs_log(LOG_DEBUG, __VA_ARGS__)

#endif /* PAGERFS_LOG_H */
