/*
 * ring.c: page I/O on the swap files through io_uring: one ring per thread,
 * with the store's files and one buffer arena registered, reading and writing
 * runs of frames, verifying their checksums, and syncing the files. It must
 * never report bytes as good data unless every requested byte was transferred
 * and, when the caller gave checksums, every page matched; never turn a short
 * transfer or a read past the end of a file into zeros; and never return while
 * the kernel may still be transferring into or out of a caller's buffer
 * (except from a ring that io_uring_enter itself has made unusable, see
 * swp_ring_die). It decides nothing about which frames are used.
 *
 * An op is one SQE's worth of a run (a run over SWP_MAX_OP_BYTES is cut into
 * several). Its stages:
 *
 *   FREE ──(cut from the cursor)──► READY ──(SQE prepared)──► INFLIGHT
 *   INFLIGHT ──(complete, or its run failed)──────────────► FREE
 *   INFLIGHT ──(short transfer, -EAGAIN, -EINTR)───────────► READY
 *
 * Invariants: an op is in exactly one of the free stack, the ready stack or
 * the kernel; r->inflight counts INFLIGHT ops and never exceeds r->depth, so
 * the submission queue (at least depth entries) never overflows and the
 * completion queue (twice that) never does either. A READY op whose run has
 * already failed is freed, not submitted.
 *
 * Fault injection (faults.h) takes exactly the path of real faults: an
 * injected error rewrites a completion's result before anything looks at it;
 * an injected short transfer submits the SQE with half its length, so the
 * kernel really transfers only part and the remainder must be resubmitted
 * (rewriting a full completion as short would leave nothing to recover).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"
#include <assert.h>
#include <endian.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
/* Bytes an io_uring read put in a buffer, which valgrind cannot see. */
#define SWP_READ_FILLED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define SWP_READ_FILLED(p, n) ((void)0)
#endif
#include "iobuf.h"
#include "log.h"
#include "swap/swap.h"

#define SWP_MAX_OP_BYTES  ((uint32_t)64 << 20)  /* longest single SQE */
#define SWP_MAX_RETRIES   100                   /* -EAGAIN/-EINTR/no progress in a row */
#define SWP_MAX_DEPTH     4096
#define SWP_BUF_SEG_BYTES ((size_t)1 << 30)     /* the kernel's limit per registered buffer */
#define SWP_MAX_BUF_SEGS  64

enum swp_op_state { SWP_OP_FREE, SWP_OP_READY, SWP_OP_INFLIGHT };
enum swp_kind { SWP_READ, SWP_WRITE, SWP_FSYNC };

struct swp_op {
	enum swp_op_state state;
	unsigned item;       /* index of the run in ios[], or of the file (fsync) */
	unsigned slot;       /* file slot in the store = registered-file index */
	int fd;
	uint32_t dio_align;
	uint32_t len;        /* bytes still to transfer */
	uint64_t off;        /* file byte offset of the next byte */
	char *buf;           /* where the next byte goes or comes from */
	unsigned retries;
	bool whole_run;      /* this op carries its entire run */
};

struct swap_ring {
	struct swap_store *s;
	struct io_uring ring;
	unsigned depth;
	char *arena;                        /* arena_map.mem */
	size_t arena_bytes;                 /* what was asked for, page-rounded */
	struct iobuf arena_map;             /* huge-page-backed where it can be */
	bool arena_fixed;                   /* arena registered with the kernel */
	bool files_fixed;                   /* a file table is registered */
	bool slot_fixed[SWAP_MAX_FILES];    /* this slot of it holds the store's file */
	unsigned nseen;                     /* store slots looked at so far */
	int dead;                           /* sticky: 0, or why the ring is unusable */
	unsigned inflight;
	struct swp_op *ops;
	unsigned *free_ops, nfree;
	unsigned *ready_ops, nready;
};

