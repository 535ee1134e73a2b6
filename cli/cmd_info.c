/*
 * cmd_info.c: the commands that describe objects and controls: ls, stat and
 * quota (which also sets a control's guarantee).
 *
 * All they know comes from stat(2) and the user.pagerfs.* attributes of
 * INTERFACE.md; an attribute the daemon does not report for a path (quota
 * of a sharing control, backing of an anonymous object) is shown as absent.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "json.h"
#include "pagerctl.h"

/* What the mount says about one path. */
struct ci_info {
	struct stat st;
	bool is_dir;
	uint64_t id;
	char type[16];
	char flags[128];
	bool have_pages;
	struct arg_pages pages;
	bool have_backing;
	char backing[PATH_MAX];
	uint64_t backing_off, backing_len;
	bool have_maxsize;
	uint64_t maxsize;
	bool have_quota, have_usage;
	uint64_t quota, usage;
	/* Who has it open (from MOUNT/.pagerfs/opens): pid, open handles, command. */
	struct { long pid; unsigned opens; char comm[32]; } users[16];
	unsigned nusers;
};

/* Fill in->users from the daemon's open counts; quietly none if it cannot say. */
static void ci_users(const char *path, struct ci_info *in)
{
	char root[PATH_MAX], *text = malloc(65536), *save = NULL;

	if (!text)
		return;
	if (mnt_root(path, root, sizeof(root)) == 0 &&
	    mnt_read_control(root, "opens", text, 65536) == 0) {
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long long id;
			long pid;
			unsigned opens;
			char comm[32];
			if (line[0] == '#' || sscanf(line, "%llu %ld %u %31[^\n]", &id, &pid, &opens, comm) != 4)
				continue;
			if (id != in->id || in->nusers == sizeof(in->users) / sizeof(in->users[0]))
				continue;
			in->users[in->nusers].pid = pid;
			in->users[in->nusers].opens = opens;
			snprintf(in->users[in->nusers].comm, sizeof(in->users[0].comm), "%s", comm);
			in->nusers++;
		}
	}
	free(text);
}

/* An optional attribute: 1 present, 0 absent (ENODATA), or -errno. */
static int ci_optional(const char *path, const char *name, char *buf, size_t cap)
{
	int rc = mnt_getxattr(path, name, buf, cap);

	if (rc == -ENODATA)
		return 0;
	return rc < 0 ? rc : 1;
}

static int ci_u64(const char *s, uint64_t *v)
{
	return arg_u64(s, 0, UINT64_MAX, v) < 0 ? -EPROTO : 0;
}

/*
 * Gather everything; -ENOTSUP when path is not on pagerfs, -EPROTO when the
 * daemon answered something this pagerctl cannot read.
 */
static int ci_get(const char *path, struct ci_info *in)
{
	char v[PATH_MAX + 64];
	int rc;

	memset(in, 0, sizeof(*in));
	if (stat(path, &in->st) < 0)
		return -errno;
	in->is_dir = S_ISDIR(in->st.st_mode);
	if ((rc = mnt_getxattr(path, "id", v, sizeof(v))) < 0)
		return rc == -ENODATA ? -ENOTSUP : rc;
	if ((rc = ci_u64(v, &in->id)) < 0)
		return rc;
	if (in->is_dir) {
		if ((rc = ci_optional(path, "quota", v, sizeof(v))) < 0)
			return rc;
		if (rc && (in->have_quota = true) && (rc = ci_u64(v, &in->quota)) < 0)
			return rc;
		if ((rc = ci_optional(path, "usage", v, sizeof(v))) < 0)
			return rc;
		if (rc && (in->have_usage = true) && (rc = ci_u64(v, &in->usage)) < 0)
			return rc;
		return 0;
	}
	if ((rc = ci_optional(path, "type", in->type, sizeof(in->type))) < 0)
		return rc;
	if ((rc = ci_optional(path, "flags", in->flags, sizeof(in->flags))) < 0)
		return rc;
	if ((rc = ci_optional(path, "pages", v, sizeof(v))) < 0)
		return rc;
	if (rc && (in->have_pages = true) && arg_pages(v, &in->pages) < 0)
		return -EPROTO;
	if ((rc = ci_optional(path, "backing", v, sizeof(v))) < 0)
		return rc;
	if (rc && (in->have_backing = true) &&
	    arg_backing(v, in->backing, sizeof(in->backing), &in->backing_off, &in->backing_len) < 0)
		return -EPROTO;
	if ((rc = ci_optional(path, "maxsize", v, sizeof(v))) < 0)
		return rc;
	if (rc && (in->have_maxsize = true) && (rc = ci_u64(v, &in->maxsize)) < 0)
		return rc;
	ci_users(path, in);
	return 0;
}

