/*
 * offline.c: opening a stopped store's catalogue for `fsck` and `map --store`.
 *
 * The catalogue's own lock decides who may: a daemon holds it exclusively,
 * read-only tools share it. pagerctl never creates a store: a path without a
 * catalogue is an error, not an invitation.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include "catalogue.h"
#include "pagerctl.h"

int ctl_open_catalogue(struct ctl *c, const char *store, bool read_only, struct cat **cat)
{
	char catdir[PATH_MAX], data[PATH_MAX + 16];
	struct cat_options co = { .read_only = read_only };
	struct stat st;
	int rc;

	if ((size_t)snprintf(catdir, sizeof(catdir), "%s/catalogue", store) >= sizeof(catdir))
		return ctl_fail(c, store, ENAMETOOLONG);
	snprintf(data, sizeof(data), "%s/data.mdb", catdir);
	if (stat(store, &st) < 0)
		return ctl_fail(c, store, errno);
	if (!S_ISDIR(st.st_mode))
		return ctl_fail(c, store, ENOTDIR);
	if (stat(data, &st) < 0)
		return ctl_failf(c, store, "not a pagerfs store (no catalogue/data.mdb in it)");
	rc = cat_open(catdir, &co, cat);
	if (rc == -EBUSY)
		return ctl_failf(c, store, "in use by a running pagerfsd%s (unmount it first: "
					   "pagerctl umount MOUNTPOINT)",
				 read_only ? "" : " or another pagerctl");
	if (rc == -EPROTO)
		return ctl_failf(c, store, "catalogue of an incompatible pagerfs version");
	if (rc == -EINVAL)
		return ctl_failf(c, store, "catalogue metadata damaged, or another page size");
	if (rc < 0)
		return ctl_fail(c, store, rc);
	return CTL_EXIT_OK;
}