/* One call's work: which runs (or files), and where cutting new ops resumes. */
struct swp_job {
	enum swp_kind kind;
	struct swap_io *ios;
	unsigned n;          /* runs, or files for fsync */
	unsigned next;       /* cursor: next run or file to cut ops from */
	uint64_t next_off;   /* cursor: bytes of run `next` already cut */
	int *file_res;       /* fsync: result per file */
};

static const char *swp_kind_name(enum swp_kind k)
{
	return k == SWP_READ ? "read" : k == SWP_WRITE ? "write" : "fdatasync";
}

static int swp_item_res(const struct swp_job *job, unsigned item)
{
	return job->kind == SWP_FSYNC ? job->file_res[item] : job->ios[item].res;
}

/* ---- ring set-up ---- */

static int swp_register_arena(struct swap_ring *r)
{
	struct iovec iov[SWP_MAX_BUF_SEGS];
	unsigned nseg = 0;
	int ret;

	for (size_t off = 0; off < r->arena_bytes; off += SWP_BUF_SEG_BYTES) {
		iov[nseg].iov_base = r->arena + off;
		iov[nseg].iov_len = PFS_MIN(SWP_BUF_SEG_BYTES, r->arena_bytes - off);
		nseg++;
	}
	ret = io_uring_register_buffers(&r->ring, iov, nseg);
	if (ret < 0) {
		pfs_warn("swap: cannot register a %zu-byte I/O arena (%s); using it unregistered",
			 r->arena_bytes, strerror(-ret));
		return ret;
	}
	r->arena_fixed = true;
	return 0;
}

/*
 * Register a table of SWAP_MAX_FILES slots, holding the store's files as of
 * now and empty (-1) slots for files added later. Without it every op uses
 * plain file descriptors, which works, a little more slowly.
 */
static void swp_register_files(struct swap_ring *r)
{
	int fds[SWAP_MAX_FILES];
	unsigned nf = swap_nfiles(r->s);
	int ret;

	for (unsigned i = 0; i < SWAP_MAX_FILES; i++)
		fds[i] = i < nf ? swap__slot_fd(r->s, i, NULL) : -1;
	ret = io_uring_register_files(&r->ring, fds, SWAP_MAX_FILES);
	if (ret < 0) {
		pfs_debug("swap: io_uring_register_files: %s; using plain descriptors", strerror(-ret));
		r->nseen = nf;
		return;
	}
	r->files_fixed = true;
	for (unsigned i = 0; i < nf; i++)
		r->slot_fixed[i] = true;
	r->nseen = nf;
}

/* Pick up files added to the store since this ring last looked. */
static void swp_refresh_files(struct swap_ring *r)
{
	unsigned nf = swap_nfiles(r->s);

	for (; r->nseen < nf; r->nseen++) {
		int fd = swap__slot_fd(r->s, r->nseen, NULL);
		if (r->files_fixed && fd >= 0 &&
		    io_uring_register_files_update(&r->ring, r->nseen, &fd, 1) == 1)
			r->slot_fixed[r->nseen] = true;
	}
}

int swap_ring_open_depth(struct swap_store *s, size_t buf_bytes, unsigned depth,
			 struct swap_ring **out)
{
	struct io_uring_params p;
	struct swap_ring *r;
	int ret;

	if (!s || !out || depth == 0 || depth > SWP_MAX_DEPTH ||
	    buf_bytes > SWP_BUF_SEG_BYTES * SWP_MAX_BUF_SEGS)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	r->depth = depth;
	r->ops = calloc(depth, sizeof(*r->ops));
	r->free_ops = calloc(depth, sizeof(*r->free_ops));
	r->ready_ops = calloc(depth, sizeof(*r->ready_ops));
	if (!r->ops || !r->free_ops || !r->ready_ops) {
		ret = -ENOMEM;
		goto fail_alloc;
	}
	for (unsigned i = 0; i < depth; i++)
		r->free_ops[r->nfree++] = depth - 1 - i;

