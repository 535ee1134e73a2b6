/*
 * cmd_map.c: `pagerctl map`, a picture of an object's page map.
 *
 * Two sources, and the picture says which one it shows:
 *  - a live mount: user.pagerfs.pages gives only per-kind counts (the daemon
 *    does not expose runs), so the row shows proportional bands;
 *  - --store STORE: a stopped store's committed page map, read from the
 *    catalogue read-only and drawn where every run lies, one cell per slice
 *    of pages, like `filefrag -v` or `vmtouch -v`.
 * It never writes to either.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "catalogue.h"
#include "mapdraw.h"
#include "pagemap.h"
#include "pagerctl.h"

#define CM_COLOR_RESET "\033[0m"

struct cm_opts {
	unsigned width;  /* whole line, label and brackets included */
	unsigned rows;
	bool color, verbose;
	const char *store;
};

static const char *const cm_kind_names[MAP_NKINDS] = { "zero", "file", "swap" };
static const char cm_kind_chars[MAP_NKINDS] = { '.', 'f', 's' };
static const char *const cm_kind_colors[MAP_NKINDS] = {
	"\033[2m",     /* zero: dim */
	"\033[97;44m", /* file: white on blue */
	"\033[30;42m", /* swap: black on green */
};

static void cm_legend(struct ctl *c, const struct cm_opts *o, const uint64_t counts[MAP_NKINDS],
		      bool mixed_note)
{
	static const enum map_kind order[] = { MAP_SWAP, MAP_FILE, MAP_ZERO };
	uint64_t total = counts[0] + counts[1] + counts[2];

	for (unsigned i = 0; i < MAP_NKINDS; i++) {
		enum map_kind k = order[i];
		char sz[16];
		char pct[16];
		if (counts[k] && counts[k] * 1000 < total)
			snprintf(pct, sizeof(pct), "<0.1%%");
		else if (counts[k] != total && (total - counts[k]) * 1000 < total)
			snprintf(pct, sizeof(pct), ">99.9%%");
		else
			snprintf(pct, sizeof(pct), "%.1f%%", total ? 100.0 * (double)counts[k] / (double)total : 0.0);
		fprintf(c->out, "  %s%c%s %-4s %12" PRIu64 " pages %8s %7s\n",
			o->color ? cm_kind_colors[k] : "", cm_kind_chars[k],
			o->color ? CM_COLOR_RESET : "", cm_kind_names[k], counts[k],
			ctl_size(counts[k] * 4096, sz, sizeof(sz)), pct);
	}
	if (mixed_note)
		fprintf(c->out, "  S, F: a cell holding swap (or file) pages among other kinds\n");
}

/* One row of cells; colour changes are written only where the kind changes. */
static void cm_row(struct ctl *c, const struct cm_opts *o, const char *label, const char *chars,
		   const enum map_kind *kinds, size_t n)
{
	int cur = -1;

	fprintf(c->out, "%s[", label);
	for (size_t i = 0; i < n; i++) {
		if (o->color && (int)kinds[i] != cur) {
			cur = (int)kinds[i];
			fputs(CM_COLOR_RESET, c->out);
			fputs(cm_kind_colors[cur], c->out);
		}
		fputc(chars[i], c->out);
	}
	if (o->color)
		fputs(CM_COLOR_RESET, c->out);
	fputs("]\n", c->out);
}

/* Cells per row for a line of o->width columns with a label of labelw. */
static uint64_t cm_cells_per_row(const struct cm_opts *o, size_t labelw)
{
	uint64_t w = o->width > labelw + 2 ? o->width - labelw - 2 : 0;
	return w < 8 ? 8 : w;
}

/* ---- live mount: proportions ---- */

