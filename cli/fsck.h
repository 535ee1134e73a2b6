/*
 * fsck.h: what `pagerctl fsck`'s check (fsck_check.c) and repair
 * (fsck_repair.c) share: a model of a stopped store rebuilt from its
 * catalogue, the problems found in it, and the repair plan.
 *
 * The check reads the catalogue through one read transaction and the swap
 * files with pread; it never writes. While it checks it notes what a repair
 * may safely do: only what is provably unreachable is ever dropped (extents
 * and names of objects that have no record, objects that have no name,
 * reference counts of frames the page maps do not share, free-map entries of
 * frames that are in use or outside every swap file, controls with no
 * directory and nothing charged), and frames no page map references are
 * returned to the free map.
 */
#ifndef PAGERCTL_FSCK_H
#define PAGERCTL_FSCK_H

#include "catalogue.h"
#include "pagerctl.h"
#include "swap/swap.h"

struct fk_obj {
	uint64_t id, parent, memctl, size_bytes;
	uint8_t kind, segtype;
	uint32_t flags;
	char *name;
	bool named;          /* a name record points at it */
	bool record_named;   /* ...and one is the name its record keeps */
	uint32_t names;      /* how many name records point at it */
	uint32_t extra_links; /* its record's count of names beyond the first */
	bool bad_extents;    /* some extent record of it could not be decoded */
	uint64_t swap_pages; /* SWAP pages in its committed map */
};

/* One page of a committed map pointing at a frame. */
struct fk_ref {
	uint64_t frame, obj, page;
	bool known; /* obj has a record (else the extent is dangling) */
};

/* A SWAP extent whose checksums the last pass verifies. */
struct fk_swapext {
	uint64_t obj, first, npages, frame;
};

struct fk_run {
	uint64_t first, n;
};

struct fk_file {
	struct cat_swapfile d;
	uint64_t recorded; /* frames the catalogue says the file holds */
	uint64_t on_disk;  /* frames its length covers */
	int fd;            /* -1 if it cannot be opened */
};

/* A raw catalogue key to delete (dangling names, damaged records). */
struct fk_key {
	enum cat_table table;
	size_t len;
	uint8_t bytes[8 + CAT_NAME_MAX];
};

struct fk_refset {
	uint64_t frame, count; /* count <= 1: delete the record */
};

#define FK_VEC(type, name) \
	type *name;        \
	size_t n##name, cap##name

struct fsck {
	struct ctl *c;
	const char *store;
	struct cat *cat;
	struct cat_txn *txn;
	bool verbose, repair_mode, checksums;

	/* the model, each array sorted by its first field once loaded */
	FK_VEC(struct fk_obj, objs);
	FK_VEC(struct cat_memctl, mcs);
	FK_VEC(struct fk_ref, refs);
	FK_VEC(struct fk_swapext, sx);
	FK_VEC(struct fk_run, free);
	FK_VEC(uint64_t, owners); /* every owner in the extent table */
	struct fk_file files[SWAP_MAX_FILES];
	unsigned nfiles;
	bool files_ok;      /* the swap-file table could be read */
	uint64_t next_id;

	/* the repair plan */
	FK_VEC(struct fk_key, dropkeys);   /* dangling extents and names, damaged records */
	FK_VEC(struct fk_refset, refsets); /* reference counts to rewrite */
	FK_VEC(struct fk_run, unfree);     /* free-map entries to drop */
	FK_VEC(struct fk_run, leaked);     /* frames to return to the free map */
	FK_VEC(uint64_t, orphans);         /* unnamed objects to destroy */
	FK_VEC(uint64_t, deadmcs);         /* controls without a directory, nothing charged */
	bool leaks_unprovable; /* an unreadable map of a live object: keep every frame */

	/* results */
	uint64_t problems, repairable;
	uint64_t n_extents, n_swap_pages, n_verified, n_names, n_past_end;

	/* progress bar (stderr on a terminal) */
	bool progress, bar_shown;
	int last_permille;
	int64_t bar_ms; /* monotonic time of the last redraw */
	const char *phase;
};

/* Grow a vector to hold one more element; 0 or -ENOMEM. */
int fk_reserve(void **v, size_t *cap, size_t n, size_t elem);
#define FK_PUSH(fk, name, val)                                                            \
	(fk_reserve((void **)&(fk)->name, &(fk)->cap##name, (fk)->n##name,              \
		    sizeof(*(fk)->name)) < 0                                              \
		 ? -ENOMEM                                                                \
		 : ((fk)->name[(fk)->n##name++] = (val), 0))

/* Problems of one kind beyond this many are counted but not listed (unless -v). */
#define FK_LIST_MAX 20

/* A listed problem, or only a counted one past FK_LIST_MAX of its kind. */
#define FK_LISTED(fk, counter, rep_, ...)                            \
	do {                                                          \
		if ((counter)++ < FK_LIST_MAX || (fk)->verbose) {     \
			fk_problem(fk, rep_, __VA_ARGS__);            \
		} else {                                              \
			(fk)->problems++;                             \
			(fk)->repairable += (rep_);                   \
		}                                                     \
	} while (0)

/* "... and N more WHAT" after a list FK_LISTED cut short. */
void fk_more(struct fsck *fk, uint64_t counter, const char *what);

static inline uint64_t fk_be64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Plan to delete a raw catalogue key (dangling or damaged, unreachable). */
int fk_push_key(struct fsck *fk, enum cat_table t, const void *k, size_t klen);
struct cat_memctl *fk_find_mc(struct fsck *fk, uint64_t id);
/* The file holding frames [frame, frame + n) within its recorded length, or NULL. */
struct fk_file *fk_file_of(struct fsck *fk, uint64_t frame, uint64_t n);

/* fsck_frames.c: reference counts (after the page maps), then the free map and leaks. */
int fk_check_refs(struct fsck *fk);
int fk_check_frames(struct fsck *fk);

/* Run every check over fk->txn; returns 0 or a negative errno (not a problem count). */
int fk_check(struct fsck *fk);
/* fsck_swap.c: the swap-file table (first), every SWAP page's checksum (last). */
int fk_load_files(struct fsck *fk);
int fk_verify_checksums(struct fsck *fk);
/* Free the model and plan (not cat/txn). */
void fk_free(struct fsck *fk);

/* A problem: "STORE: message", counted (and marked when a repair will handle it). */
void fk_problem(struct fsck *fk, bool repairable, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An informational line (verbose only) or a repair report (always). */
void fk_note(struct fsck *fk, bool always, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "object 12 (/a/b)", "object 12 (unnamed)" or "object 12 (no record)" into buf. */
const char *fk_obj_desc(struct fsck *fk, uint64_t id, char *buf, size_t cap);
struct fk_obj *fk_find_obj(struct fsck *fk, uint64_t id);

void fk_progress(struct fsck *fk, const char *phase, uint64_t done, uint64_t total);
void fk_progress_clear(struct fsck *fk);

/* Apply the plan (fsck_repair.c); prints what it did. 0 or a negative errno. */
int fk_repair(struct fsck *fk);

#endif /* PAGERCTL_FSCK_H */