	/* COOP_TASKRUN: no interrupt to run completions; we always wait for them. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
	ret = io_uring_queue_init_params(depth, &r->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(depth, &r->ring, &p);
	}
	if (ret < 0) {
		pfs_err("swap: io_uring_queue_init(%u): %s", depth, strerror(-ret));
		goto fail_alloc;
	}

	if (buf_bytes) {
		if ((ret = iobuf_map(buf_bytes, &r->arena_map)) < 0)
			goto fail_ring;
		r->arena = r->arena_map.mem;
		r->arena_bytes = (buf_bytes + PFS_PAGE_SIZE - 1) & ~(size_t)(PFS_PAGE_SIZE - 1);
		swp_register_arena(r);
	}
	swp_register_files(r);
	swap__ring_ref(s, 1);
	*out = r;
	return 0;

fail_ring:
	io_uring_queue_exit(&r->ring);
fail_alloc:
	free(r->ready_ops);
	free(r->free_ops);
	free(r->ops);
	free(r);
	return ret;
}

int swap_ring_open(struct swap_store *s, size_t buf_bytes, struct swap_ring **out)
{
	return swap_ring_open_depth(s, buf_bytes, SWAP_DEFAULT_RING_DEPTH, out);
}

void swap_ring_close(struct swap_ring *r)
{
	if (!r)
		return;
	/*
	 * The kernel tears a ring down asynchronously, keeping its registered
	 * files open for a while after; unregistering first drops them now, so
	 * that once swap_close returns nothing holds the store's files open.
	 */
	if (r->files_fixed)
		io_uring_unregister_files(&r->ring);
	if (r->arena_fixed)
		io_uring_unregister_buffers(&r->ring);
	io_uring_queue_exit(&r->ring);
	/*
	 * A dead ring's buffered reads (swap_ring_read_fd) may still be with
	 * the kernel's workers, which copy into the arena's addresses when
	 * they finish: unmapped, those addresses could be mapped again for
	 * something else. Such an arena is left mapped for good (rare: only
	 * after io_uring_enter itself failed).
	 */
	if (!r->dead)
		iobuf_unmap(&r->arena_map);
	swap__ring_ref(r->s, -1);
	free(r->ready_ops);
	free(r->free_ops);
	free(r->ops);
	free(r);
}

void *swap_ring_buf(struct swap_ring *r)
{
	return r->arena;
}

size_t swap_ring_buf_bytes(const struct swap_ring *r)
{
	return r->arena_bytes;
}

unsigned swap_ring_depth(const struct swap_ring *r)
{
	return r->depth;
}

static void swp_verify(struct swap_ring *r, struct swap_io *io);

/* ---- ops ---- */

static void swp_op_free(struct swap_ring *r, struct swp_op *op)
{
	op->state = SWP_OP_FREE;
	r->free_ops[r->nfree++] = (unsigned)(op - r->ops);
}

static void swp_op_ready(struct swap_ring *r, struct swp_op *op)
{
	op->state = SWP_OP_READY;
	r->ready_ops[r->nready++] = (unsigned)(op - r->ops);
}

/*
 * Cut the next op from the job's cursor into op; false when nothing is left.
 * Runs that failed validation (res != 0) are skipped.
 */
static bool swp_job_cut(const struct swap_ring *r, struct swp_job *job, struct swp_op *op)
{
	for (; job->next < job->n; job->next++, job->next_off = 0) {
		struct swap__loc loc;

		if (job->kind == SWP_FSYNC) {
			op->fd = swap__slot_fd(r->s, job->next, NULL);
			op->item = op->slot = job->next++;
			op->len = 0;
			op->retries = 0;
			return true;
		}
		struct swap_io *io = &job->ios[job->next];
		uint64_t total = (uint64_t)io->nframes << PFS_PAGE_SHIFT;
		if (io->res != 0 || job->next_off >= total)
			continue;
		/* Validated before the first cut; files never move, so this holds. */
		if (swap__locate(r->s, io->frame, io->nframes, &loc) != 0) {
			assert(!"swap run moved between validation and submission");
			continue;
		}
		op->item = job->next;
		op->slot = loc.slot;
		op->fd = loc.fd;
		op->dio_align = loc.dio_align;
		op->off = loc.off_bytes + job->next_off;
		op->buf = (char *)io->buf + job->next_off;
		op->len = (uint32_t)PFS_MIN(total - job->next_off, SWP_MAX_OP_BYTES);
		op->retries = 0;
		op->whole_run = job->next_off == 0 && op->len == total;
		job->next_off += op->len;
		return true;
	}
	return false;
}

