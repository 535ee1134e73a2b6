/*
 * tune.c: what the daemon does to itself and to its mount's backing device
 * info so that it can always serve a page fault (DESIGN.md, "What is known
 * about speed on this kernel").
 *
 * The daemon must not be paged out (mlockall) and its own allocations must
 * not wait on writeback it is itself supposed to perform (PR_SET_IO_FLUSHER),
 * or it can deadlock serving its own fault. Both are asked for and only
 * warned about when refused: an unprivileged daemon still works, with that
 * risk. The bdi: readahead= becomes read_ahead_kb (the INIT reply can only
 * lower the kernel's 128 KiB offer), and FUSE's strict 1% dirty limit,
 * which throttles page-out writers, is lifted.
 *
 * The mount's device number comes from /proc/self/mountinfo: a stat() of
 * the mount point would be a request to ourselves.
 */
#include "config.h"
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "log.h"
#include "pagerfsd.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

/* CAP_IPC_LOCK in the effective set (from /proc: no libcap needed). */
static bool tu_can_lock_unlimited(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps & (1ull << 14); /* CAP_IPC_LOCK */
}

void pfsd_lock_memory(void)
{
	struct rlimit rl;

	/*
	 * With MCL_FUTURE every later mapping (LMDB's map, the io_uring
	 * arenas, thread stacks) fails with EAGAIN once RLIMIT_MEMLOCK is
	 * reached: under a finite limit, run unlocked rather than not at all.
	 */
	if (!tu_can_lock_unlimited() && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		pfs_warn("not locking memory: RLIMIT_MEMLOCK is %llu bytes; the daemon may be "
			 "paged out and then deadlock serving a fault (run as root or raise "
			 "the limit)", (unsigned long long)rl.rlim_cur);
		return;
	}
	/*
	 * Every mapping made from now on is locked, so faulted in whole: keep
	 * glibc from giving each thread a malloc arena of its own, whose
	 * touched part would all stay resident.
	 */
	mallopt(M_ARENA_MAX, 2);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		pfs_warn("mlockall: %s: the daemon may be paged out and then deadlock serving "
			 "a fault (run as root or raise RLIMIT_MEMLOCK)", strerror(errno));
}

/* Inherited by every thread created afterwards. */
void pfsd_io_flusher(void)
{
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) < 0)
		pfs_warn("PR_SET_IO_FLUSHER: %s: memory reclaim may wait on this daemon "
			 "while it waits on reclaim", strerror(errno));
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void tu_unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The newest FUSE mount on our mount point as "maj:min" into dev; -ENOENT if none. */
static int tu_scan(const struct pfsd *d, char *dev, size_t cap, unsigned *minor)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t line_cap = 0;
	unsigned maj = 0, min = 0;
	bool found = false;

	if (!f)
		return -errno;
	/* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
	while (getline(&line, &line_cap, f) > 0) {
		char mp[4096], fstype[256];
		unsigned a, b;
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*u %*u %u:%u %*s %4095s", &a, &b, mp) != 3 ||
		    sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		tu_unescape(mp);
		if (strcmp(mp, d->opt.mountpoint) != 0 || strncmp(fstype, "fuse", 4) != 0)
			continue;
		maj = a; /* the last match is the newest mount: ours */
		min = b;
		found = true;
	}
	free(line);
	fclose(f);
	if (!found)
		return -ENOENT;
	snprintf(dev, cap, "%u:%u", maj, min);
	*minor = min;
	return 0;
}

int pfsd_find_mount_dev(struct pfsd *d)
{
	return tu_scan(d, d->bdi, sizeof(d->bdi), &d->fuse_conn);
}

bool pfsd_mount_present(struct pfsd *d)
{
	char dev[32];
	unsigned minor;

	return d->bdi[0] && tu_scan(d, dev, sizeof(dev), &minor) == 0 && strcmp(dev, d->bdi) == 0;
}

/* Write value to /sys/class/bdi/BDI/name; -ENOENT when this kernel has no such file. */
static int tu_bdi_write(struct pfsd *d, const char *name, const char *value)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/sys/class/bdi/%s/%s", d->bdi, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

void pfsd_tune_bdi(struct pfsd *d)
{
	char v[32];
	int rc;

	if (!d->opt.bdi_tune)
		return;
	if (!d->bdi[0] && (rc = pfsd_find_mount_dev(d)) < 0) {
		pfs_warn("cannot find %s in /proc/self/mountinfo (%s): bdi left untuned",
			 d->opt.mountpoint, strerror(-rc));
		return;
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(d->opt.readahead_bytes / 1024));
	if ((rc = tu_bdi_write(d, "read_ahead_kb", v)) < 0)
		pfs_warn("bdi %s: read_ahead_kb=%s: %s", d->bdi, v, strerror(-rc));
	/* strict_limit first: max_ratio alone does not free a strictly limited bdi. */
	if ((rc = tu_bdi_write(d, "strict_limit", "0")) < 0 && rc != -ENOENT)
		pfs_warn("bdi %s: strict_limit=0: %s", d->bdi, strerror(-rc));
	if ((rc = tu_bdi_write(d, "max_ratio", "100")) < 0 && rc != -ENOENT)
		pfs_warn("bdi %s: max_ratio=100: %s", d->bdi, strerror(-rc));
	pfs_debug("bdi %s: read_ahead_kb %s, dirty limit lifted", d->bdi, v);
}

int pfsd_abort_connection(struct pfsd *d)
{
	char path[96];
	int fd, rc = 0;

	if (!d->bdi[0] && (rc = pfsd_find_mount_dev(d)) < 0)
		return rc;
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort", d->fuse_conn);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, "1", 1) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
