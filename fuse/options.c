/*
 * options.c: pagerfsd's command line (INTERFACE.md, pagerfsd(8)).
 *
 *   pagerfsd [-f] [-d] [-o OPT[,OPT...]] STORE MOUNTPOINT
 *
 * Options may also follow the positional arguments, as mount.fuse3 passes
 * them ("pagerfsd STORE MOUNTPOINT -o rw,swap_max=4G" from an fstab line).
 * Our own -o options are taken out; fstab-only words (noauto, nofail,
 * _netdev, x-*, ...) are dropped; everything else goes on to libfuse, which
 * refuses what it does not know. Every refusal is a usage error: a message
 * naming the option and exit status 2. This file only parses and checks;
 * it opens nothing but the STORE directory it may have to create.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pagerfsd.h"
#include "size.h"

#define OPT_THREADS_MAX 256
#define OPT_COMMIT_MAX  86400u          /* a day */
#define OPT_READAHEAD_MAX (UINT64_C(1) << 30)
#define OPT_PREFETCH_MAX (UINT64_C(32) << 20) /* its buffers are locked: twice this */

enum {
	KEY_HELP, KEY_VERSION, KEY_FOREGROUND, KEY_DEBUG,
	KEY_SWAP_MAX, KEY_COMMIT_INTERVAL, KEY_THREADS, KEY_READAHEAD, KEY_PREFETCH, KEY_BDI_TUNE,
	KEY_ALLOW_OTHER,
};

/* Ours, with and without '=' so a missing value gets our message, not libfuse's. */
static const struct fuse_opt op_spec[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("swap_max=", KEY_SWAP_MAX),
	FUSE_OPT_KEY("swap_max", KEY_SWAP_MAX),
	FUSE_OPT_KEY("commit_interval=", KEY_COMMIT_INTERVAL),
	FUSE_OPT_KEY("commit_interval", KEY_COMMIT_INTERVAL),
	FUSE_OPT_KEY("threads=", KEY_THREADS),
	FUSE_OPT_KEY("threads", KEY_THREADS),
	FUSE_OPT_KEY("readahead=", KEY_READAHEAD),
	FUSE_OPT_KEY("readahead", KEY_READAHEAD),
	FUSE_OPT_KEY("prefetch=", KEY_PREFETCH),
	FUSE_OPT_KEY("prefetch", KEY_PREFETCH),
	FUSE_OPT_KEY("bdi_tune=", KEY_BDI_TUNE),
	FUSE_OPT_KEY("bdi_tune", KEY_BDI_TUNE),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_END
};

/* Words an fstab line may carry that mean nothing to a FUSE mount. */
static bool op_fstab_only(const char *arg)
{
	static const char *const words[] = {
		"defaults", "auto", "noauto", "nofail", "_netdev", "user", "users", "nouser",
		"owner", "group",
	};

	for (size_t i = 0; i < PFS_ARRAY_SIZE(words); i++)
		if (strcmp(arg, words[i]) == 0)
			return true;
	return strncmp(arg, "x-", 2) == 0 || strncmp(arg, "comment=", 8) == 0;
}

static void op_usage(FILE *f)
{
	fprintf(f,
		"usage: pagerfsd [-f] [-d] [-o OPT[,OPT...]] STORE MOUNTPOINT\n"
		"\n"
		"Serve the pagerfs store in STORE (created if absent) at MOUNTPOINT.\n"
		"\n"
		"  -f                    stay in the foreground, log to stderr\n"
		"  -d                    debug log to stderr (implies -f)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"  -o swap_max=SIZE      cap on the swap store (default: the store's free space)\n"
		"  -o commit_interval=S  group commit every S seconds; 0: only on fsync,\n"
		"                        unmount and pressure (default 5)\n"
		"  -o threads=N          worker threads (default: 2 per CPU, at least 4)\n"
		"  -o readahead=SIZE     the mount's readahead (default 1M)\n"
		"  -o prefetch=SIZE      read swap this far ahead of a sequential reader;\n"
		"                        0: never (default 4M)\n"
		"  -o bdi_tune=0|1       set readahead and lift the dirty limit on the mount's\n"
		"                        bdi (default 1 when root)\n"
		"  -o allow_other        let every user in (permissions are always checked)\n"
		"  -o OPT                any other FUSE mount option (ro, noexec, fsname=, ...)\n"
		"\n"
		"SIZE: bytes, or with a K, M, G or T suffix (powers of 1024).\n"
		"See pagerfsd(8).\n");
}

static unsigned op_default_threads(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long n = ncpu > 0 ? 2 * ncpu : 4;

	return (unsigned)PFS_MIN(PFS_MAX(n, 4), 64);
}

/* The value after "name=", or NULL with a message when there is none. */
static const char *op_value(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq || !eq[1]) {
		fprintf(stderr, "pagerfsd: option '%.*s' needs a value\n",
			eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		return NULL;
	}
	return eq + 1;
}

static int op_uint(const char *arg, unsigned long long max, unsigned long long *out)
{
	const char *v = op_value(arg);
	char *end;

	if (!v)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-' || v[0] == '+' || *out > max) {
		fprintf(stderr, "pagerfsd: option '%s': expected a whole number from 0 to %llu\n",
			arg, max);
		return -1;
	}
	return 0;
}

