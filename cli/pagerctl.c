/*
 * pagerctl.c: the command line of pagerctl: the command table, help, and the
 * error and usage conventions every command follows (pagerctl.h).
 *
 * This file never touches a mount or a store; each command lives in its own
 * cmd_*.c and gets one `struct ctl` describing this invocation.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "config.h"
#include "pagerctl.h"
#include "size.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "create", cmd_create,
	  "[--type T] [--backing PATH[:OFF[:LEN]]] [--size SIZE] [--persist] [--debug] [--maxsize SIZE] PATH",
	  "create a memory object",
	  "Create the memory object PATH, which must not exist yet. Without --type it\n"
	  "is a persistent anonymous object (type heap, flag persist), as open(O_CREAT)\n"
	  "makes; with --type it follows that type's lifecycle and persists only with\n"
	  "--persist. If any step fails the new object is removed again.\n"
	  "\n"
	  "  -t, --type T          code, heap, stack or shared\n"
	  "  -b, --backing SPEC    back it by PATH[:OFFSET[:LENGTH]] of a regular file\n"
	  "                        (a relative PATH is made absolute)\n"
	  "  -s, --size SIZE       its length (for a stack, use --maxsize)\n"
	  "  -p, --persist         keep contents across last closes and restarts\n"
	  "  -d, --debug           code: a writable private copy; any type: debug flag\n"
	  "  -m, --maxsize SIZE    stack only: the largest size it may grow down to\n" },
	{ "ls", cmd_ls, "[-l] [-a] [PATH]", "list objects and controls",
	  "List the objects and memory controls in directory PATH (default: the\n"
	  "current directory), or one object, with type, size and page counts.\n"
	  "\n"
	  "  -l, --long            also id, flags, mode, owner, quota and usage, backing\n"
	  "  -a, --all             include names starting with '.'\n" },
	{ "stat", cmd_stat, "[--json] PATH", "everything about one object or control",
	  "Show everything the mount tells about the object or memory control PATH.\n"
	  "\n"
	  "  -j, --json            one JSON object instead of text\n" },
	{ "map", cmd_map, "[--width N] [--rows N] [--color WHEN] [-v] PATH\n"
	  "       pagerctl map --store STORE [--width N] [--rows N] [--color WHEN] [-v] PATH-IN-STORE",
	  "a picture of the page map: zero, file and swap pages",
	  "Draw an object's page map: '.' zero-fill, 'f' backing file, 's' swap pages.\n"
	  "A cell holding several kinds shows the weightiest one present in capitals:\n"
	  "'S' if any page is swap, else 'F', so a lone swap page stays visible.\n"
	  "\n"
	  "On a live mount the daemon reports only per-kind counts (user.pagerfs.pages):\n"
	  "the picture is then proportional bands, not positions. With --store, for a\n"
	  "stopped daemon, pagerctl reads the committed page map from the catalogue\n"
	  "(read-only) and draws every run where it lies.\n"
	  "\n"
	  "  -w, --width N         columns of the picture (default: the terminal's)\n"
	  "  -r, --rows N          spread the picture over N rows (default 1; --store only)\n"
	  "  -S, --store STORE     read the stopped store STORE; PATH is inside it (/a/b)\n"
	  "      --color WHEN      auto (default), always or never\n"
	  "  -v, --verbose         list the runs too (--store only), like filefrag -v\n" },
	{ "resize", cmd_resize, "PATH SIZE", "set an object's length",
	  "Set the object's length to SIZE (ftruncate), then fsync so the new length\n"
	  "is durable. Shrinking releases the pages past the end.\n" },
	{ "clone", cmd_clone, "[--range OFF:LEN] SRC DST", "copy-on-write clone",
	  "Clone SRC onto DST (created if absent) with copy_file_range, which pagerfs\n"
	  "serves by sharing swap frames copy-on-write: whole pages cost no copy and\n"
	  "no swap until one side writes them. The range lands at the same offset in\n"
	  "DST. Durable when it returns.\n"
	  "\n"
	  "  -r, --range OFF:LEN   only this byte range (default: all of SRC);\n"
	  "                        OFF: alone means from OFF to the end\n" },
	{ "release", cmd_release, "PATH OFF LEN", "release a range to its initial contents",
	  "Give [OFF, OFF+LEN) of the object back: whole pages return to their initial\n"
	  "contents (the backing file, or zeros) and their swap is freed; partial pages\n"
	  "at the edges are zeroed. fallocate(PUNCH_HOLE|KEEP_SIZE), then fsync.\n" },
	{ "sync", cmd_sync, "PATH", "make everything written so far durable",
	  "fsync PATH: return when everything written to it before the call is\n"
	  "durable. A commit covers the whole store, so any object of a mount (or the\n"
	  "mount point itself) syncs all of it.\n" },
	{ "quota", cmd_quota, "PATH [SIZE|none]", "show or set a memory control's quota",
	  "Without SIZE, show the quota and usage of directory PATH. With SIZE, split\n"
	  "that many bytes of frames off the parent as PATH's guarantee, which is also\n"
	  "its limit (fails with 'No space left on device' if the parent cannot spare\n"
	  "them). 'none' removes the quota: PATH shares its parent's frames again.\n" },
	{ "df", cmd_df, "[MOUNTPOINT...]", "swap capacity, use and objects of mounts",
	  "Show the swap store of each pagerfs mount given (default: every pagerfs\n"
	  "mount): capacity, used, reserved and free swap, and the number of objects.\n"
	  "\n"
	  "  -h, --human           (default) sizes as 64M, 1.5G\n"
	  "  -b, --bytes           sizes in bytes\n" },
	{ "fsck", cmd_fsck, "[--repair] [-v] STORE", "check a stopped store",
	  "Check the store STORE of a stopped daemon: every catalogue record, the page\n"
	  "maps' extents, frame reference counts, the free-frame map, memory-control\n"
	  "charges, and every swap page's checksum against the swap files. Without\n"
	  "--repair it opens the catalogue read-only and changes nothing.\n"
	  "\n"
	  "  -r, --repair          drop what is provably unreachable (dangling extents\n"
	  "                        and names, stale reference counts, leaked frames,\n"
	  "                        unnamed objects) and report each; then check again\n"
	  "  -v, --verbose         also print what was checked\n"
	  "\n"
	  "Exit status: 0 clean (or everything repaired), 1 problems remain.\n" },
	{ "umount", cmd_umount, "[--timeout SECONDS] MOUNTPOINT", "unmount and wait for the daemon",
	  "Unmount MOUNTPOINT (fusermount3 -u, or umount(2) as root) and wait until\n"
	  "its daemon has committed everything and released the store.\n"
	  "\n"
	  "  -t, --timeout SECONDS how long to wait for the daemon (default 60)\n" },
};

const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

int ctl_fail(struct ctl *c, const char *what, int err)
{
	fprintf(c->err, "%s: %s: %s\n", c->prog, what, mnt_strerror(err < 0 ? -err : err));
	return CTL_EXIT_FAIL;
}

int ctl_failf(struct ctl *c, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%s: %s: ", c->prog, what);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return CTL_EXIT_FAIL;
}

int ctl_need_pagerfs(struct ctl *c, const char *path)
{
	int rc = mnt_check(path);

	if (rc == -ENOTSUP)
		return ctl_failf(c, path, "not on a pagerfs mount (it has no user.pagerfs.id)");
	return rc < 0 ? ctl_fail(c, path, rc) : CTL_EXIT_OK;
}

bool ctl_operands_ok(struct ctl *c, int argc, int min, int max, const char *names)
{
	if (argc - optind < min)
		return ctl_usage(c, "missing %s", names), false;
	if (argc - optind > max)
		return ctl_usage(c, "too many arguments"), false;
	return true;
}

int ctl_usage(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%s%s%s: ", c->prog, c->cmd ? " " : "", c->cmd ? c->cmd : "");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, "\nTry '%s %s%s--help' for more information.\n", c->prog,
		c->cmd ? c->cmd : "", c->cmd ? " " : "");
	return CTL_EXIT_USAGE;
}

int ctl_help(struct ctl *c)
{
	const struct ctl_cmd *cmd = ctl_find_cmd(c->cmd);

	fprintf(c->out, "Usage: %s %s %s\n%c%s.\n\n%s", c->prog, cmd->name, cmd->usage,
		toupper((unsigned char)cmd->summary[0]), cmd->summary + 1, cmd->help);
	fprintf(c->out, "  -h, --help            show this help\n");
	return CTL_EXIT_OK;
}

int ctl_getopt(struct ctl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char spec[64];
	struct option all[24];
	size_t n = 0;
	int opt;

	/* ':' first: a missing value comes back as ':' (options may follow operands). */
	snprintf(spec, sizeof(spec), ":%sh", shortopts);
	while (longopts && longopts[n].name && n < sizeof(all) / sizeof(all[0]) - 2) {
		all[n] = longopts[n];
		n++;
	}
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ 0 };
	opterr = 0;
	opt = getopt_long(argc, argv, spec, all, NULL);
	if (opt == '?') {
		if (optopt)
			return ctl_usage(c, "unknown option '-%c'", optopt), '?';
		return ctl_usage(c, "unknown option '%s'", argv[optind - 1]), '?';
	}
	if (opt == ':') {
		if (optopt)
			return ctl_usage(c, "option '-%c' needs a value", optopt), '?';
		return ctl_usage(c, "option '%s' needs a value", argv[optind - 1]), '?';
	}
	return opt;
}

