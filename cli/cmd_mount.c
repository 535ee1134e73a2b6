/*
 * cmd_mount.c: the commands about a whole mount: df and umount.
 *
 * df reads statvfs (the root control's guarantee and what is free in it)
 * and the .pagerfs/ control files for what statvfs cannot say (frames
 * really in use, reserved swap, the object count, the store). umount unmounts the way a user would
 * and then waits on the store's lock: the daemon holds it until its final
 * commit is done and it has closed the store, so once pagerctl can take it
 * shared the store is quiet and may be copied or checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "pagerctl.h"

extern char **environ;

/* ---- df ---- */

struct cm_df {
	char mount[PATH_MAX];
	uint64_t capacity, used, free, reserved, objects;
	bool have_reserved;
};

static int cm_df_get(const char *mp, struct cm_df *d)
{
	struct statvfs vfs;
	char text[4096];
	uint64_t v;

	memset(d, 0, sizeof(*d));
	snprintf(d->mount, sizeof(d->mount), "%s", mp);
	if (statvfs(mp, &vfs) < 0)
		return -errno;
	d->capacity = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	d->free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	d->used = (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
	d->objects = (uint64_t)(vfs.f_files - vfs.f_ffree);
	if (mnt_read_control(mp, "swap", text, sizeof(text)) == 0) {
		if (arg_field_size(text, "reserved", &v) == 0) {
			d->reserved = v;
			d->have_reserved = true;
		}
		/*
		 * statvfs counts frames guaranteed to quota directories as used;
		 * the daemon's own count is of frames that hold pages. FREE stays
		 * statvfs's: what a page-out outside those directories can take.
		 */
		if (arg_field_size(text, "used", &v) == 0)
			d->used = v;
	}
	if (mnt_read_control(mp, "status", text, sizeof(text)) == 0 &&
	    arg_field_size(text, "objects", &v) == 0)
		d->objects = v;
	return 0;
}

/* Undo /proc/self/mountinfo's octal escapes (\040 for a space) in place. */
static void cm_unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* Every pagerfs mount point, from /proc/self/mountinfo; the caller frees them. */
static int cm_pagerfs_mounts(char ***out, size_t *n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	char **v = NULL;
	size_t cnt = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *save = NULL, *mp = NULL;
		char fstype[64];
		int field = 0;
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strncmp(fstype, "fuse.pagerfs", 12) != 0)
			continue;
		for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if (++field == 5) {
				mp = t;
				break;
			}
		if (!mp)
			continue;
		cm_unescape(mp);
		char **nv = realloc(v, (cnt + 1) * sizeof(*nv));
		if (!nv || !(nv[cnt] = strdup(mp))) {
			free(nv ? nv : v);
			fclose(f);
			return -ENOMEM;
		}
		v = nv;
		cnt++;
	}
	fclose(f);
	*out = v;
	*n = cnt;
	return 0;
}

int cmd_df(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'H' },
		{ "bytes", no_argument, NULL, 'b' },
		{ 0 },
	};
	bool bytes = false;
	char **mounts = NULL;
	size_t nmounts = 0;
	struct cm_df *rows;
	size_t nrows = 0;
	int opt, rc, status = CTL_EXIT_OK;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "Hb", opts)) != -1) {
		switch (opt) {
		case 'H':
			bytes = false;
			break;
		case 'b':
			bytes = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		if ((rc = cm_pagerfs_mounts(&mounts, &nmounts)) < 0)
			return ctl_fail(c, "/proc/self/mountinfo", rc);
		if (nmounts == 0) {
			free(mounts);
			return ctl_failf(c, "df", "no pagerfs file system is mounted");
		}
	} else {
		nmounts = (size_t)(argc - optind);
		mounts = calloc(nmounts, sizeof(*mounts));
		for (size_t i = 0; mounts && i < nmounts; i++)
			mounts[i] = strdup(argv[optind + (int)i]);
	}
	rows = calloc(nmounts ? nmounts : 1, sizeof(*rows));
	if (!mounts || !rows) {
		free(rows);
		free(mounts);
		return ctl_fail(c, "df", ENOMEM);
	}
	for (size_t i = 0; i < nmounts; i++) {
		char root[PATH_MAX];
		if (!mounts[i]) {
			status = ctl_fail(c, "df", ENOMEM);
			continue;
		}
		if ((rc = ctl_need_pagerfs(c, mounts[i])) != CTL_EXIT_OK) {
			status = rc;
			continue;
		}
		if ((rc = mnt_root(mounts[i], root, sizeof(root))) < 0 ||
		    (rc = cm_df_get(root, &rows[nrows])) < 0) {
			status = ctl_fail(c, mounts[i], rc);
			continue;
		}
		nrows++;
	}
	if (nrows) {
		static const char *const head[] = { "MOUNTPOINT", "CAPACITY", "USED", "RESERVED",
						    "FREE", "USE%", "OBJECTS" };
		char (*cells)[7][40] = calloc(nrows, sizeof(*cells));
		int w[7];
		if (!cells) {
			status = ctl_fail(c, "df", ENOMEM);
			nrows = 0;
		}
		for (int k = 0; k < 7; k++)
			w[k] = (int)strlen(head[k]);
		for (size_t i = 0; i < nrows; i++) {
			struct cm_df *d = &rows[i];
			uint64_t vals[4] = { d->capacity, d->used, d->reserved, d->free };
			for (int k = 0; k < 4; k++) {
				if (bytes)
					snprintf(cells[i][k + 1], sizeof(cells[i][k + 1]), "%" PRIu64, vals[k]);
				else
					ctl_size(vals[k], cells[i][k + 1], sizeof(cells[i][k + 1]));
			}
			if (!d->have_reserved)
				strcpy(cells[i][3], "-");
			/* Not free, in percent, rounded up as df(1) does: 0% means all is free. */
			uint64_t taken = d->capacity > d->free ? d->capacity - d->free : 0;
			unsigned pct = d->capacity ? (unsigned)(((unsigned __int128)taken * 100 + d->capacity - 1) /
								d->capacity) : 0;
			snprintf(cells[i][5], sizeof(cells[i][5]), "%u%%", pct);
			snprintf(cells[i][6], sizeof(cells[i][6]), "%" PRIu64, d->objects);
			for (int k = 1; k < 7; k++)
				if ((int)strlen(cells[i][k]) > w[k])
					w[k] = (int)strlen(cells[i][k]);
			if ((int)strlen(d->mount) > w[0])
				w[0] = (int)strlen(d->mount);
		}
		for (size_t i = 0; i <= nrows && cells; i++) {
			const char *m = i ? rows[i - 1].mount : head[0];
			fprintf(c->out, "%-*s", w[0], m);
			for (int k = 1; k < 7; k++)
				fprintf(c->out, "  %*s", w[k], i ? cells[i - 1][k] : head[k]);
			fputc('\n', c->out);
		}
		free(cells);
	}
	for (size_t i = 0; i < nmounts; i++)
		free(mounts[i]);
	free(mounts);
	free(rows);
	return status;
}