static int op_size(const char *arg, uint64_t *out)
{
	const char *v = op_value(arg);
	int rc;

	if (!v)
		return -1;
	if ((rc = size_parse(v, out)) < 0) {
		fprintf(stderr, "pagerfsd: option '%s': %s\n", arg,
			rc == -ERANGE ? "size too large" :
			"expected a size: bytes, or with a K, M, G or T suffix");
		return -1;
	}
	return 0;
}

struct op_state {
	struct pfsd_options *opt;
	int exit_status; /* set by -h, -V */
	unsigned npos;
};

static int op_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct op_state *st = data;
	struct pfsd_options *opt = st->opt;
	unsigned long long n;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (st->npos == 0)
			opt->store_arg = arg;
		else if (st->npos == 1)
			opt->mount_arg = arg;
		else {
			fprintf(stderr, "pagerfsd: unexpected argument '%s'\n", arg);
			return -1;
		}
		st->npos++;
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (op_fstab_only(arg))
			return 0;
		if (strncmp(arg, "fsname=", 7) == 0)
			opt->have_fsname = true;
		if (strncmp(arg, "subtype=", 8) == 0)
			opt->have_subtype = true;
		/* libfuse wants init to ask for the same max_read as the mount does */
		if (strncmp(arg, "max_read=", 9) == 0) {
			char *end;
			errno = 0;
			n = strtoull(arg + 9, &end, 10);
			if (errno || *end || end == arg + 9 || n > UINT32_MAX) {
				fprintf(stderr, "pagerfsd: invalid max_read '%s'\n", arg + 9);
				return -1;
			}
			opt->max_read = (unsigned)n;
		}
		if (arg[0] == '-') {
			fprintf(stderr, "pagerfsd: unknown option '%s'\n", arg);
			return -1;
		}
		return 1; /* a FUSE mount option: libfuse checks it */
	case KEY_HELP:
		op_usage(stdout);
		st->exit_status = PFSD_EXIT_OK;
		return -1;
	case KEY_VERSION:
		printf("pagerfsd %s (libfuse %s)\n", PACKAGE_VERSION, fuse_pkgversion());
		st->exit_status = PFSD_EXIT_OK;
		return -1;
	case KEY_FOREGROUND:
		opt->foreground = true;
		return 0;
	case KEY_DEBUG:
		opt->foreground = opt->debug = true;
		return 0;
	case KEY_SWAP_MAX:
		return op_size(arg, &opt->swap_max_bytes) < 0 ? -1 : 0;
	case KEY_COMMIT_INTERVAL:
		if (op_uint(arg, OPT_COMMIT_MAX, &n) < 0)
			return -1;
		opt->commit_interval_s = (unsigned)n;
		return 0;
	case KEY_THREADS:
		if (op_uint(arg, OPT_THREADS_MAX, &n) < 0)
			return -1;
		if (n == 0) {
			fprintf(stderr, "pagerfsd: option '%s': at least one thread\n", arg);
			return -1;
		}
		opt->threads = (unsigned)n;
		return 0;
	case KEY_READAHEAD:
		if (op_size(arg, &opt->readahead_bytes) < 0)
			return -1;
		if (opt->readahead_bytes % PFS_PAGE_SIZE || opt->readahead_bytes > OPT_READAHEAD_MAX) {
			fprintf(stderr, "pagerfsd: option '%s': readahead must be a multiple of "
				"4K, at most 1G\n", arg);
			return -1;
		}
		return 0;
	case KEY_PREFETCH:
		if (op_size(arg, &opt->prefetch_bytes) < 0)
			return -1;
		if (opt->prefetch_bytes > OPT_PREFETCH_MAX) {
			fprintf(stderr, "pagerfsd: option '%s': prefetch is at most 32M\n", arg);
			return -1;
		}
		return 0;
	case KEY_BDI_TUNE:
		if (op_uint(arg, 1, &n) < 0)
			return -1;
		opt->bdi_tune = (int)n;
		return 0;
	case KEY_ALLOW_OTHER:
		opt->allow_other = true;
		return 1; /* libfuse mounts with it */
	}
	return 1;
}