static int ci_fail(struct ctl *c, const char *path, int rc)
{
	if (rc == -ENOTSUP)
		return ctl_failf(c, path, "not on a pagerfs mount (it has no user.pagerfs.id)");
	if (rc == -EPROTO)
		return ctl_failf(c, path, "the daemon reports an attribute this pagerctl cannot read");
	return ctl_fail(c, path, rc);
}

static const char *ci_owner(uid_t uid, gid_t gid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(buf, cap, "%s:%s", pw ? pw->pw_name : u, gr ? gr->gr_name : g);
	return buf;
}

static const char *ci_mode(mode_t m, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";

	buf[0] = S_ISDIR(m) ? 'd' : S_ISREG(m) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		buf[i + 1] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	buf[10] = '\0';
	return buf;
}

/* ---- ls ---- */

#define CI_COLS 13

struct ci_row {
	char *col[CI_COLS];
};

struct ci_table {
	struct ci_row *rows;
	size_t n, cap;
	bool lng;
};

static int ci_table_add(struct ci_table *t, const char *const *cols, size_t ncols)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct ci_row *nv = realloc(t->rows, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->rows = nv;
		t->cap = cap;
	}
	struct ci_row *r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < ncols; i++)
		if (!(r->col[i] = strdup(cols[i] ? cols[i] : "-")))
			return -ENOMEM;
	t->n++;
	return 0;
}

static int ci_row_for(struct ci_table *t, const char *name, const struct ci_info *in)
{
	char id[24], size[16], z[24], f[24], s[24], q[16], u[16], mode[12], owner[80];
	char last[PATH_MAX * 2 + 8];
	const char *type = in->is_dir ? "control" : in->type[0] ? in->type : "?";

	snprintf(id, sizeof(id), "%" PRIu64, in->id);
	if (in->is_dir)
		snprintf(size, sizeof(size), "-");
	else
		ctl_size((uint64_t)in->st.st_size, size, sizeof(size));
	if (in->have_pages) {
		snprintf(z, sizeof(z), "%" PRIu64, in->pages.zero);
		snprintf(f, sizeof(f), "%" PRIu64, in->pages.file);
		snprintf(s, sizeof(s), "%" PRIu64, in->pages.swap);
	} else {
		strcpy(z, "-");
		strcpy(f, "-");
		strcpy(s, "-");
	}
	snprintf(last, sizeof(last), "%s%s", name, in->is_dir ? "/" : "");
	if (!t->lng) {
		const char *cols[] = { type, size, z, f, s, last };
		return ci_table_add(t, cols, 6);
	}
	if (in->have_backing)
		snprintf(last, sizeof(last), "%s -> %s:%" PRIu64 ":%" PRIu64, name, in->backing,
			 in->backing_off, in->backing_len);
	if (in->have_quota)
		ctl_size(in->quota, q, sizeof(q));
	else
		strcpy(q, "-");
	if (in->have_usage)
		ctl_size(in->usage, u, sizeof(u));
	else
		strcpy(u, "-");
	char users[16] = "-";
	if (in->nusers)
		snprintf(users, sizeof(users), "%u", in->nusers); /* processes with it open */
	const char *cols[] = { id, type, in->flags[0] ? in->flags : "-",
			       ci_mode(in->st.st_mode, mode),
			       ci_owner(in->st.st_uid, in->st.st_gid, owner, sizeof(owner)),
			       size, z, f, s, q, u, users, last };
	return ci_table_add(t, cols, 13);
}

