/*
 * pagerctl.h: what pagerctl's command files share.
 *
 * pagerctl manages a pagerfs mount only through the mount itself (files,
 * user.pagerfs.* xattrs, statvfs, the .pagerfs/ control files), so it works
 * for any user the mount lets in and never depends on the daemon's
 * internals; only `fsck` and `map --store` open a stopped store, read-only
 * unless `fsck --repair`, through the core library.
 *
 * Commands return an exit status: 0 done, 1 an operation failed (one line
 * "pagerctl: PATH: reason" on stderr), 2 a usage error.
 */
#ifndef PAGERCTL_H
#define PAGERCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CTL_EXIT_OK    0
#define CTL_EXIT_FAIL  1
#define CTL_EXIT_USAGE 2

#define CTL_XATTR(name) "user.pagerfs." name
#define CTL_CONTROL_DIR ".pagerfs"

/* One invocation: its streams and what they are connected to. */
struct ctl {
	const char *prog;     /* as invoked, for messages: "pagerctl" */
	const char *cmd;      /* the subcommand running, or NULL */
	FILE *out, *err;
	bool out_tty, err_tty;
	unsigned out_cols;    /* terminal width of out, or 80 */
	bool color;           /* out is a colour terminal (and NO_COLOR unset) */
};

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *usage;    /* "[--json] PATH" */
	const char *summary;  /* one line for the command list */
	const char *help;     /* options and details, for `pagerctl CMD --help` */
};

/* The commands, in cmd_*.c. */
int cmd_create(struct ctl *c, int argc, char **argv);
int cmd_ls(struct ctl *c, int argc, char **argv);
int cmd_stat(struct ctl *c, int argc, char **argv);
int cmd_map(struct ctl *c, int argc, char **argv);
int cmd_resize(struct ctl *c, int argc, char **argv);
int cmd_clone(struct ctl *c, int argc, char **argv);
int cmd_release(struct ctl *c, int argc, char **argv);
int cmd_sync(struct ctl *c, int argc, char **argv);
int cmd_quota(struct ctl *c, int argc, char **argv);
int cmd_df(struct ctl *c, int argc, char **argv);
int cmd_fsck(struct ctl *c, int argc, char **argv);
int cmd_umount(struct ctl *c, int argc, char **argv);

const struct ctl_cmd *ctl_find_cmd(const char *name);

/* "pagerctl: what: strerror(err)" (err > 0 or < 0), returns CTL_EXIT_FAIL. */
int ctl_fail(struct ctl *c, const char *what, int err);
/* "pagerctl: what: message", returns CTL_EXIT_FAIL. */
int ctl_failf(struct ctl *c, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "pagerctl CMD: message" and a hint to --help, returns CTL_EXIT_USAGE. */
int ctl_usage(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * After option parsing: are there min to max operands left? If not, print
 * the usage error ("missing NAMES" or "too many arguments") and return false.
 */
bool ctl_operands_ok(struct ctl *c, int argc, int min, int max, const char *names);
/* The help of the running command, to out; returns CTL_EXIT_OK. */
int ctl_help(struct ctl *c);

/*
 * getopt_long over a subcommand's argv (argv[0] is the command name):
 * resets getopt, adds --help (returns 'h'), and turns getopt's own
 * complaints into ctl_usage. Returns the option, -1 at the end, '?' on error
 * (after the message).
 */
struct option;
int ctl_getopt(struct ctl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* ---- the mount (mnt.c) ---- */

/* user.pagerfs.NAME of path as a NUL-terminated string; 0 or -errno. */
int mnt_getxattr(const char *path, const char *name, char *buf, size_t cap);
/* Is path on a pagerfs mount? (it answers user.pagerfs.id) 0, or -errno with -ENOTSUP for "no". */
int mnt_check(const char *path);
/* The mount point above path (realpath, then up while the parent is on the same mount). */
int mnt_root(const char *path, char *out, size_t cap);
/* Read MOUNT/.pagerfs/NAME into buf (NUL-terminated); 0 or -errno. */
int mnt_read_control(const char *mountpoint, const char *name, char *buf, size_t cap);
/*
 * Check that path is a pagerfs object or control; on failure print
 * "pagerctl: PATH: not on a pagerfs mount" (or the error) and return
 * CTL_EXIT_FAIL, else CTL_EXIT_OK.
 */
int ctl_need_pagerfs(struct ctl *c, const char *path);
/* strerror, with a hint for the errors only a FUSE mount gives. */
const char *mnt_strerror(int err);

/* ---- a stopped store (offline.c) ---- */

struct cat;
/*
 * Open STORE's catalogue, read-only (shares the store's lock with other
 * readers) or read-write (takes it exclusively: --repair). Refuses a
 * directory that is not a store rather than creating one. On failure prints
 * why ("in use by a running pagerfsd" for -EAGAIN) and returns CTL_EXIT_FAIL.
 */
int ctl_open_catalogue(struct ctl *c, const char *store, bool read_only, struct cat **cat);

/* ---- output helpers ---- */

/* size_format into a caller buffer, returned for use in printf. */
const char *ctl_size(uint64_t bytes, char *buf, size_t cap);

#endif /* PAGERCTL_H */