const char *ctl_size(uint64_t bytes, char *buf, size_t cap)
{
	size_format(bytes, buf, cap);
	return buf;
}

static void ctl_list(struct ctl *c, FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [OPTION]... [ARG]...\n"
		   "Manage pagerfs memory objects, memory controls and stores.\n\nCommands:\n",
		c->prog);
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", ctl_cmds[i].name, ctl_cmds[i].summary);
	fprintf(f, "\n'%s COMMAND --help' (or '%s help COMMAND') describes a command.\n"
		   "Sizes are bytes or take K, M, G, T (powers of 1024): 64M, 1.5G.\n"
		   "Exit status: 0 success, 1 an operation failed, 2 a usage error.\n"
		   "See pagerctl(1) and pagerfs(7).\n", c->prog, c->prog);
}

static void ctl_init(struct ctl *c)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS"), *term = getenv("TERM");

	memset(c, 0, sizeof(*c));
	c->prog = "pagerctl";
	c->out = stdout;
	c->err = stderr;
	c->out_tty = isatty(STDOUT_FILENO);
	c->err_tty = isatty(STDERR_FILENO);
	c->out_cols = 80;
	if (c->out_tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		c->out_cols = ws.ws_col;
	else if (cols && atoi(cols) > 0)
		c->out_cols = (unsigned)atoi(cols);
	c->color = c->out_tty && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

int main(int argc, char **argv)
{
	struct ctl c;
	const struct ctl_cmd *cmd;
	int rc;

	ctl_init(&c);
	if (argc < 2) {
		ctl_list(&c, stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_list(&c, stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("pagerctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			ctl_list(&c, stdout);
			return CTL_EXIT_OK;
		}
		if (!(cmd = ctl_find_cmd(argv[2])))
			return ctl_usage(&c, "unknown command '%s'", argv[2]);
		c.cmd = cmd->name;
		return ctl_help(&c);
	}
	if (argv[1][0] == '-')
		return ctl_usage(&c, "unknown option '%s' (options follow the command)", argv[1]);
	if (!(cmd = ctl_find_cmd(argv[1])))
		return ctl_usage(&c, "unknown command '%s'", argv[1]);
	c.cmd = cmd->name;
	rc = cmd->run(&c, argc - 1, argv + 1);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: standard output: %s\n", c.prog, strerror(errno));
		return rc ? rc : CTL_EXIT_FAIL;
	}
	return rc;
}