/*
 * The length to submit for op: all of it, or, when a short transfer is
 * injected, half of it in whole units of the file's direct-I/O alignment (what
 * a real short direct transfer looks like). A transfer too small to shorten
 * is submitted whole.
 */
static uint32_t swp_inject_short(struct swap_ring *r, const struct swp_job *job,
				 const struct swp_op *op)
{
	struct pfs_faults *f = swap__faults(r->s);
	uint32_t unit = PFS_MAX(op->dio_align, 1u);
	uint32_t half = op->len / 2 / unit * unit;

	if (pfs_likely(f == NULL) || job->kind == SWP_FSYNC)
		return op->len;
	return pfs_fault_check(f, PFS_FAULT_SHORT) && half ? half : op->len;
}

static void swp_prep(struct swap_ring *r, const struct swp_job *job, struct swp_op *op,
		     struct io_uring_sqe *sqe)
{
	bool fixed_file = r->slot_fixed[op->slot];
	int fd = fixed_file ? (int)op->slot : op->fd;
	int buf_index = -1;

	if (job->kind != SWP_FSYNC && r->arena_fixed && op->buf >= r->arena &&
	    op->buf + op->len <= r->arena + r->arena_bytes) {
		size_t first = (size_t)(op->buf - r->arena);
		size_t last = first + op->len - 1;
		if (first / SWP_BUF_SEG_BYTES == last / SWP_BUF_SEG_BYTES)
			buf_index = (int)(first / SWP_BUF_SEG_BYTES);
	}
	uint32_t len = swp_inject_short(r, job, op);
	switch (job->kind) {
	case SWP_READ:
		if (buf_index >= 0)
			io_uring_prep_read_fixed(sqe, fd, op->buf, len, op->off, buf_index);
		else
			io_uring_prep_read(sqe, fd, op->buf, len, op->off);
		break;
	case SWP_WRITE:
		if (buf_index >= 0)
			io_uring_prep_write_fixed(sqe, fd, op->buf, len, op->off, buf_index);
		else
			io_uring_prep_write(sqe, fd, op->buf, len, op->off);
		break;
	case SWP_FSYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)(op - r->ops));
}

/* The run (or file) of op failed with err: record it once, log it, count it. */
static void swp_item_fail(struct swap_ring *r, struct swp_job *job, const struct swp_op *op, int err)
{
	const char *name = "?";

	swap__slot_fd(r->s, op->slot, &name);
	if (job->kind == SWP_FSYNC) {
		job->file_res[op->item] = err;
		pfs_err("swap: fdatasync of %s failed: %s", name, strerror(-err));
	} else {
		struct swap_io *io = &job->ios[op->item];
		if (io->res != 0)
			return;
		io->res = err;
		pfs_err("swap: %s of frames %llu+%u in %s failed at byte %llu: %s",
			swp_kind_name(job->kind), (unsigned long long)io->frame, io->nframes, name,
			(unsigned long long)op->off, strerror(-err));
	}
	swap__stat_add(r->s, SWAP__ST_IO_ERRORS, 1);
}

/* Apply an injected error to a completion's result, as if the kernel had said it. */
static int swp_inject(struct swap_ring *r, const struct swp_job *job, const struct swp_op *op, int res)
{
	struct pfs_faults *f = swap__faults(r->s);
	int inj;

	if (pfs_likely(f == NULL))
		return res;
	if (job->kind == SWP_FSYNC) {
		inj = pfs_fault_check(f, PFS_FAULT_FSYNC);
		return inj ? inj : res;
	}
	inj = pfs_fault_check(f, job->kind == SWP_READ ? PFS_FAULT_READ : PFS_FAULT_WRITE);
	return inj ? inj : res;
}