/* ---- umount ---- */

static int cm_run(const char *const argv[])
{
	pid_t pid;
	int st, rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);

	if (rc)
		return -rc;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool cm_is_mounted(const char *mp)
{
	char **v;
	size_t n;
	bool found = false;

	if (cm_pagerfs_mounts(&v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		found |= strcmp(v[i], mp) == 0;
		free(v[i]);
	}
	free(v);
	return found;
}

static void cm_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmd_umount(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ 0 },
	};
	char mp[PATH_MAX], text[4096], store[PATH_MAX] = "", lock[PATH_MAX + 32];
	uint64_t timeout_s = 60;
	int opt, rc, lfd = -1;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "t:", opts)) != -1) {
		switch (opt) {
		case 't':
			if (arg_u64(optarg, 0, 86400, &timeout_s) < 0)
				return ctl_usage(c, "invalid timeout '%s' (seconds)", optarg);
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctl_operands_ok(c, argc, 1, 1, "MOUNTPOINT"))
		return CTL_EXIT_USAGE;
	if (!realpath(argv[optind], mp))
		return ctl_fail(c, argv[optind], errno);
	if ((rc = mnt_read_control(mp, "status", text, sizeof(text))) < 0) {
		if (rc == -ENOENT || rc == -ENOTDIR)
			return ctl_failf(c, argv[optind], "not a pagerfs mount point");
		if (rc != -ENOTCONN)
			return ctl_fail(c, argv[optind], rc);
		/* A dead daemon's mount: unmounting it is all there is to do. */
	} else if (arg_field(text, "store", store, sizeof(store)) == 0 && store[0] == '/') {
		/* Open the lock now: after the unmount the path may be gone from view. */
		snprintf(lock, sizeof(lock), "%s/catalogue/lock", store);
		lfd = open(lock, O_RDONLY | O_CLOEXEC);
	}

	const char *const fm[] = { "fusermount3", "-u", mp, NULL };
	rc = cm_run(fm);
	if (rc != 0 && geteuid() == 0) {
		/* No fusermount3, or it refused: root can unmount directly. */
		rc = umount2(mp, 0) < 0 ? -errno : 0;
		if (rc == -EINVAL && !cm_is_mounted(mp))
			rc = 0; /* fusermount3 got there after all */
	}
	if (rc != 0) {
		if (lfd >= 0)
			close(lfd);
		if (rc < 0)
			return ctl_fail(c, mp, rc);
		return ctl_failf(c, mp, "fusermount3 -u failed (exit %d)", rc);
	}
	/* Wait for the daemon's final commit: it holds the store's lock until then. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool done = lfd >= 0 ? flock(lfd, LOCK_SH | LOCK_NB) == 0 : !cm_is_mounted(mp);
		if (done)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - t0.tv_sec) >= timeout_s) {
			if (lfd >= 0)
				close(lfd);
			return ctl_failf(c, mp, "unmounted, but after %" PRIu64 " s the daemon still holds %s",
					 timeout_s, store[0] ? store : "its store");
		}
		cm_sleep_ms(50);
	}
	if (lfd >= 0)
		close(lfd);
	return CTL_EXIT_OK;
}
