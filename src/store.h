/*
 * store.h: a pagerfs store: catalogue + physmem + swap, with redirect-on-write
 * page-outs and group commit. The layer the daemon's object code stands on.
 *
 * A page-out never overwrites a frame a committed page map points to: it
 * writes fresh frames and records them as pending extents in the object's
 * in-memory overlay, which page-ins consult before the catalogue. A commit
 * makes all pending state durable in this order: fdatasync the swap files,
 * then one LMDB write transaction applying every pending extent together with
 * the frame reference counts, the free-frame map and memory-control charges
 * it implies. Frames a commit frees become reusable only after it. So after a
 * crash the store reopens exactly as of the last completed commit.
 *
 * Stages of a page's new contents (asserted in store.c and commit.c):
 *   paging out  frames allocated and charged, write in flight (object locked)
 *   pending     in the object's `pending` overlay; frames used in memory but
 *               free in the catalogue
 *   committing  moved to `committing` by a commit that has started; still
 *               served from there until the LMDB transaction is durable
 *   committed   in the catalogue; the overlay entry is gone
 *
 * Every function returns 0 (or a count) or a negative errno.
 */
#ifndef PAGERFS_STORE_H
#define PAGERFS_STORE_H

#include <sys/types.h>
#include "base.h"
#include "catalogue.h"
#include "filepager/pager.h"

struct store;
struct store_io;
struct pfs_faults;

#define STORE_PREFETCH_MAX_BYTES ((uint64_t)64 << 20)

struct store_options {
	uint64_t swap_max_bytes;    /* cap on the swap store; 0: the file system's free space */
	uint64_t swap_chunk_bytes;  /* swap file growth step; 0: 64 MiB */
	uint64_t pending_max_bytes; /* commit once this much is pending; 0: 64 MiB */
	uint64_t cat_map_bytes;     /* initial LMDB map size; 0: the catalogue's default */
	uint64_t prefetch_bytes;    /* read this far ahead of sequential page-ins; 0: never;
				     * at most STORE_PREFETCH_MAX_BYTES */
	struct pfs_faults *faults;  /* test-only fault injection; NULL in production */
};

/*
 * Open (creating if absent) the store in dir: dir/catalogue/ (LMDB) and
 * dir/swap.N. -EBUSY if another process has it open; -EUCLEAN if the swap
 * files and the catalogue disagree (a swap file shorter than recorded).
 */
int store_open(const char *dir, const struct store_options *opt, struct store **out);
/* Commit everything pending and close; returns the final commit's result. */
int store_close(struct store *s);

struct cat *store_cat(struct store *s);

/* Per-thread I/O context (an io_uring ring and scratch); never shared. */
int store_io_open(struct store *s, struct store_io **out);
void store_io_close(struct store_io *io);
/*
 * The io's page-aligned arena of STORE_IO_MAX_PAGES pages (registered with
 * io_uring). Page-ins into it and page-outs from it skip a copy; a page-in
 * elsewhere still passes through it, so never page in into a buffer that
 * holds data still to be paged out from it.
 */
void *store_io_buf(struct store_io *io);
/*
 * 0 while io works; else the error that broke its ring for good (io_uring
 * itself failed), after which every call on io fails: close it, open another.
 */
int store_io_error(const struct store_io *io);
/* The io's ring, for a file pager (struct filepager) reading a backing file through it. */
struct swap_ring *store_io_ring(struct store_io *io);

/* Most pages one page-in or page-out call moves (1 MiB, FUSE's largest request). */
#define STORE_IO_MAX_PAGES 256

/*
 * Page out npages pages of data (page-aligned not required, but then it is
 * written without a copy) to object obj at
 * page first, charging memory control memctl for every page that did not
 * already have swap contents. -ENOSPC when the control's quota or the swap
 * store cannot take them (nothing changed then); -EIO on a write error.
 */
int store_page_out(struct store_io *io, uint64_t obj, uint64_t memctl, uint64_t first,
		   uint32_t npages, const void *data);

/*
 * Page in npages pages of obj from page first into buf, each run from the
 * pager of its kind (pager.h): zero fill, the swap pager (every page verified
 * against its checksum: a mismatch is -EIO, logged with object, page and
 * frame) or, for FILE runs, `file`, the object's file or write-back pager
 * (-EIO when NULL).
 */
int store_page_in(struct store_io *io, uint64_t obj, uint64_t first, uint32_t npages, void *buf,
		  const struct pager *file);

/*
 * The swap pager's state for one object (pager.h, store_swap_pager_ops):
 * page-outs of obj through io go to fresh frames charged to memctl, and the
 * rest of a partial page is read through the page path (`file` is obj's
 * backing pager, or NULL). Its page-ins are store_page_in's own (`in`).
 */
struct store_swapin;
struct swap_pager {
	struct store_io *io;
	uint64_t obj, memctl;
	const struct pager *file;
	struct store_swapin *in; /* page-ins queued for finish; NULL outside store_page_in */
};
extern const struct pager_ops store_swap_pager_ops;

/*
 * Replace [first, first + npages) of obj's map with ZERO or FILE contents
 * (release, truncate), pending like a page-out: swap pages there are
 * uncharged now and their frames freed by the next commit.
 */
int store_set_range(struct store *s, uint64_t obj, uint64_t memctl, uint64_t first,
		    uint64_t npages, int kind, uint64_t base);

/*
 * Make everything paged out before the call durable. Concurrent callers share
 * one commit (group commit). On failure nothing is lost: the pending state
 * stays pending and the next commit tries again.
 */