static void swp_complete(struct swap_ring *r, struct swp_job *job, struct swp_op *op, int res)
{
	assert(op->state == SWP_OP_INFLIGHT);
	r->inflight--;
	if (job->kind == SWP_READ && res > 0)
		SWP_READ_FILLED(op->buf, (size_t)res);
	res = swp_inject(r, job, op, res);

	if (res == -EAGAIN || res == -EINTR) {
		if (op->retries++ < SWP_MAX_RETRIES) {
			swp_op_ready(r, op);
			return;
		}
	} else if (res >= 0 && job->kind != SWP_FSYNC && (uint32_t)res < op->len) {
		if (res == 0 && job->kind == SWP_READ) {
			res = -EIO;  /* end of file: the caller gets no zeros */
		} else if (res > 0 || op->retries++ < SWP_MAX_RETRIES) {
			if (res > 0)
				op->retries = 0;
			op->off += (uint32_t)res;
			op->buf += (uint32_t)res;
			op->len -= (uint32_t)res;
			swp_op_ready(r, op);
			return;
		} else {
			res = -EIO;  /* a write that makes no progress */
		}
	}
	if (res < 0) {
		swp_item_fail(r, job, op, res);
	} else if (job->kind == SWP_READ && op->whole_run && job->ios[op->item].sums) {
		/* Verify now, overlapping the hashing with the I/O still in flight. */
		swp_verify(r, &job->ios[op->item]);
	}
	swp_op_free(r, op);
}

/*
 * io_uring_enter failed for good with ops outstanding: the ring can no longer
 * be trusted to report them, so every run not yet failed fails, and so does
 * every later call. Ops the kernel had taken may still complete after this,
 * into the caller's buffers: close the ring (which keeps its arena mapped,
 * see swap_ring_close) and treat the buffers of this call as garbage.
 */
static int swp_ring_die(struct swap_ring *r, struct swp_job *job, int err)
{
	pfs_err("swap: io_uring_enter: %s; the ring is unusable", strerror(-err));
	r->dead = err;
	for (unsigned i = 0; i < job->n; i++) {
		if (job->kind == SWP_FSYNC) {
			if (job->file_res[i] == 0)
				job->file_res[i] = err;
		} else if (job->ios[i].res == 0) {
			job->ios[i].res = err;
		}
	}
	return err;
}

/* Drive the job to completion: keep up to depth ops in flight, reap, resubmit. */
static int swp_run(struct swap_ring *r, struct swp_job *job)
{
	unsigned transient = 0;

	for (;;) {
		while (r->inflight < r->depth) {
			struct swp_op *op;
			if (r->nready) {
				op = &r->ops[r->ready_ops[--r->nready]];
				if (swp_item_res(job, op->item) != 0 && job->kind != SWP_FSYNC) {
					swp_op_free(r, op);  /* its run already failed */
					continue;
				}
			} else if (r->nfree) {
				op = &r->ops[r->free_ops[r->nfree - 1]];
				if (!swp_job_cut(r, job, op))
					break;
				r->nfree--;
			} else {
				break;
			}
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
			assert(sqe);  /* inflight < depth <= SQ entries */
			swp_prep(r, job, op, sqe);
			op->state = SWP_OP_INFLIGHT;
			r->inflight++;
		}
		if (r->inflight == 0)
			return 0;

		int ret = pfs_fault_check(swap__faults(r->s), PFS_FAULT_RING);
		if (ret < 0)
			return swp_ring_die(r, job, ret);
		ret = io_uring_submit_and_wait(&r->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return swp_ring_die(r, job, ret);
		if (ret < 0 && io_uring_cq_ready(&r->ring) == 0) {
			if (++transient > 1000)
				return swp_ring_die(r, job, ret);
			continue;
		}
		transient = 0;

		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			struct swp_op *op = &r->ops[io_uring_cqe_get_data64(cqe)];
			swp_complete(r, job, op, cqe->res);
			seen++;
		}
		io_uring_cq_advance(&r->ring, seen);
	}
}