static int cm_online(struct ctl *c, const struct cm_opts *o, const char *path)
{
	char v[256], type[16], sz[16];
	struct arg_pages p;
	struct stat st;
	int rc;

	if ((rc = ctl_need_pagerfs(c, path)) != CTL_EXIT_OK)
		return rc;
	if (stat(path, &st) < 0)
		return ctl_fail(c, path, errno);
	if (S_ISDIR(st.st_mode))
		return ctl_failf(c, path, "is a directory (a memory control): it has no page map");
	if ((rc = mnt_getxattr(path, "pages", v, sizeof(v))) < 0)
		return ctl_fail(c, path, rc);
	if (arg_pages(v, &p) < 0)
		return ctl_failf(c, path, "cannot read user.pagerfs.pages '%s'", v);
	if (mnt_getxattr(path, "type", type, sizeof(type)) < 0)
		strcpy(type, "?");
	uint64_t counts[MAP_NKINDS] = { p.zero, p.file, p.swap };
	uint64_t total = p.zero + p.file + p.swap;
	fprintf(c->out, "%s: %s, %" PRIu64 " pages (%s)\n", path, type, total,
		ctl_size((uint64_t)st.st_size, sz, sizeof(sz)));
	fprintf(c->out, "page counts from the live mount: bands show proportions, not positions\n"
			"(for the runs where they lie: pagerctl map --store STORE PATH, daemon stopped)\n");
	if (total) {
		unsigned n = (unsigned)cm_cells_per_row(o, 0);
		enum map_kind *kinds = calloc(n, sizeof(*kinds));
		char *chars = calloc(n + 1, 1);
		if (!kinds || !chars) {
			free(kinds);
			free(chars);
			return ctl_fail(c, path, ENOMEM);
		}
		unsigned used = map_proportional(counts, n, kinds);
		for (unsigned i = 0; i < used; i++)
			chars[i] = cm_kind_chars[kinds[i]];
		cm_row(c, o, "", chars, kinds, used);
		free(kinds);
		free(chars);
	} else {
		fprintf(c->out, "(empty: no pages)\n");
	}
	cm_legend(c, o, counts, false);
	return CTL_EXIT_OK;
}

/* ---- stopped store: the committed map ---- */

struct cm_walk {
	struct map_cell *cells;
	const struct map_scale *sc;
	uint64_t counts[MAP_NKINDS];
};

static int cm_walk_piece(const struct pmap_extent *piece, void *arg)
{
	struct cm_walk *w = arg;
	/* Reserved pages are swap held for the object: drawn as swap. */
	enum map_kind k = piece->kind == PMAP_SWAP || piece->kind == PMAP_RSV ? MAP_SWAP
			: piece->kind == PMAP_FILE ? MAP_FILE : MAP_ZERO;

	map_cells_add(w->cells, w->sc, piece->first, piece->npages, k);
	w->counts[k] += piece->npages;
	return 0;
}

struct cm_runs {
	struct ctl *c;
	struct cat_swapfile files[64];
	unsigned nfiles;
	uint64_t n;
	int width;
};

static int cm_collect_file(const struct cat_swapfile *s, void *arg)
{
	struct cm_runs *r = arg;

	if (r->nfiles < sizeof(r->files) / sizeof(r->files[0]))
		r->files[r->nfiles++] = *s;
	return 0;
}

static int cm_print_run(const struct pmap_extent *piece, void *arg)
{
	struct cm_runs *r = arg;
	char where[320] = "-";

	if (piece->kind == PMAP_SWAP) {
		const char *name = "?";
		for (unsigned i = 0; i < r->nfiles; i++)
			if (piece->base >= r->files[i].first_frame &&
			    piece->base - r->files[i].first_frame < r->files[i].max_frames)
				name = r->files[i].name;
		if (piece->npages == 1)
			snprintf(where, sizeof(where), "frame %" PRIu64 " in %s", piece->base, name);
		else
			snprintf(where, sizeof(where), "frames %" PRIu64 "..%" PRIu64 " in %s", piece->base,
				 piece->base + piece->npages - 1, name);
	} else if (piece->kind == PMAP_RSV) {
		snprintf(where, sizeof(where), "reserved by fallocate, no frame yet");
	} else if (piece->kind == PMAP_FILE) {
		if (piece->npages == 1)
			snprintf(where, sizeof(where), "backing page %" PRIu64, piece->base);
		else
			snprintf(where, sizeof(where), "backing pages %" PRIu64 "..%" PRIu64, piece->base,
				 piece->base + piece->npages - 1);
	}
	fprintf(r->c->out, "%6" PRIu64 "  %*" PRIu64 "  %*" PRIu64 "  %*" PRIu64 "  %-4s  %s\n", r->n++,
		r->width, piece->first, r->width, piece->first + piece->npages - 1, r->width,
		piece->npages, piece->kind == PMAP_SWAP ? "swap" : piece->kind == PMAP_FILE ? "file" :
			       piece->kind == PMAP_RSV ? "rsv" : "zero",
		where);
	return 0;
}