int store_commit(struct store *s);

/*
 * Reserve swap for [first, first + npages) of obj (fallocate mode 0, QNX's
 * non-lazy backing): its zero pages become reserved pages, charged to
 * memctl now, so their later page-outs cannot fail for want of quota or
 * frames. Pages with contents (file or swap) are left as they are. -ENOSPC
 * (nothing changed) when the control cannot take them.
 */
int store_reserve(struct store *s, uint64_t obj, uint64_t memctl, uint64_t first, uint64_t npages);

/* The contents kind (PMAP_ZERO, PMAP_FILE, PMAP_SWAP) of one page of obj, all layers considered. */
int store_page_kind(struct store *s, uint64_t obj, uint64_t page, int *kind);

/*
 * Page counts by kind of [0, npages) of obj as a page-in would see them (all
 * layers); swap counts reserved pages too (swap is held for them).
 */
int store_count_pages(struct store *s, uint64_t obj, uint64_t npages, uint64_t *zero,
		      uint64_t *file, uint64_t *swap);

/*
 * A function every commit runs at the end of its LMDB transaction, to write
 * metadata kept in memory (object sizes, times) atomically with the pages.
 * Like every cat_write function it may run more than once per commit.
 */
void store_set_commit_hook(struct store *s, int (*fn)(struct cat_txn *txn, void *arg),
			   void (*done)(void *arg, int rc), void *arg);

/*
 * Destroy obj's pages atomically with fn's catalogue changes (the object's
 * record and name): one transaction drops its page map, dereferences and
 * frees its frames, moves its charges; pending pages are discarded.
 */
int store_destroy(struct store *s, uint64_t obj, uint64_t memctl, cat_write_fn fn, void *arg);

/*
 * Add a swap file (dir/name) holding up to max_bytes, used before files of
 * lower priority (swapon -p). It gets the next free range of frame numbers
 * and grows as needed; it is recorded in the catalogue. -EEXIST for a name
 * already used, -ENOSPC when no more files fit.
 */
int store_add_swapfile(struct store *s, const char *name, int32_t priority, uint64_t max_bytes);

/*
 * Freed runs of at least this many frames wait in a queue, and
 * store_discard_freed hole-punches the parts of them still free. The
 * daemon calls it when the store has been idle for a commit interval and
 * at close, not at every commit: a rewrite reuses freed frames first, and
 * writing over allocated blocks is about twice as fast as filling holes
 * (the file system allocates and converts them), while frequent commits
 * during one big msync would punch frames it was about to reuse.
 */
#define STORE_DISCARD_MIN_FRAMES 64
void store_discard_freed(struct store *s);

/* ---- container operations (Hurd-L4 physmem, SPIN copyOnWrite) ---- */

/*
 * Clone [src_first, src_first + npages) of src onto dst at dst_first,
 * sharing swap frames copy-on-write (a later page-out to either side writes
 * fresh frames and leaves the other intact); file and zero runs are copied
 * as runs. Durable when it returns (it commits both objects first). Cost is
 * proportional to the extents, not the pages. dst's control is charged for
 * the swap pages it gains (-ENOSPC, nothing changed). -EINVAL for a range
 * that overlaps itself (src == dst) or runs past 2^64.
 */
int store_clone(struct store *s, uint64_t src, uint64_t dst, uint64_t dst_memctl,
		uint64_t src_first, uint64_t dst_first, uint64_t npages);

/* Page in the pages listed (any order, repeats allowed) into buf, page after page. */
int store_gather(struct store_io *io, uint64_t obj, const uint64_t *pages, size_t n, void *buf,
		 const struct pager *file);
/* Page out data, page after page, to the pages listed (distinct). */
int store_scatter(struct store_io *io, uint64_t obj, uint64_t memctl, const uint64_t *pages,
		  size_t n, const void *data);

/* ---- memory controls (physmem), persisted as they change ---- */

struct store_memctl_info {
	bool has_quota;
	uint64_t guarantee_frames, usage_frames, available_frames;
};
int store_memctl_add(struct store *s, uint64_t parent, uint64_t id);
/* frames == 0 with clear: back to sharing. -ENOSPC if the parent cannot spare them. */
int store_memctl_quota(struct store *s, uint64_t id, bool clear, uint64_t frames);
/* Remove a control with nothing charged (its guarantee returns to the parent). */
int store_memctl_remove(struct store *s, uint64_t id);
int store_memctl_info(struct store *s, uint64_t id, struct store_memctl_info *out);

/* Check physmem's invariants over the committed state (store.c comment). */
int store_check(struct store *s, char *why, size_t why_len);

struct store_stats {
	uint64_t commits, commit_failures, page_ins, page_outs, pages_in, pages_out;
	uint64_t pending_pages;           /* paged out, not yet committed */
	uint64_t swap_frames, free_frames; /* grown swap space, and free within it */
	uint64_t capacity_frames;          /* swap_max, or what the file system can hold */
	uint64_t discarded_frames;         /* hole-punched after being freed */
	uint64_t discard_waiting_frames;   /* freed, to be punched by store_discard_freed */
	uint64_t reserved_pages;           /* reserved by fallocate, not yet paged out */
	uint64_t prefetched_pages;         /* read ahead of sequential page-ins and verified */
	uint64_t prefetch_used_pages;      /* of those, served to page-ins */
	unsigned swap_files;
	uint64_t csum_errors, io_errors;
	int64_t last_commit_ns;
};
void store_get_stats(struct store *s, struct store_stats *out);

#endif /* PAGERFS_STORE_H */
