/*
 * cmd_objects.c: the commands that change memory objects: create, resize,
 * clone, release and sync.
 *
 * Each is the system call the contract names (INTERFACE.md): create is
 * open(O_CREAT|O_EXCL) then setxattr, resize ftruncate, clone
 * copy_file_range, release fallocate(PUNCH_HOLE|KEEP_SIZE), sync fsync. A
 * command that changes contents fsyncs before it returns, so a user who saw
 * it succeed can rely on the change surviving a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "args.h"
#include "pagerctl.h"

/* The directory part of path, for checking where a new object would go. */
static void co_dirname(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static int co_setxattr(const char *path, const char *name, const char *value)
{
	char full[64];

	snprintf(full, sizeof(full), "user.pagerfs.%s", name);
	return setxattr(path, full, value, strlen(value), 0) < 0 ? -errno : 0;
}

/* PATH[:OFF[:LEN]] with PATH made absolute (the daemon resolves nothing relative). */
static int co_backing_spec(struct ctl *c, const char *spec, char *out, size_t cap)
{
	const char *colon = strchr(spec, ':');
	char file[PATH_MAX], abs[PATH_MAX];
	size_t flen = colon ? (size_t)(colon - spec) : strlen(spec);

	if (flen == 0 || flen >= sizeof(file))
		return ctl_usage(c, "invalid --backing '%s'", spec);
	memcpy(file, spec, flen);
	file[flen] = '\0';
	if (colon) {
		/* Check the numbers here, so a typo is a usage error, not EINVAL later. */
		char nums[128];
		const char *second;
		uint64_t v;
		snprintf(nums, sizeof(nums), "%s", colon + 1);
		second = strchr(colon + 1, ':');
		if (second)
			nums[second - colon - 1] = '\0';
		if (arg_size(nums, &v) < 0 || (second && (arg_size(second + 1, &v) < 0 || v == 0)))
			return ctl_usage(c, "invalid --backing '%s' (PATH[:OFFSET[:LENGTH]])", spec);
	}
	if (file[0] != '/') {
		if (!realpath(file, abs))
			return ctl_fail(c, file, errno);
	} else {
		snprintf(abs, sizeof(abs), "%s", file);
	}
	if ((size_t)snprintf(out, cap, "%s%s", abs, colon ? colon : "") >= cap)
		return ctl_fail(c, file, ENAMETOOLONG);
	return CTL_EXIT_OK;
}

static const char *const co_types[] = { "code", "heap", "stack", "shared" };

int cmd_create(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "backing", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "persist", no_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'd' },
		{ "maxsize", required_argument, NULL, 'm' },
		{ 0 },
	};
	const char *type = NULL, *backing = NULL, *path, *step = NULL;
	char spec[PATH_MAX + 64], dir[PATH_MAX], num[32], flags[32] = "";
	uint64_t size = 0, maxsize = 0;
	bool have_size = false, have_max = false, persist = false, debug = false;
	int opt, fd, rc = 0;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "t:b:s:pdm:", opts)) != -1) {
		switch (opt) {
		case 't':
			type = optarg;
			break;
		case 'b':
			backing = optarg;
			break;
		case 's':
			if (arg_size(optarg, &size) < 0)
				return ctl_usage(c, "invalid size '%s'", optarg);
			have_size = true;
			break;
		case 'p':
			persist = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'm':
			if (arg_size(optarg, &maxsize) < 0)
				return ctl_usage(c, "invalid size '%s'", optarg);
			have_max = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctl_operands_ok(c, argc, 1, 1, "PATH"))
		return CTL_EXIT_USAGE;
	path = argv[optind];
	if (type) {
		size_t t;
		for (t = 0; t < sizeof(co_types) / sizeof(co_types[0]); t++)
			if (strcmp(type, co_types[t]) == 0)
				break;
		if (t == sizeof(co_types) / sizeof(co_types[0]))
			return ctl_usage(c, "unknown type '%s' (code, heap, stack or shared)", type);
	}
	bool stack = type && strcmp(type, "stack") == 0;
	if (have_max && !stack)
		return ctl_usage(c, "--maxsize applies only to --type stack");
	if (have_size && stack)
		return ctl_usage(c, "a stack's size is its --maxsize");
	if (stack && !have_max)
		return ctl_usage(c, "a stack needs --maxsize");
	if (have_max && maxsize % 4096)
		return ctl_usage(c, "--maxsize must be a multiple of the page size (4096)");
	if (backing && (rc = co_backing_spec(c, backing, spec, sizeof(spec))) != CTL_EXIT_OK)
		return rc;
	co_dirname(path, dir, sizeof(dir));
	if ((rc = ctl_need_pagerfs(c, dir)) != CTL_EXIT_OK)
		return rc;

	if ((fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666)) < 0)
		return ctl_fail(c, path, errno);
	/* Type and backing change only while nobody has the object open. */
	close(fd);
	if (type && (rc = co_setxattr(path, "type", type)) < 0)
		step = "setting its type";
	if (!rc && have_max) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)maxsize);
		if ((rc = co_setxattr(path, "maxsize", num)) < 0)
			step = "setting its maxsize";
	}
	if (persist || !type)
		strcat(flags, "persist");
	if (debug)
		strcat(flags, flags[0] ? ",debug" : "debug");
	/* Without --type the object already is persist; only a change is written. */
	if (!rc && flags[0] && (type || debug) && (rc = co_setxattr(path, "flags", flags)) < 0)
		step = "setting its flags";
	/*
	 * Backing last: with it a code object is complete, and may become a
	 * name of a cached one with the same text, whose flags cannot change.
	 */
	if (!rc && backing && (rc = co_setxattr(path, "backing", spec)) < 0)
		step = "setting its backing";
	if (!rc && have_size) {
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
		    ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
		if (rc)
			step = "setting its size";
	}
	if (rc) {
		unlink(path); /* no half-made object stays behind */
		return ctl_failf(c, path, "%s: %s", step, mnt_strerror(-rc));
	}
	return CTL_EXIT_OK;
}