/* Resolve a path inside the store from the root, as the daemon's lookups would. */
static int cm_resolve(struct cat_txn *txn, const char *inpath, uint64_t *id)
{
	char buf[PATH_MAX], *save = NULL;
	uint64_t cur = CAT_ROOT_ID;
	int rc;

	if (strlen(inpath) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, inpath);
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			struct cat_object *o = malloc(sizeof(*o));
			if (!o)
				return -ENOMEM;
			rc = cat_object_get(txn, cur, o);
			if (rc == 0 && cur != CAT_ROOT_ID)
				cur = o->parent;
			free(o);
			if (rc < 0)
				return rc;
			continue;
		}
		if ((rc = cat_name_get(txn, cur, comp, &cur)) < 0)
			return rc;
	}
	*id = cur;
	return 0;
}

static int cm_offline(struct ctl *c, const struct cm_opts *o, const char *inpath)
{
	struct cat *cat;
	struct cat_txn *txn;
	struct cat_object *obj = malloc(sizeof(*obj));
	struct map_cell *cells = NULL;
	char what[PATH_MAX + 8], sz[16];
	uint64_t id;
	int rc, status = CTL_EXIT_OK;

	snprintf(what, sizeof(what), "%s:%s%s", o->store, inpath[0] == '/' ? "" : "/", inpath);
	if (!obj)
		return ctl_fail(c, what, ENOMEM);
	if ((status = ctl_open_catalogue(c, o->store, true, &cat)) != CTL_EXIT_OK) {
		free(obj);
		return status;
	}
	if ((rc = cat_read_begin(cat, &txn)) < 0) {
		status = ctl_fail(c, o->store, rc);
		goto out_cat;
	}
	if ((rc = cm_resolve(txn, inpath, &id)) < 0 || (rc = cat_object_get(txn, id, obj)) < 0) {
		status = rc == -EINVAL ? ctl_failf(c, what, "damaged catalogue record (run pagerctl fsck)")
				       : ctl_fail(c, what, rc);
		goto out_txn;
	}
	if (obj->kind != CAT_KIND_FILE) {
		status = ctl_failf(c, what, "is a directory (a memory control): it has no page map");
		goto out_txn;
	}
	uint64_t npages = pfs_bytes_to_pages(obj->size_bytes);
	char label0[32];
	int labelw = snprintf(label0, sizeof(label0), "%" PRIu64, npages ? npages - 1 : 0);
	uint64_t per_row = cm_cells_per_row(o, (size_t)labelw + 1);
	struct map_scale sc;
	map_scale_fit(npages, per_row * o->rows, &sc);
	/* Rows are whole: fewer, fuller rows when the object is small. */
	if (sc.ncells && (cells = calloc(sc.ncells, sizeof(*cells))) == NULL) {
		status = ctl_fail(c, what, ENOMEM);
		goto out_txn;
	}
	struct cm_walk w = { cells, &sc, { 0 } };
	if (npages && (rc = pmap_foreach(txn, id, 0, npages, false, cm_walk_piece, &w)) < 0) {
		status = rc == -EINVAL ? ctl_failf(c, what, "damaged page map (run pagerctl fsck)")
				       : ctl_fail(c, what, rc);
		goto out_txn;
	}
	static const char *const types[] = { "heap", "code", "stack", "shared" };
	fprintf(c->out, "%s: object %" PRIu64 ", %s, %" PRIu64 " pages (%s)\n", what, id,
		obj->segtype < 4 ? types[obj->segtype] : "?", npages,
		ctl_size(obj->size_bytes, sz, sizeof(sz)));
	fprintf(c->out, "committed page map from the store; %" PRIu64 " page%s per cell\n",
		sc.pages_per_cell, sc.pages_per_cell == 1 ? "" : "s");
	bool any_mixed = false;
	if (sc.ncells) {
		char *chars = malloc(per_row + 1);
		enum map_kind *kinds = malloc((per_row + 1) * sizeof(*kinds));
		if (!chars || !kinds) {
			free(chars);
			free(kinds);
			status = ctl_fail(c, what, ENOMEM);
			goto out_txn;
		}
		for (uint64_t r0 = 0; r0 < sc.ncells; r0 += per_row) {
			uint64_t n = PFS_MIN(per_row, sc.ncells - r0);
			char label[40];
			for (uint64_t i = 0; i < n; i++) {
				chars[i] = map_cell_char(&cells[r0 + i]);
				kinds[i] = map_cell_kind(&cells[r0 + i]);
				any_mixed |= map_cell_mixed(&cells[r0 + i]);
			}
			snprintf(label, sizeof(label), "%*" PRIu64 " ", labelw, r0 * sc.pages_per_cell);
			cm_row(c, o, label, chars, kinds, (size_t)n);
		}
		free(chars);
		free(kinds);
	} else {
		fprintf(c->out, "(empty: no pages)\n");
	}
	cm_legend(c, o, w.counts, any_mixed);
	if (o->verbose && npages) {
		struct cm_runs r = { .c = c, .width = labelw < 5 ? 5 : labelw };
		cat_swapfile_foreach(txn, cm_collect_file, &r);
		fprintf(c->out, "\n%6s  %*s  %*s  %*s  %-4s  %s\n", "RUN", r.width, "FIRST", r.width,
			"LAST", r.width, "PAGES", "KIND", "WHERE");
		if ((rc = pmap_foreach(txn, id, 0, npages, false, cm_print_run, &r)) < 0)
			status = ctl_fail(c, what, rc);
	}
out_txn:
	cat_read_end(txn);
out_cat:
	cat_close(cat);
	free(cells);
	free(obj);
	return status;
}

