/*
 * fsck_repair.c: `pagerctl fsck [--repair] STORE`: run the check, and with
 * --repair carry out its plan (fsck.h) and check again.
 *
 * A repair has two steps. First, with the catalogue opened read-write (the
 * store's lock held exclusively from the check to the end, so nothing can
 * change between them), one write transaction drops what the plan lists:
 * dangling extents and names, damaged unreachable records, wrong reference
 * counts, bad free-map entries, directory-less controls; and it returns
 * leaked frames to the free map. Second, only if there are objects that
 * have no name, the store is opened with store_open and each is destroyed
 * with store_destroy, the same path the daemon uses to delete an object, so
 * its frames, counts and charges go exactly as they would have; store_check
 * then cross-checks the result with the allocators rebuilt in memory.
 * Nothing is ever dropped that a name could still reach.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck.h"
#include "pagemap.h"
#include "store.h"

#define FK_REPORT_MAX 20

static int fk_apply_txn(struct cat_txn *txn, void *arg)
{
	struct fsck *fk = arg;
	struct pmap_cat pc;
	struct extent_map fm = pmap_cat_map(&pc, txn, CAT_T_FREE, 0);
	int rc;

	for (size_t i = 0; i < fk->ndropkeys; i++) {
		rc = cat_del(txn, fk->dropkeys[i].table, fk->dropkeys[i].bytes, fk->dropkeys[i].len);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	for (size_t i = 0; i < fk->nrefsets; i++)
		if ((rc = pmap_ref_set(txn, fk->refsets[i].frame, 1, fk->refsets[i].count)) < 0)
			return rc;
	for (size_t i = 0; i < fk->nunfree; i++) {
		struct pmap_extent e = { fk->unfree[i].first, fk->unfree[i].n, PMAP_ZERO, 0, NULL };
		if ((rc = extent_set(&fm, &e, NULL, NULL)) < 0)
			return rc;
	}
	for (size_t i = 0; i < fk->nleaked; i++) {
		struct pmap_extent e = { fk->leaked[i].first, fk->leaked[i].n, PMAP_FREE, 0, NULL };
		if ((rc = extent_set(&fm, &e, NULL, NULL)) < 0)
			return rc;
	}
	for (size_t i = 0; i < fk->ndeadmcs; i++)
		if ((rc = cat_memctl_del(txn, fk->deadmcs[i])) < 0 && rc != -ENOENT)
			return rc;
	return 0;
}

/* Say what the transaction did, a line per change up to FK_REPORT_MAX of each kind. */
static void fk_report_repairs(struct fsck *fk)
{
	uint64_t ext = 0, names = 0, other = 0, freed = 0, unfreed = 0, n = 0;

	for (size_t i = 0; i < fk->ndropkeys; i++) {
		const struct fk_key *k = &fk->dropkeys[i];
		if (k->table == CAT_T_EXTENTS && k->len == 16) {
			if (ext++ < FK_REPORT_MAX || fk->verbose)
				fk_note(fk, true, "repaired: dropped the extent record of object %" PRIu64
					" at page %" PRIu64 " (the object has no record)",
					fk_be64(k->bytes), fk_be64(k->bytes + 8));
		} else if (k->table == CAT_T_NAMES && k->len > 8) {
			if (names++ < FK_REPORT_MAX || fk->verbose)
				fk_note(fk, true, "repaired: dropped the name '%.*s' in directory %" PRIu64
					" (it pointed at no object)", (int)(k->len - 8), (const char *)k->bytes + 8,
					fk_be64(k->bytes));
		} else {
			other++;
		}
	}
	if (ext > FK_REPORT_MAX && !fk->verbose)
		fk_note(fk, true, "repaired: ... %" PRIu64 " dangling extent records dropped in all", ext);
	if (other)
		fk_note(fk, true, "repaired: dropped %" PRIu64 " damaged record%s that nothing can reach",
			other, other == 1 ? "" : "s");
	for (size_t i = 0; i < fk->nrefsets; i++)
		if (n++ < FK_REPORT_MAX || fk->verbose) {
			if (fk->refsets[i].count <= 1)
				fk_note(fk, true, "repaired: dropped the reference-count record of frame %" PRIu64
					" (%s)", fk->refsets[i].frame,
					fk->refsets[i].count ? "one page uses it" : "no page uses it");
			else
				fk_note(fk, true, "repaired: reference count of frame %" PRIu64 " set to %" PRIu64
					" (the pages that use it)", fk->refsets[i].frame, fk->refsets[i].count);
		}
	if (n > FK_REPORT_MAX && !fk->verbose)
		fk_note(fk, true, "repaired: ... %" PRIu64 " reference counts rewritten in all", n);
	for (size_t i = 0; i < fk->nunfree; i++)
		unfreed += fk->unfree[i].n;
	for (size_t i = 0; i < fk->nleaked; i++)
		freed += fk->leaked[i].n;
	if (unfreed)
		fk_note(fk, true, "repaired: removed %" PRIu64 " frame%s from the free map (in use, or "
			"outside every swap file)", unfreed, unfreed == 1 ? "" : "s");
	if (freed)
		fk_note(fk, true, "repaired: returned %" PRIu64 " frame%s that no page map uses to the "
			"free map", freed, freed == 1 ? "" : "s");
	for (size_t i = 0; i < fk->ndeadmcs; i++)
		fk_note(fk, true, "repaired: removed memory control %" PRIu64 " (no directory, nothing "
			"charged)", fk->deadmcs[i]);
}

