/*
 * mnt.c: how pagerctl reads a live pagerfs mount: user.pagerfs.* attributes,
 * the .pagerfs/ control files, and finding the mount point above a path.
 *
 * Everything here is an ordinary system call on the mount, with the caller's
 * own credentials: pagerctl can never see or do more than the user could
 * with getfattr, setfattr and cat.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "pagerctl.h"

int mnt_getxattr(const char *path, const char *name, char *buf, size_t cap)
{
	char full[64];
	ssize_t n;

	snprintf(full, sizeof(full), "user.pagerfs.%s", name);
	n = getxattr(path, full, buf, cap ? cap - 1 : 0);
	if (n < 0)
		return errno == ENOTSUP ? -ENOTSUP : -errno;
	/* The value is bytes; pagerctl treats it as one line of text. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return 0;
}

int mnt_check(const char *path)
{
	char id[32];
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return -errno;
	rc = mnt_getxattr(path, "id", id, sizeof(id));
	if (rc == -ENODATA || rc == -ENOTSUP)
		return -ENOTSUP;
	return rc;
}

int mnt_root(const char *path, char *out, size_t cap)
{
	char cur[PATH_MAX];
	struct stat st, up;

	if (!realpath(path, cur))
		return -errno;
	if (stat(cur, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		char *slash = strrchr(cur, '/');
		if (slash == cur)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if (stat(cur, &st) < 0)
			return -errno;
	}
	while (strcmp(cur, "/") != 0) {
		char parent[PATH_MAX];
		char *slash;
		snprintf(parent, sizeof(parent), "%s", cur);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(parent, &up) < 0)
			return -errno;
		if (up.st_dev != st.st_dev)
			break;
		snprintf(cur, sizeof(cur), "%s", parent);
		st = up;
	}
	if (strlen(cur) >= cap)
		return -ENAMETOOLONG;
	memcpy(out, cur, strlen(cur) + 1);
	return 0;
}

int mnt_read_control(const char *mountpoint, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX];
	size_t len = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/" CTL_CONTROL_DIR "/%s", mountpoint, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

const char *mnt_strerror(int err)
{
	switch (err) {
	case ENOTCONN:
	case ECONNABORTED:
		return "Transport endpoint is not connected (the daemon has died; unmount with "
		       "fusermount3 -u)";
	default:
		return strerror(err);
	}
}
