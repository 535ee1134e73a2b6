/*
 * swap_pager.c: the swap pager (filepager/pager.h) over the store's frames.
 *
 * Page-ins take what read-ahead already holds and queue the rest; finish
 * reads every queued run of one page-in in one swap_read call, runs in
 * flight together, each page checked against the checksum its map records. Page-outs go to fresh
 * frames (store_page_out), never over a frame a map points to; a partial
 * page is read whole first, so its other bytes, backing ones included,
 * survive. It must be called with the object's lock held for page-ins (as
 * store_page_in does), and never reads a frame it has not been given a
 * checksum for.
 */
#include <string.h>
#include "log.h"
#include "store_internal.h"

static int sp_page_in(void *ctx, const struct pager_run *run)
{
	struct swap_pager *sp = ctx;
	struct store_swapin *in = sp->in;
	struct store *s = sp->io->s;
	uint8_t *dst = run->buf;
	uint32_t got = 0, k;

	if (!in || !run->sums || run->page < in->first ||
	    run->page - in->first + run->npages > STORE_IO_MAX_PAGES ||
	    dst != in->buf + (run->page - in->first) * PFS_PAGE_SIZE)
		return -EINVAL; /* only store_page_in's own runs, each with its checksums */
	in->swapped = true;
	while (s->pf && got < run->npages &&
	       (k = store_prefetch_take(s->pf, sp->obj, run->page + got, run->npages - got,
					run->sums + 8 * (size_t)got, dst + (size_t)got * PFS_PAGE_SIZE)))
		got += k;
	if (got < run->npages) {
		/* O_DIRECT wants aligned memory: read into the arena at the page's offset. */
		unsigned i = in->nios++;
		in->ios[i] = (struct swap_io){
			.frame = run->base + got, .nframes = run->npages - got,
			.buf = sp->io->buf + (run->page + got - in->first) * PFS_PAGE_SIZE,
			.sums = run->sums + 8 * (size_t)got };
	}
	return 0;
}

static int sp_finish(void *ctx)
{
	struct swap_pager *sp = ctx;
	struct store_swapin *in = sp->in;
	struct store *s = sp->io->s;
	int rc;

	if (!in || in->nios == 0)
		return 0;
	rc = swap_read(sp->io->ring, in->ios, in->nios);
	for (unsigned i = 0; i < in->nios; i++) {
		const struct swap_io *x = &in->ios[i];
		size_t at = (size_t)((uint8_t *)x->buf - sp->io->buf); /* the same in buf */
		if (x->csum_bad) {
			atomic_fetch_add(&s->csum_errors, 1);
			pfs_err("object %llu page %llu (frame %llu): checksum mismatch, "
				"returning EIO", (unsigned long long)sp->obj,
				(unsigned long long)(in->first + at / PFS_PAGE_SIZE + x->bad_page),
				(unsigned long long)(x->frame + x->bad_page));
		} else if (x->res < 0) {
			atomic_fetch_add(&s->io_errors, 1);
		} else if (in->buf + at != x->buf) { /* no copy when the caller reads the arena */
			memcpy(in->buf + at, x->buf, (size_t)x->nframes * PFS_PAGE_SIZE);
		}
	}
	in->nios = 0;
	return rc;
}

/* Read page `page` whole into out, for a partial-page page-out. */
static int sp_read_page(struct swap_pager *sp, uint64_t page, uint8_t *out)
{
	uint8_t *arena = sp->io->buf;
	int rc = store_page_in(sp->io, sp->obj, page, 1, arena, sp->file);

	if (rc == 0)
		memcpy(out, arena, PFS_PAGE_SIZE);
	return rc;
}

static ssize_t sp_page_out(void *ctx, uint64_t off, const void *data, size_t len)
{
	struct swap_pager *sp = ctx;
	uint8_t *arena = sp->io->buf;
	uint8_t head[PFS_PAGE_SIZE], tail[PFS_PAGE_SIZE];
	size_t done = 0;
	int rc;

	if (pfs_range_overflows(off, len))
		return -EFBIG;
	while (done < len) {
		uint64_t pos = off + done, page = pos / PFS_PAGE_SIZE, skip = pos % PFS_PAGE_SIZE;
		uint64_t want = PFS_MIN((uint64_t)(len - done), STORE_IO_MAX_PAGES * PFS_PAGE_SIZE - skip);
		uint32_t npages = (uint32_t)pfs_bytes_to_pages(skip + want);
		uint64_t tail_used = (skip + want) % PFS_PAGE_SIZE;
		bool same_page = npages == 1 && skip; /* head and tail are one page */

		if (!skip && !tail_used) {
			/* Whole pages (write-back): the store writes them from where they are. */
			rc = store_page_out(sp->io, sp->obj, sp->memctl, page, npages,
					    (const uint8_t *)data + done);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
			done += (size_t)want;
			continue;
		}
		/* Partial pages keep their other bytes: read them before the arena is filled. */
		if (skip && (rc = sp_read_page(sp, page, head)) < 0)
			return done ? (ssize_t)done : rc;
		if (tail_used && !same_page && (rc = sp_read_page(sp, page + npages - 1, tail)) < 0)
			return done ? (ssize_t)done : rc;
		if (skip)
			memcpy(arena, head, PFS_PAGE_SIZE);
		if (tail_used && !same_page)
			memcpy(arena + (uint64_t)(npages - 1) * PFS_PAGE_SIZE, tail, PFS_PAGE_SIZE);
		if ((const uint8_t *)data + done != arena + skip)
			memcpy(arena + skip, (const uint8_t *)data + done, (size_t)want);
		rc = store_page_out(sp->io, sp->obj, sp->memctl, page, npages, arena);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		done += (size_t)want;
	}
	return (ssize_t)done;
}

const struct pager_ops store_swap_pager_ops = {
	.name = "swap",
	.page_in = sp_page_in,
	.finish = sp_finish,
	.page_out = sp_page_out,
};