bool pfsd_options_parse(int argc, char **argv, struct pfsd_options *opt, int *exit_status)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct op_state st = { .opt = opt, .exit_status = PFSD_EXIT_USAGE };

	memset(opt, 0, sizeof(*opt));
	opt->commit_interval_s = 5;
	opt->threads = op_default_threads();
	opt->readahead_bytes = UINT64_C(1) << 20;
	opt->prefetch_bytes = UINT64_C(4) << 20;
	opt->bdi_tune = -1;
	if (fuse_opt_parse(&args, &st, op_spec, op_proc) < 0) {
		fuse_opt_free_args(&args);
		if (st.exit_status == PFSD_EXIT_USAGE)
			fprintf(stderr, "Try 'pagerfsd --help'.\n");
		*exit_status = st.exit_status;
		return false;
	}
	if (st.npos != 2) {
		fprintf(stderr, "pagerfsd: %s\n", st.npos == 0 ? "missing STORE and MOUNTPOINT"
							       : "missing MOUNTPOINT");
		op_usage(stderr);
		fuse_opt_free_args(&args);
		*exit_status = PFSD_EXIT_USAGE;
		return false;
	}
	if (opt->bdi_tune < 0)
		opt->bdi_tune = geteuid() == 0;
	/*
	 * Permissions are always the kernel's to check (object.h): without
	 * default_permissions nobody would, and a tmpfs user expects them.
	 */
	if (fuse_opt_add_arg(&args, "-odefault_permissions") < 0)
		goto nomem;
	if (!opt->have_subtype && fuse_opt_add_arg(&args, "-osubtype=pagerfsd") < 0)
		goto nomem;
	opt->fuse_args = args;
	return true;
nomem:
	fuse_opt_free_args(&args);
	fprintf(stderr, "pagerfsd: out of memory\n");
	*exit_status = PFSD_EXIT_FAIL;
	return false;
}

bool pfsd_options_check_fuse(struct pfsd_options *opt)
{
	static const struct fuse_lowlevel_ops none;
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;

	/* libfuse consumes what it parses: give it a copy. */
	for (int i = 0; i < opt->fuse_args.argc; i++)
		if (fuse_opt_add_arg(&copy, opt->fuse_args.argv[i]) < 0) {
			fuse_opt_free_args(&copy);
			fprintf(stderr, "pagerfsd: out of memory\n");
			return false;
		}
	/* A session that is never mounted: libfuse parses and refuses unknown options. */
	se = fuse_session_new(&copy, &none, sizeof(none), NULL);
	fuse_opt_free_args(&copy);
	if (!se) {
		fprintf(stderr, "Try 'pagerfsd --help'.\n");
		return false;
	}
	fuse_session_destroy(se);
	return true;
}

/* realpath() of a directory, or NULL with a message. */
static char *op_dir(const char *what, const char *path)
{
	struct stat st;
	char *abs;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "pagerfsd: %s %s: %s\n", what, path, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pagerfsd: %s %s: not a directory\n", what, path);
		return NULL;
	}
	if (!(abs = realpath(path, NULL)))
		fprintf(stderr, "pagerfsd: %s %s: %s\n", what, path, strerror(errno));
	return abs;
}

int pfsd_options_paths(struct pfsd_options *opt)
{
	size_t mlen;

	if (mkdir(opt->store_arg, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "pagerfsd: cannot create store %s: %s\n", opt->store_arg,
			strerror(errno));
		return PFSD_EXIT_FAIL;
	}
	if (!(opt->store = op_dir("store", opt->store_arg)))
		return PFSD_EXIT_FAIL;
	if (!(opt->mountpoint = op_dir("mount point", opt->mount_arg)))
		return PFSD_EXIT_FAIL;
	/* A store under its own mount would make the daemon page through itself. */
	mlen = strlen(opt->mountpoint);
	if (strcmp(opt->mountpoint, "/") == 0 ||
	    (strncmp(opt->store, opt->mountpoint, mlen) == 0 &&
	     (opt->store[mlen] == '\0' || opt->store[mlen] == '/'))) {
		fprintf(stderr, "pagerfsd: store %s lies under mount point %s\n", opt->store,
			opt->mountpoint);
		return PFSD_EXIT_FAIL;
	}
	if (!opt->have_fsname) {
		/* The store names the mount in mount(8) and df(1); fsname= is libfuse's escaping. */
		char *o = NULL;
		if (fuse_opt_add_opt_escaped(&o, opt->store) < 0)
			return PFSD_EXIT_FAIL;
		size_t len = strlen(o) + sizeof("-ofsname=");
		char *a = malloc(len);
		if (!a) {
			free(o);
			return PFSD_EXIT_FAIL;
		}
		snprintf(a, len, "-ofsname=%s", o);
		free(o);
		int rc = fuse_opt_add_arg(&opt->fuse_args, a);
		free(a);
		if (rc < 0)
			return PFSD_EXIT_FAIL;
	}
	return 0;
}

void pfsd_options_free(struct pfsd_options *opt)
{
	fuse_opt_free_args(&opt->fuse_args);
	free(opt->store);
	free(opt->mountpoint);
}
