/*
 * swap.h: the swap store's I/O layer: swap files addressed by frame number,
 * page I/O through io_uring, and a checksum for every frame.
 *
 * This layer moves pages between memory and the swap files and checks them; it
 * never decides which frames are free (physmem's allocator does), never keeps a
 * page map, and never hands back bytes whose checksum did not match. A frame
 * number maps to exactly one file and one byte offset, fixed for the life of
 * the store. Every function returns 0 (or a non-negative count) or a negative
 * errno, and none of them reads or sets errno for its caller.
 *
 * Threads: a store may be shared by any number of threads; each thread opens
 * its own ring (struct swap_ring), which it never shares. swap_grow and
 * swap_add_file serialise on the store's lock; statistics are atomics. Every
 * ring must be closed before its store.
 *
 * Durability: a write is durable only after a later swap_sync returned 0. If
 * swap_sync fails, treat everything written since the last successful sync as
 * lost and write it again: Linux reports a write-back error to fsync only once,
 * so the next sync can succeed although those pages never reached the disk.
 */
#ifndef PAGERFS_SWAP_H
#define PAGERFS_SWAP_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdbool.h>
#include "base.h"
#include "faults.h"

/* Most files one store can hold (Linux itself allows 32 swap areas). */
#define SWAP_MAX_FILES 64

/* Default growth step of a swap file. */
#define SWAP_DEFAULT_CHUNK_BYTES ((uint64_t)64 << 20)

/* Submission-queue depth of a ring opened by swap_ring_open. */
#define SWAP_DEFAULT_RING_DEPTH 64

struct swap_store;   /* the set of swap files of one store */
struct swap_ring;    /* one io_uring instance; one per thread, never shared */

struct swap_file_desc {
	uint32_t index;        /* stable id of the file */
	int32_t priority;      /* higher first, like swapon -p (the allocator uses it, not us) */
	uint64_t first_frame;  /* this file holds frames [first_frame, first_frame + max_frames) */
	uint64_t max_frames;   /* frame f lives at byte (f - first_frame) * PFS_PAGE_SIZE */
	char name[256];        /* file name inside the store directory, e.g. "swap.0" */
};

struct swap_options {
	uint64_t chunk_bytes;      /* growth step, a multiple of PFS_PAGE_SIZE; 0 = 64 MiB */
	struct pfs_faults *faults; /* test-only fault injection (faults.h); NULL in production */
};

/*
 * Open (creating if absent, mode 0600) each file in the existing directory dir
 * with O_DIRECT|O_CLOEXEC; where the file system refuses O_DIRECT (tmpfs) the
 * file is opened for buffered I/O with one warning. Existing files keep their
 * length. -EINVAL for overlapping frame ranges, an empty range, a name that is
 * empty, "." or "..", or contains '/', or more than SWAP_MAX_FILES files;
 * -EEXIST for a repeated index or name. opt may be NULL.
 */
int swap_open(const char *dir, const struct swap_file_desc *files, unsigned nfiles,
	      const struct swap_options *opt, struct swap_store **out);
void swap_close(struct swap_store *s);

/* Add one more file at run time; the same checks as swap_open. */
int swap_add_file(struct swap_store *s, const struct swap_file_desc *d);

/* Number of files, and a copy of the i-th (0 <= i < swap_nfiles) descriptor. */
unsigned swap_nfiles(const struct swap_store *s);
int swap_file_desc(const struct swap_store *s, unsigned i, struct swap_file_desc *out);

/* Frames now allocated on disk for file index (0 if there is no such file). */
uint64_t swap_file_frames(const struct swap_store *s, uint32_t index);

/*
 * Make file index cover at least nframes frames: fallocate in whole chunks
 * (ftruncate where fallocate is unsupported), never past max_frames. -ENOSPC
 * when nframes > max_frames, and when the disk is full, in which case the file
 * is left as it was. -ENOENT for an unknown index.
 */
int swap_grow(struct swap_store *s, uint32_t index, uint64_t nframes);

/*
 * Give the space of frames [frame, frame + n) back to the file system (punch a
 * hole, size kept). The run must lie within one file (-EINVAL otherwise);
 * -EOPNOTSUPP where the file system cannot punch holes, which callers may
 * ignore. The frames read back as zeros, which no stored checksum matches.
 */
int swap_discard(struct swap_store *s, uint64_t frame, uint64_t n);

/* XXH3_64bits of one PFS_PAGE_SIZE page. */
uint64_t swap_checksum(const void *page);

/*
 * Open an io_uring of SWAP_DEFAULT_RING_DEPTH (or depth) entries with the
 * store's files registered, and one page-aligned arena of buf_bytes (rounded up
 * to a page; 0 = none) registered for READ_FIXED/WRITE_FIXED. Files added later
 * are registered by the ring the next time it is used, or used unregistered if
 * that fails; an arena the kernel refuses to pin is used unregistered, with one
 * warning.
 */
int swap_ring_open(struct swap_store *s, size_t buf_bytes, struct swap_ring **out);
int swap_ring_open_depth(struct swap_store *s, size_t buf_bytes, unsigned depth,
			 struct swap_ring **out);