/* The plain-operand commands share this: no options but --help. */
static int co_operands(struct ctl *c, int argc, char **argv, int want, const char *names)
{
	int opt;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "", NULL)) != -1) {
		if (opt == 'h')
			return ctl_help(c), -1;
		return -2;
	}
	return ctl_operands_ok(c, argc, want, want, names) ? 0 : -2;
}

#define CO_OPERANDS(c, argc, argv, want, names)                                    \
	do {                                                                         \
		int r_ = co_operands(c, argc, argv, want, names);                     \
		if (r_ == -1)                                                         \
			return CTL_EXIT_OK;                                           \
		if (r_ < 0)                                                           \
			return CTL_EXIT_USAGE;                                        \
	} while (0)

/* Open an object of the mount for a change; directories are refused by name. */
static int co_open_object(struct ctl *c, const char *path, int flags, int *fd)
{
	struct stat st;
	int rc;

	if ((rc = ctl_need_pagerfs(c, path)) != CTL_EXIT_OK)
		return rc;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return ctl_failf(c, path, "is a directory (a memory control), not an object");
	if ((*fd = open(path, flags | O_CLOEXEC)) < 0)
		return ctl_fail(c, path, errno);
	return CTL_EXIT_OK;
}

int cmd_resize(struct ctl *c, int argc, char **argv)
{
	uint64_t size;
	int fd, rc;

	CO_OPERANDS(c, argc, argv, 2, "PATH SIZE");
	if (arg_size(argv[optind + 1], &size) < 0 || size > (uint64_t)INT64_MAX)
		return ctl_usage(c, "invalid size '%s'", argv[optind + 1]);
	if ((rc = co_open_object(c, argv[optind], O_WRONLY, &fd)) != CTL_EXIT_OK)
		return rc;
	rc = ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0 ? errno : 0;
	close(fd);
	return rc ? ctl_fail(c, argv[optind], rc) : CTL_EXIT_OK;
}