int cmd_map(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "width", required_argument, NULL, 'w' },
		{ "rows", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 'S' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct cm_opts o = { .width = c->out_cols, .rows = 1, .color = c->color };
	bool have_rows = false;
	uint64_t v;
	int opt;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "w:r:S:v", opts)) != -1) {
		switch (opt) {
		case 'w':
			if (arg_u64(optarg, 12, 100000, &v) < 0)
				return ctl_usage(c, "invalid width '%s' (12 to 100000 columns)", optarg);
			o.width = (unsigned)v;
			break;
		case 'r':
			if (arg_u64(optarg, 1, 10000, &v) < 0)
				return ctl_usage(c, "invalid row count '%s' (1 to 10000)", optarg);
			o.rows = (unsigned)v;
			have_rows = true;
			break;
		case 'S':
			o.store = optarg;
			break;
		case 'C':
			if (strcmp(optarg, "always") == 0)
				o.color = true;
			else if (strcmp(optarg, "never") == 0)
				o.color = false;
			else if (strcmp(optarg, "auto") == 0)
				o.color = c->color;
			else
				return ctl_usage(c, "invalid --color '%s' (auto, always or never)", optarg);
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctl_operands_ok(c, argc, 1, 1, "PATH"))
		return CTL_EXIT_USAGE;
	if (!o.store && (have_rows || o.verbose))
		return ctl_usage(c, "--rows and --verbose need --store (a live mount shows counts only)");
	return o.store ? cm_offline(c, &o, argv[optind]) : cm_online(c, &o, argv[optind]);
}