void swap_ring_close(struct swap_ring *r);
void *swap_ring_buf(struct swap_ring *r);
size_t swap_ring_buf_bytes(const struct swap_ring *r);
unsigned swap_ring_depth(const struct swap_ring *r);

struct swap_io {
	uint64_t frame;      /* first frame of a contiguous run; the run lies in one file (-EINVAL if not) */
	uint32_t nframes;    /* > 0 */
	void *buf;           /* nframes * PFS_PAGE_SIZE bytes, page-aligned; inside the ring's arena -> fixed op */
	const void *sums;    /* read: expected checksum of each frame, packed little-endian u64; NULL = no check */
	uint8_t *page_ok;    /* read with sums: if not NULL, nframes bytes, 1 for each page read whole and
				matching its checksum; a mismatch then fails nothing and is not logged or
				counted (the caller only keeps what matched) */
	void *sums_out;      /* write: if not NULL, receives each frame's checksum (packed little-endian u64) */
	int res;             /* out: 0 or -errno for this run */
	bool csum_bad;       /* out: res == -EIO because a checksum did not match */
	uint32_t bad_page;   /* out: with csum_bad, index in the run of the first mismatching page */
};

/*
 * Submit every run (one SQE per run, a few if a run is over 64 MiB), keep up to
 * the ring's depth in flight, wait for all, and return 0 if all succeeded or
 * the error of the first failing run (lowest index); every ios[i].res is set.
 * Short transfers are resubmitted for the remainder, -EAGAIN and -EINTR are
 * retried, and a real I/O error fails exactly the runs it hit.
 *
 * Per run: -EINVAL if nframes is 0, buf is not page-aligned, or the run is not
 * inside one file; a read past the file's allocated end is -EIO (never zeros),
 * a write past it -EINVAL (grow first). A read with sums verifies every page; a
 * mismatch is -EIO with csum_bad and bad_page set, logged and counted, and the
 * bytes in buf must not be used. A write fills sums_out before it is
 * submitted; it describes the disk only if res == 0.
 *
 * After an error the ring itself cannot recover from (io_uring_enter failed
 * with nothing in flight), every later call on the ring returns that error:
 * close it and open another.
 */
int swap_read(struct swap_ring *r, struct swap_io *ios, unsigned n);
int swap_write(struct swap_ring *r, struct swap_io *ios, unsigned n);

/*
 * 0 while r works; else the error that made it unusable (see swap_read), after
 * which reads it had started may still land in their buffers.
 */
int swap_ring_error(const struct swap_ring *r);

/*
 * fdatasync every swap file (IORING_OP_FSYNC, IORING_FSYNC_DATASYNC), all
 * submitted together; 0 or the first error. See Durability above.
 */
int swap_sync(struct swap_ring *r);

/*
 * Read len bytes of any open file (a backing file: the file pager) at off
 * into buf through this ring: short reads are continued, -EAGAIN and -EINTR
 * retried. Returns the bytes read, short only at the end of the file, or a
 * negative errno. No checksums: the file is not the store's.
 */
ssize_t swap_ring_read_fd(struct swap_ring *r, int fd, uint64_t off, void *buf, size_t len);

/*
 * Counters since swap_open. reads/writes count runs that succeeded and
 * bytes_* their bytes; csum_errors counts pages that failed verification;
 * io_errors counts runs that failed with an I/O error (including reads past
 * the allocated end) and failed file syncs; syncs counts successful swap_sync.
 */
struct swap_stats {
	uint64_t reads, writes, bytes_read, bytes_written, csum_errors, io_errors, syncs;
};
void swap_get_stats(const struct swap_store *s, struct swap_stats *out);

/*
 * ---- internal to src/swap/: what ring.c needs of the store ----
 * Marked swap__ (as liburing marks __io_uring_*): nothing outside src/swap/
 * may call these, and they may change without notice.
 */
struct swap__loc {
	unsigned slot;          /* the file's position in the store = its registered-file index */
	int fd;
	uint64_t rel_frame;     /* frame - first_frame */
	uint64_t off_bytes;     /* byte offset of the frame in the file */
	uint64_t alloc_frames;  /* frames the file's length covers now */
	uint32_t dio_align;     /* smallest direct transfer, bytes (1 for buffered files) */
	const char *name;
};
enum swap__stat {
	SWAP__ST_READS, SWAP__ST_WRITES, SWAP__ST_BYTES_READ, SWAP__ST_BYTES_WRITTEN,
	SWAP__ST_CSUM_ERRORS, SWAP__ST_IO_ERRORS, SWAP__ST_SYNCS, SWAP__ST_COUNT
};
/* The file holding the whole run [frame, frame + n), or -EINVAL. */
int swap__locate(const struct swap_store *s, uint64_t frame, uint64_t n, struct swap__loc *loc);
/* fd of the file in slot (< swap_nfiles), or -ENOENT; *name if name != NULL. */
int swap__slot_fd(const struct swap_store *s, unsigned slot, const char **name);
struct pfs_faults *swap__faults(const struct swap_store *s);
void swap__stat_add(struct swap_store *s, enum swap__stat k, uint64_t v);
void swap__ring_ref(struct swap_store *s, int delta);

#endif /* PAGERFS_SWAP_H */