int cmd_release(struct ctl *c, int argc, char **argv)
{
	uint64_t off, len;
	int fd, rc;

	CO_OPERANDS(c, argc, argv, 3, "PATH OFF LEN");
	if (arg_size(argv[optind + 1], &off) < 0 || off > (uint64_t)INT64_MAX)
		return ctl_usage(c, "invalid offset '%s'", argv[optind + 1]);
	if (arg_size(argv[optind + 2], &len) < 0 || len == 0 || len > (uint64_t)INT64_MAX - off)
		return ctl_usage(c, "invalid length '%s'", argv[optind + 2]);
	if ((rc = co_open_object(c, argv[optind], O_WRONLY, &fd)) != CTL_EXIT_OK)
		return rc;
	rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0 ||
	     fsync(fd) < 0 ? errno : 0;
	close(fd);
	return rc ? ctl_fail(c, argv[optind], rc) : CTL_EXIT_OK;
}

int cmd_sync(struct ctl *c, int argc, char **argv)
{
	int fd, rc;

	CO_OPERANDS(c, argc, argv, 1, "PATH");
	if ((rc = ctl_need_pagerfs(c, argv[optind])) != CTL_EXIT_OK)
		return rc;
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0)
		return ctl_fail(c, argv[optind], errno);
	rc = fsync(fd) < 0 ? errno : 0;
	close(fd);
	return rc ? ctl_fail(c, argv[optind], rc) : CTL_EXIT_OK;
}

int cmd_clone(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ 0 },
	};
	uint64_t off = 0, len = 0;
	bool have_range = false, have_len = false, created = false;
	const char *src, *dst;
	struct stat ss, ds;
	int opt, sfd, dfd, rc;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "r:", opts)) != -1) {
		switch (opt) {
		case 'r':
			if (arg_range(optarg, &off, &len, &have_len) < 0 || off > (uint64_t)INT64_MAX ||
			    len > (uint64_t)INT64_MAX - off)
				return ctl_usage(c, "invalid range '%s' (OFF:LEN)", optarg);
			have_range = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind < 2)
		return ctl_usage(c, "missing %s", argc == optind ? "SRC and DST" : "DST");
	if (argc - optind > 2)
		return ctl_usage(c, "too many arguments");
	src = argv[optind];
	dst = argv[optind + 1];
	if ((rc = co_open_object(c, src, O_RDONLY, &sfd)) != CTL_EXIT_OK)
		return rc;
	if (fstat(sfd, &ss) < 0) {
		rc = ctl_fail(c, src, errno);
		goto out_src;
	}
	if (stat(dst, &ds) == 0 && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino) {
		rc = ctl_failf(c, dst, "is the same object as %s", src);
		goto out_src;
	}
	if (!have_range || !have_len)
		len = (uint64_t)ss.st_size > off ? (uint64_t)ss.st_size - off : 0;
	/* A whole clone makes DST exactly SRC; a range leaves DST's other bytes alone. */
	created = access(dst, F_OK) < 0 && errno == ENOENT;
	if ((dfd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | (have_range ? 0 : O_TRUNC), 0666)) < 0) {
		rc = ctl_fail(c, dst, errno);
		goto out_src;
	}
	if (mnt_check(dst) == -ENOTSUP) {
		rc = ctl_failf(c, dst, "not on a pagerfs mount (it has no user.pagerfs.id)");
		goto out_dst;
	}
	loff_t so = (loff_t)off, doff = (loff_t)off;
	uint64_t left = len;
	rc = CTL_EXIT_OK;
	while (left) {
		size_t chunk = left > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)left;
		ssize_t n = copy_file_range(sfd, &so, dfd, &doff, chunk, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EXDEV) {
			rc = ctl_failf(c, dst, "not on the same pagerfs mount as %s", src);
			break;
		}
		if (n < 0) {
			rc = ctl_fail(c, dst, errno);
			break;
		}
		if (n == 0)
			break; /* SRC ended early (it shrank meanwhile) */
		left -= (uint64_t)n;
	}
	if (rc == CTL_EXIT_OK && fsync(dfd) < 0)
		rc = ctl_fail(c, dst, errno);
out_dst:
	close(dfd);
	if (rc != CTL_EXIT_OK && created)
		unlink(dst);
out_src:
	close(sfd);
	return rc;
}