int fk_repair(struct fsck *fk)
{
	int rc;

	if (!fk->ndropkeys && !fk->nrefsets && !fk->nunfree && !fk->nleaked && !fk->ndeadmcs)
		return 0;
	if ((rc = cat_write(fk->cat, fk_apply_txn, fk)) < 0)
		return rc;
	fk_report_repairs(fk);
	return 0;
}

static int fk_del_object_txn(struct cat_txn *txn, void *arg)
{
	int rc = cat_object_del(txn, *(uint64_t *)arg);
	return rc == -ENOENT ? 0 : rc;
}

/* Step two: destroy the unnamed objects through the store, then cross-check. */
static int fk_store_step(struct fsck *fk)
{
	struct store *s;
	char why[256];
	int rc;

	if ((rc = store_open(fk->store, NULL, &s)) < 0) {
		fk_problem(fk, false, "cannot open the store to finish the repair: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < fk->norphans; i++) {
		struct fk_obj *o = fk_find_obj(fk, fk->orphans[i]);
		uint64_t id = fk->orphans[i];
		if (!o)
			continue;
		if ((rc = store_destroy(s, id, o->memctl, fk_del_object_txn, &id)) < 0) {
			fk_problem(fk, false, "object %" PRIu64 ": cannot destroy it: %s", id, strerror(-rc));
			continue;
		}
		fk_note(fk, true, "repaired: destroyed object %" PRIu64 " ('%s', no name): its %" PRIu64
			" swap pages are released", id, o->name, o->swap_pages);
	}
	if ((rc = store_check(s, why, sizeof(why))) < 0)
		fk_problem(fk, false, "the core library's store_check disagrees: %s",
			   why[0] ? why : strerror(-rc));
	else
		fk_note(fk, false, "store_check: the store opens and its allocators agree with it");
	int crc = store_close(s);
	return rc < 0 ? rc : crc;
}

struct fk_result {
	uint64_t problems, repairable, unrepaired;
	bool repaired;
};

static void fk_summary(struct fsck *fk)
{
	size_t dirs = 0;

	for (size_t i = 0; i < fk->nobjs; i++)
		dirs += fk->objs[i].kind == CAT_KIND_DIR;
#define FK_S(n) ((n) == 1 ? "" : "s")
	fk_note(fk, true, "%zu object%s, %zu director%s, %" PRIu64 " name%s, %zu memory control%s, %"
		PRIu64 " extent record%s, %" PRIu64 " swap page%s (%" PRIu64 " checksum%s verified), "
		"%u swap file%s", fk->nobjs - dirs, FK_S(fk->nobjs - dirs), dirs, dirs == 1 ? "y" : "ies",
		fk->n_names, FK_S(fk->n_names), fk->nmcs, FK_S(fk->nmcs), fk->n_extents,
		FK_S(fk->n_extents), fk->n_swap_pages, FK_S(fk->n_swap_pages), fk->n_verified,
		FK_S(fk->n_verified), fk->nfiles, FK_S(fk->nfiles));
#undef FK_S
}

/* One check (and repair); -1 when the store could not even be read (reported). */
static int fk_run(struct ctl *c, const char *store, bool repair, bool verbose, struct fk_result *res)
{
	struct fsck fk = { .c = c, .store = store, .verbose = verbose, .repair_mode = repair,
			   .checksums = true, .progress = c->err_tty };
	int rc;

	memset(res, 0, sizeof(*res));
	if (ctl_open_catalogue(c, store, !repair, &fk.cat) != CTL_EXIT_OK)
		return -1;
	if ((rc = cat_read_begin(fk.cat, &fk.txn)) == 0) {
		rc = fk_check(&fk);
		cat_read_end(fk.txn);
	}
	if (rc < 0) {
		fk_progress_clear(&fk);
		ctl_failf(c, store, "the check could not finish: %s", strerror(-rc));
		cat_close(fk.cat);
		fk_free(&fk);
		return -1;
	}
	fk_summary(&fk);
	res->problems = fk.problems;
	res->repairable = fk.repairable;
	if (repair && fk.repairable) {
		/* The read transaction is over: cat_write may grow the map. */
		if ((rc = fk_repair(&fk)) < 0)
			fk_problem(&fk, false, "the repair failed, nothing was changed: %s", strerror(-rc));
		cat_close(fk.cat);
		fk.cat = NULL;
		if (rc == 0 && (fk.norphans || fk.problems == fk.repairable))
			fk_store_step(&fk);
		res->repaired = true;
	} else {
		cat_close(fk.cat);
	}
	if (fk.problems && !res->repaired)
		fk_note(&fk, true, "%" PRIu64 " problem%s, %" PRIu64 " of them repairable%s", fk.problems,
			fk.problems == 1 ? "" : "s", fk.repairable,
			fk.repairable ? " (pagerctl fsck --repair, with the daemon stopped)" : "");
	fk_free(&fk);
	return 0;
}

int cmd_fsck(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct fk_result res, again;
	bool repair = false, verbose = false;
	int opt;

	optind = 0;
	while ((opt = ctl_getopt(c, argc, argv, "rv", opts)) != -1) {
		switch (opt) {
		case 'r':
			repair = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return ctl_help(c);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctl_operands_ok(c, argc, 1, 1, "STORE"))
		return CTL_EXIT_USAGE;
	const char *store = argv[optind];
	if (fk_run(c, store, repair, verbose, &res) < 0)
		return CTL_EXIT_FAIL;
	if (!res.problems) {
		fprintf(c->out, "%s: clean\n", store);
		return CTL_EXIT_OK;
	}
	if (!res.repaired)
		return CTL_EXIT_FAIL;
	fprintf(c->out, "%s: checking again after the repair\n", store);
	if (fk_run(c, store, false, verbose, &again) < 0)
		return CTL_EXIT_FAIL;
	if (again.problems) {
		fprintf(c->out, "%s: %" PRIu64 " problem%s remain%s\n", store, again.problems,
			again.problems == 1 ? "" : "s", again.problems == 1 ? "s" : "");
		return CTL_EXIT_FAIL;
	}
	fprintf(c->out, "%s: clean after the repair\n", store);
	return CTL_EXIT_OK;
}