static void ci_table_print(struct ctl *c, struct ci_table *t)
{
	static const char *const shorth[] = { "TYPE", "SIZE", "ZERO", "FILE", "SWAP", "NAME" };
	static const char *const longh[] = { "ID", "TYPE", "FLAGS", "MODE", "OWNER", "SIZE",
					     "ZERO", "FILE", "SWAP", "QUOTA", "USAGE", "OPEN", "NAME" };
	/* Numbers right-aligned, words left-aligned; the name is last and free. */
	static const bool short_right[] = { 0, 1, 1, 1, 1, 0 };
	static const bool long_right[] = { 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0 };
	const char *const *head = t->lng ? longh : shorth;
	const bool *right = t->lng ? long_right : short_right;
	size_t ncols = t->lng ? 13 : 6, w[CI_COLS] = { 0 };

	for (size_t i = 0; i < ncols; i++) {
		w[i] = strlen(head[i]);
		for (size_t r = 0; r < t->n; r++)
			if (strlen(t->rows[r].col[i]) > w[i])
				w[i] = strlen(t->rows[r].col[i]);
	}
	for (size_t r = 0; r <= t->n; r++) {
		for (size_t i = 0; i < ncols; i++) {
			const char *v = r == 0 ? head[i] : t->rows[r - 1].col[i];
			if (i == ncols - 1)
				fprintf(c->out, "%s\n", v);
			else
				fprintf(c->out, right[i] ? "%*s  " : "%-*s  ", (int)w[i], v);
		}
	}
}

static void ci_table_free(struct ci_table *t)
{
	for (size_t r = 0; r < t->n; r++)
		for (size_t i = 0; i < CI_COLS; i++)
			free(t->rows[r].col[i]);
	free(t->rows);
}

static int ci_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_ls(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ 0 },
	};
	struct ci_table t = { 0 };
	struct ci_info in;
	bool all = false;
	const char *path = ".";
	char **names = NULL;
	size_t n = 0, cap = 0;
	int opt, rc, status = CTL_EXIT_OK;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "la", opts)) != -1) {
		switch (opt) {
		case 'l':
			t.lng = true;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return ctl_usage(c, "too many arguments");
	if (optind < argc)
		path = argv[optind];
	if ((rc = ci_get(path, &in)) < 0)
		return ci_fail(c, path, rc);
	if (!in.is_dir) {
		if ((rc = ci_row_for(&t, path, &in)) < 0)
			status = ctl_fail(c, path, rc);
		goto print;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return ctl_fail(c, path, errno);
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.' && (!all || strcmp(de->d_name, CTL_CONTROL_DIR) == 0))
			continue; /* the control files are not objects */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nv = realloc(names, ncap * sizeof(*nv));
			if (!nv) {
				status = ctl_fail(c, path, ENOMEM);
				break;
			}
			names = nv;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			status = ctl_fail(c, path, ENOMEM);
			break;
		}
		n++;
	}
	if (errno && status == CTL_EXIT_OK)
		status = ctl_fail(c, path, errno);
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), ci_cmp_names);
	for (size_t i = 0; i < n; i++) {
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if ((rc = ci_get(full, &in)) < 0)
			status = ci_fail(c, full, rc); /* listed the rest all the same */
		else if ((rc = ci_row_for(&t, names[i], &in)) < 0)
			status = ctl_fail(c, full, rc);
		free(names[i]);
	}
	free(names);
print:
	ci_table_print(c, &t);
	ci_table_free(&t);
	return status;
}

/* ---- stat ---- */

static void ci_time(char *buf, size_t cap, const struct timespec *ts)
{
	struct tm tm;
	char base[32], zone[8];

	localtime_r(&ts->tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, cap, "%s.%09ld %s", base, ts->tv_nsec, zone);
}