/* ---- reads, writes, sync ---- */

static void swp_put_le64(void *dst, uint64_t v)
{
	v = htole64(v);
	memcpy(dst, &v, sizeof(v));
}

static uint64_t swp_get_le64(const void *src)
{
	uint64_t v;
	memcpy(&v, src, sizeof(v));
	return le64toh(v);
}

/* Check one run before any I/O; sets io->res for a run that must not be submitted. */
static void swp_validate(struct swap_ring *r, enum swp_kind kind, struct swap_io *io)
{
	struct swap__loc loc;

	io->res = 0;
	io->csum_bad = false;
	io->bad_page = 0;
	if (io->page_ok && io->nframes)
		memset(io->page_ok, 0, io->nframes);
	if (io->nframes == 0 || !io->buf || ((uintptr_t)io->buf & (PFS_PAGE_SIZE - 1)) ||
	    swap__locate(r->s, io->frame, io->nframes, &loc) != 0) {
		io->res = -EINVAL;
		return;
	}
	if (loc.rel_frame + io->nframes <= loc.alloc_frames)
		return;
	if (kind == SWP_WRITE) {
		io->res = -EINVAL;  /* grow first: the file must not grow behind swap_grow */
		return;
	}
	pfs_err("swap: read of frames %llu+%u in %s is past its allocated end (%llu frames)",
		(unsigned long long)io->frame, io->nframes, loc.name,
		(unsigned long long)loc.alloc_frames);
	io->res = -EIO;
	swap__stat_add(r->s, SWAP__ST_IO_ERRORS, 1);
}

/*
 * Verify every page of a read run: the first bad page fails the run, or with
 * page_ok each page is only marked good or not.
 */
static void swp_verify(struct swap_ring *r, struct swap_io *io)
{
	const char *p = io->buf;
	uint32_t nbad = 0;
	uint64_t want_first = 0, got_first = 0;

	for (uint32_t i = 0; i < io->nframes; i++) {
		uint64_t want = swp_get_le64((const char *)io->sums + 8 * (size_t)i);
		uint64_t got = swap_checksum(p + ((size_t)i << PFS_PAGE_SHIFT));
		if (io->page_ok)
			io->page_ok[i] = want == got;
		if (want == got || io->page_ok)
			continue;
		if (nbad++ == 0) {
			io->csum_bad = true;
			io->bad_page = i;
			want_first = want;
			got_first = got;
		}
	}
	if (!nbad)
		return;
	io->res = -EIO;
	swap__stat_add(r->s, SWAP__ST_CSUM_ERRORS, nbad);

	struct swap__loc loc;
	const char *name = swap__locate(r->s, io->frame, io->nframes, &loc) == 0 ? loc.name : "?";
	pfs_err("swap: checksum mismatch in frame %llu (%s): expected %016llx, got %016llx; "
		"%u of %u pages in the run bad",
		(unsigned long long)(io->frame + io->bad_page), name,
		(unsigned long long)want_first, (unsigned long long)got_first, nbad, io->nframes);
}