static int64_t ci_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void ci_stat_json(struct ctl *c, const char *path, const struct ci_info *in)
{
	struct json j;
	char mode[8];

	json_init(&j, c->out);
	json_begin_object(&j);
	json_kv_string(&j, "path", path);
	json_kv_string(&j, "kind", in->is_dir ? "control" : "object");
	json_kv_u64(&j, "id", in->id);
	if (in->is_dir) {
		json_key(&j, "quota");
		if (in->have_quota)
			json_u64(&j, in->quota);
		else
			json_null(&j);
		json_key(&j, "usage");
		if (in->have_usage)
			json_u64(&j, in->usage);
		else
			json_null(&j);
	} else {
		json_kv_string(&j, "type", in->type);
		json_key(&j, "flags");
		json_begin_array(&j);
		char fl[sizeof(in->flags)], *save = NULL;
		snprintf(fl, sizeof(fl), "%s", in->flags);
		for (char *tok = strtok_r(fl, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_string(&j, tok);
		json_end_array(&j);
		json_kv_u64(&j, "size", (uint64_t)in->st.st_size);
		json_key(&j, "pages");
		if (in->have_pages) {
			json_begin_object(&j);
			json_kv_u64(&j, "total", in->pages.zero + in->pages.file + in->pages.swap);
			json_kv_u64(&j, "zero", in->pages.zero);
			json_kv_u64(&j, "file", in->pages.file);
			json_kv_u64(&j, "swap", in->pages.swap);
			json_end_object(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "backing");
		if (in->have_backing) {
			json_begin_object(&j);
			json_kv_string(&j, "path", in->backing);
			json_kv_u64(&j, "offset", in->backing_off);
			json_kv_u64(&j, "length", in->backing_len);
			json_end_object(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "maxsize");
		if (in->have_maxsize)
			json_u64(&j, in->maxsize);
		else
			json_null(&j);
		json_kv_u64(&j, "blocks", (uint64_t)in->st.st_blocks);
		json_key(&j, "open_by");
		json_begin_array(&j);
		for (unsigned i = 0; i < in->nusers; i++) {
			json_begin_object(&j);
			json_kv_u64(&j, "pid", (uint64_t)in->users[i].pid);
			json_kv_string(&j, "command", in->users[i].comm);
			json_kv_u64(&j, "opens", in->users[i].opens);
			json_end_object(&j);
		}
		json_end_array(&j);
	}
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(in->st.st_mode & 07777));
	json_kv_string(&j, "mode", mode);
	json_kv_u64(&j, "uid", in->st.st_uid);
	json_kv_u64(&j, "gid", in->st.st_gid);
	json_key(&j, "atime_ns");
	json_i64(&j, ci_ns(&in->st.st_atim));
	json_key(&j, "mtime_ns");
	json_i64(&j, ci_ns(&in->st.st_mtim));
	json_key(&j, "ctime_ns");
	json_i64(&j, ci_ns(&in->st.st_ctim));
	json_end_object(&j);
	json_finish(&j);
}

static void ci_stat_text(struct ctl *c, const char *path, const struct ci_info *in)
{
	char a[64], b[64], t[96];
	FILE *o = c->out;

	fprintf(o, "path      %s\n", path);
	fprintf(o, "kind      %s\n", in->is_dir ? "memory control (directory)" : "memory object");
	fprintf(o, "id        %" PRIu64 "\n", in->id);
	if (in->is_dir) {
		if (in->have_quota)
			fprintf(o, "quota     %s (%" PRIu64 " bytes, guaranteed and the limit)\n",
				ctl_size(in->quota, a, sizeof(a)), in->quota);
		else
			fprintf(o, "quota     none (shares its parent's frames)\n");
		if (in->have_usage)
			fprintf(o, "usage     %s (%" PRIu64 " bytes)\n", ctl_size(in->usage, a, sizeof(a)),
				in->usage);
	} else {
		fprintf(o, "type      %s\n", in->type);
		fprintf(o, "flags     %s\n", in->flags[0] ? in->flags : "-");
		fprintf(o, "size      %s (%" PRIu64 " bytes)\n",
			ctl_size((uint64_t)in->st.st_size, a, sizeof(a)), (uint64_t)in->st.st_size);
		if (in->have_maxsize)
			fprintf(o, "maxsize   %s (%" PRIu64 " bytes)\n",
				ctl_size(in->maxsize, a, sizeof(a)), in->maxsize);
		if (in->have_pages)
			fprintf(o, "pages     %" PRIu64 ": zero %" PRIu64 ", file %" PRIu64
				   ", swap %" PRIu64 " (%s in swap)\n",
				in->pages.zero + in->pages.file + in->pages.swap, in->pages.zero,
				in->pages.file, in->pages.swap,
				ctl_size(in->pages.swap * 4096, b, sizeof(b)));
		if (in->have_backing)
			fprintf(o, "backing   %s, offset %" PRIu64 ", length %" PRIu64 " (%s)\n",
				in->backing, in->backing_off, in->backing_len,
				ctl_size(in->backing_len, b, sizeof(b)));
		else
			fprintf(o, "backing   none (anonymous)\n");
		if (in->nusers == 0)
			fprintf(o, "open by   nobody\n");
		for (unsigned i = 0; i < in->nusers; i++)
			fprintf(o, "%s pid %ld (%s), %u open%s\n", i ? "         " : "open by  ",
				in->users[i].pid, in->users[i].comm, in->users[i].opens,
				in->users[i].opens == 1 ? "" : "s");
	}
	fprintf(o, "mode      %s (%04o)\n", ci_mode(in->st.st_mode, a), (unsigned)(in->st.st_mode & 07777));
	fprintf(o, "owner     %s\n", ci_owner(in->st.st_uid, in->st.st_gid, t, sizeof(t)));
	ci_time(t, sizeof(t), &in->st.st_atim);
	fprintf(o, "accessed  %s\n", t);
	ci_time(t, sizeof(t), &in->st.st_mtim);
	fprintf(o, "modified  %s\n", t);
	ci_time(t, sizeof(t), &in->st.st_ctim);
	fprintf(o, "changed   %s\n", t);
}

int cmd_stat(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct ci_info in;
	bool json = false;
	int opt, rc;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "j", opts)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctl_operands_ok(c, argc, 1, 1, "PATH"))
		return CTL_EXIT_USAGE;
	if ((rc = ci_get(argv[optind], &in)) < 0)
		return ci_fail(c, argv[optind], rc);
	if (json)
		ci_stat_json(c, argv[optind], &in);
	else
		ci_stat_text(c, argv[optind], &in);
	return CTL_EXIT_OK;
}

/* ---- quota ---- */

int cmd_quota(struct ctl *c, int argc, char **argv)
{
	struct ci_info in;
	const char *path;
	char a[16], b[16];
	int opt, rc;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "", NULL)) != -1)
		return opt == 'h' ? ctl_help(c) : CTL_EXIT_USAGE;
	if (!ctl_operands_ok(c, argc, 1, 2, "PATH"))
		return CTL_EXIT_USAGE;
	path = argv[optind];
	uint64_t bytes = 0;
	bool set = argc - optind == 2, clear = set && strcmp(argv[optind + 1], "none") == 0;
	if (set && !clear && arg_size(argv[optind + 1], &bytes) < 0)
		return ctl_usage(c, "invalid size '%s' (a SIZE, or none)", argv[optind + 1]);
	if ((rc = ci_get(path, &in)) < 0)
		return ci_fail(c, path, rc);
	if (!in.is_dir)
		return ctl_failf(c, path, "not a directory: quotas belong to memory controls");
	if (clear) {
		if (removexattr(path, CTL_XATTR("quota")) < 0 && errno != ENODATA)
			return ctl_fail(c, path, errno);
		return CTL_EXIT_OK;
	}
	if (set) {
		char v[32];
		snprintf(v, sizeof(v), "%" PRIu64, bytes);
		if (setxattr(path, CTL_XATTR("quota"), v, strlen(v), 0) < 0) {
			if (errno == ENOSPC)
				return ctl_failf(c, path, "the parent cannot spare %s (%s)",
						 ctl_size(bytes, a, sizeof(a)), strerror(ENOSPC));
			return ctl_fail(c, path, errno);
		}
		return CTL_EXIT_OK;
	}
	if (in.have_quota)
		fprintf(c->out, "%s: quota %s, usage %s\n", path, ctl_size(in.quota, a, sizeof(a)),
			in.have_usage ? ctl_size(in.usage, b, sizeof(b)) : "-");
	else
		fprintf(c->out, "%s: no quota (shares its parent's frames), usage %s\n", path,
			in.have_usage ? ctl_size(in.usage, b, sizeof(b)) : "-");
	return CTL_EXIT_OK;
}