static int swp_rw(struct swap_ring *r, enum swp_kind kind, struct swap_io *ios, unsigned n)
{
	struct swp_job job = { .kind = kind, .ios = ios, .n = n };
	int first = 0;

	if (!r || (n && !ios))
		return -EINVAL;
	if (r->dead) {
		for (unsigned i = 0; i < n; i++)
			ios[i].res = r->dead; /* nothing is tried on a dead ring */
	} else {
		for (unsigned i = 0; i < n; i++) {
			struct swap_io *io = &ios[i];
			swp_validate(r, kind, io);
			if (kind != SWP_WRITE || io->res != 0 || !io->sums_out)
				continue;
			for (uint32_t p = 0; p < io->nframes; p++)
				swp_put_le64((char *)io->sums_out + 8 * (size_t)p,
					     swap_checksum((const char *)io->buf +
							   ((size_t)p << PFS_PAGE_SHIFT)));
		}
		swp_refresh_files(r);
		swp_run(r, &job);
	}

	for (unsigned i = 0; i < n; i++) {
		struct swap_io *io = &ios[i];
		/* Runs of one op were verified as they completed (swp_complete). */
		if (io->res == 0 && kind == SWP_READ && io->sums &&
		    ((uint64_t)io->nframes << PFS_PAGE_SHIFT) > SWP_MAX_OP_BYTES)
			swp_verify(r, io);
		/* A failed run marks nothing, even one checked before a dying ring failed it. */
		if (io->res != 0 && io->page_ok && io->nframes)
			memset(io->page_ok, 0, io->nframes);
		if (io->res == 0) {
			uint64_t bytes = (uint64_t)io->nframes << PFS_PAGE_SHIFT;
			swap__stat_add(r->s, kind == SWP_READ ? SWAP__ST_READS : SWAP__ST_WRITES, 1);
			swap__stat_add(r->s, kind == SWP_READ ? SWAP__ST_BYTES_READ
							      : SWAP__ST_BYTES_WRITTEN, bytes);
		} else if (!first) {
			first = io->res;
		}
	}
	return first;
}

int swap_ring_error(const struct swap_ring *r)
{
	return r->dead;
}

int swap_read(struct swap_ring *r, struct swap_io *ios, unsigned n)
{
	return swp_rw(r, SWP_READ, ios, n);
}

int swap_write(struct swap_ring *r, struct swap_io *ios, unsigned n)
{
	return swp_rw(r, SWP_WRITE, ios, n);
}

int swap_sync(struct swap_ring *r)
{
	int file_res[SWAP_MAX_FILES] = { 0 };
	struct swp_job job = { .kind = SWP_FSYNC, .file_res = file_res };

	if (!r)
		return -EINVAL;
	if (r->dead)
		return r->dead;
	swp_refresh_files(r);
	job.n = r->nseen;
	swp_run(r, &job);
	for (unsigned i = 0; i < job.n; i++)
		if (file_res[i])
			return file_res[i];
	swap__stat_add(r->s, SWAP__ST_SYNCS, 1);
	return 0;
}

ssize_t swap_ring_read_fd(struct swap_ring *r, int fd, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;
	unsigned retries = 0;

	if (!r || fd < 0)
		return -EBADF;
	if (r->dead)
		return r->dead;
	assert(r->inflight == 0); /* every other call has completed its work */
	while (done < len) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
		struct io_uring_cqe *cqe;
		unsigned want = (unsigned)PFS_MIN(len - done, (size_t)SWP_MAX_OP_BYTES);
		int rc;

		if (!sqe)
			return -EBUSY;
		io_uring_prep_read(sqe, fd, (char *)buf + done, want, off + done);
		io_uring_sqe_set_data64(sqe, 0);
		/*
		 * Prepared once: a submit or a wait that was interrupted is tried
		 * again as it is, or the same read would go in twice and leave a
		 * completion behind for the next call to take for its own.
		 */
		while ((rc = io_uring_submit(&r->ring)) < 0 &&
		       (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY) && ++retries < SWP_MAX_RETRIES)
			;
		if (rc >= 0) {
			while ((rc = io_uring_wait_cqe(&r->ring, &cqe)) == -EINTR &&
			       ++retries < SWP_MAX_RETRIES)
				;
		}
		if (rc < 0) {
			/* The read may still be pending or land later: never use the ring again. */
			pfs_err("swap: io_uring: %s; the ring is unusable", strerror(-rc));
			r->dead = rc;
			return rc;
		}
		int res = cqe->res;
		io_uring_cqe_seen(&r->ring, cqe);
		if (res > 0)
			SWP_READ_FILLED((char *)buf + done, (size_t)res);
		if (res == -EAGAIN || res == -EINTR) {
			if (++retries >= SWP_MAX_RETRIES)
				return res;
			continue;
		}
		if (res < 0)
			return res;
		if (res == 0)
			break; /* end of file */
		done += (size_t)res;
		retries = 0;
	}
	return (ssize_t)done;
}
