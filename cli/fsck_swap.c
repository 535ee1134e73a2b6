/*
 * fsck_swap.c: the swap side of `pagerctl fsck`: the swap-file table against
 * the files on disk, and every committed SWAP page's checksum against the
 * frame it names; plus the progress bar of the long passes.
 *
 * Frames are read with plain pread at (frame - first_frame) * 4096 of the
 * file whose record covers them, in runs of up to one extent, in frame order
 * so the disk reads sequentially. Read-only, and the pages read are dropped
 * from the page cache again (they are not wanted there).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fsck.h"
#include "pagemap.h"

/* ---- progress ---- */

void fk_progress(struct fsck *fk, const char *phase, uint64_t done, uint64_t total)
{
	int permille;

	if (!fk->progress || total == 0)
		return;
	permille = (int)((unsigned __int128)done * 1000 / total);
	if (fk->bar_shown && permille == fk->last_permille && phase == fk->phase)
		return;
	/* At most ten redraws a second: a terminal is slower than a small store. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (phase == fk->phase && now_ms - fk->bar_ms < 100)
		return;
	fk->bar_ms = now_ms;
	fk->last_permille = permille;
	fk->phase = phase;
	fk->bar_shown = true;
	char bar[41];
	int fill = permille * 40 / 1000;
	for (int i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(fk->c->err, "\r%s: %-22s [%s] %3d.%d%%\033[K", fk->c->prog, phase, bar,
		permille / 10, permille % 10);
	fflush(fk->c->err);
}

void fk_progress_clear(struct fsck *fk)
{
	if (!fk->bar_shown)
		return;
	fputs("\r\033[K", fk->c->err);
	fflush(fk->c->err);
	fk->bar_shown = false;
}

/* ---- the swap-file table ---- */

static int fk_collect_file(const struct cat_swapfile *s, void *arg)
{
	struct fsck *fk = arg;

	if (fk->nfiles == SWAP_MAX_FILES)
		return -E2BIG;
	fk->files[fk->nfiles++] = (struct fk_file){ .d = *s, .fd = -1 };
	return 0;
}

int fk_load_files(struct fsck *fk)
{
	int rc = cat_swapfile_foreach(fk->txn, fk_collect_file, fk);

	if (rc < 0) {
		fk_problem(fk, false, "swap-file table: %s (frames cannot be located)",
			   rc == -EINVAL ? "a damaged record" : rc == -E2BIG ? "too many files" : strerror(-rc));
		for (unsigned i = 0; i < fk->nfiles; i++)
			fk->files[i].fd = -1;
		fk->nfiles = 0;
		fk->files_ok = false;
		return 0;
	}
	fk->files_ok = true;
	for (unsigned i = 0; i < fk->nfiles; i++) {
		struct fk_file *f = &fk->files[i];
		char key[64], path[PATH_MAX];
		struct stat st;

		snprintf(key, sizeof(key), "swapfile.%u.frames", f->d.index);
		rc = cat_meta_get(fk->txn, key, &f->recorded);
		if (rc == -ENOENT)
			f->recorded = 0;
		else if (rc < 0)
			fk_problem(fk, false, "swap file %s: its recorded length is damaged", f->d.name);
		if (f->recorded > f->d.max_frames) {
			fk_problem(fk, false, "swap file %s: %" PRIu64 " frames recorded, more than its "
				   "range of %" PRIu64, f->d.name, f->recorded, f->d.max_frames);
			f->recorded = f->d.max_frames;
		}
		for (unsigned j = 0; j < i; j++) {
			struct cat_swapfile *g = &fk->files[j].d;
			if (f->d.first_frame < g->first_frame + g->max_frames &&
			    g->first_frame < f->d.first_frame + f->d.max_frames)
				fk_problem(fk, false, "swap files %s and %s: their frame ranges overlap",
					   g->name, f->d.name);
			if (strcmp(g->name, f->d.name) == 0)
				fk_problem(fk, false, "swap file %s is recorded twice", f->d.name);
		}
		snprintf(path, sizeof(path), "%s/%s", fk->store, f->d.name);
		if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(f->fd, &st) < 0) {
			if (f->recorded)
				fk_problem(fk, false, "swap file %s: %s (it should hold %" PRIu64 " frames)",
					   f->d.name, strerror(errno), f->recorded);
			if (f->fd >= 0)
				close(f->fd);
			f->fd = -1;
			continue;
		}
		f->on_disk = (uint64_t)st.st_size / PFS_PAGE_SIZE;
		if (f->on_disk < f->recorded)
			fk_problem(fk, false, "swap file %s holds %" PRIu64 " frames, the catalogue records %"
				   PRIu64 " (the daemon refuses to open the store)", f->d.name, f->on_disk,
				   f->recorded);
		fk_note(fk, false, "swap file %s: %" PRIu64 " frames recorded, %" PRIu64 " on disk",
			f->d.name, f->recorded, f->on_disk);
	}
	return 0;
}

/* ---- checksums ---- */

static int fk_cmp_sx(const void *a, const void *b)
{
	const struct fk_swapext *x = a, *y = b;
	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static bool fk_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* "7" or "7..9" */
static const char *fk_range(char *buf, size_t cap, uint64_t first, uint64_t n)
{
	if (n == 1)
		snprintf(buf, cap, "%" PRIu64, first);
	else
		snprintf(buf, cap, "%" PRIu64 "..%" PRIu64, first, first + n - 1);
	return buf;
}

/* Report pages [i0, i1) of extent x as bad. */
static void fk_bad_run(struct fsck *fk, const struct fk_swapext *x, const struct fk_file *f,
		       uint64_t i0, uint64_t i1, bool zeros, uint64_t *listed)
{
	char d[1200], pages[48], frames[48];
	bool many = i1 - i0 > 1;

	if ((*listed)++ >= 20 && !fk->verbose) {
		fk->problems++;
		return;
	}
	fk_problem(fk, false, "%s page%s %s: checksum mismatch in frame%s %s of %s%s",
		   fk_obj_desc(fk, x->obj, d, sizeof(d)), many ? "s" : "",
		   fk_range(pages, sizeof(pages), x->first + i0, i1 - i0), many ? "s" : "",
		   fk_range(frames, sizeof(frames), x->frame + i0, i1 - i0), f->d.name,
		   zeros ? " (it reads as zeros: discarded, or never written)" : "");
}

int fk_verify_checksums(struct fsck *fk)
{
	uint8_t *buf = NULL;
	uint64_t total = 0, done = 0, listed = 0;
	char d[1200];
	int rc = 0;

	if (fk->nsx == 0)
		return 0;
	if (posix_memalign((void **)&buf, PFS_PAGE_SIZE, PMAP_SWAP_RUN_MAX * PFS_PAGE_SIZE) != 0)
		return -ENOMEM;
	qsort(fk->sx, fk->nsx, sizeof(*fk->sx), fk_cmp_sx);
	for (size_t i = 0; i < fk->nsx; i++)
		total += fk->sx[i].npages;
	for (size_t i = 0; i < fk->nsx; i++) {
		const struct fk_swapext *x = &fk->sx[i];
		struct pmap_extent e;
		struct fk_file *f = NULL;

		fk_progress(fk, "verifying checksums", done, total);
		done += x->npages;
		for (unsigned j = 0; j < fk->nfiles; j++)
			if (x->frame >= fk->files[j].d.first_frame &&
			    x->frame - fk->files[j].d.first_frame < fk->files[j].d.max_frames)
				f = &fk->files[j];
		if (!f || f->fd < 0)
			continue; /* reported with the swap files */
		/* The sums live in the record: look it up again (the walk kept only the shape). */
		if ((rc = pmap_lookup(fk->txn, x->obj, x->first, &e)) < 0 || e.kind != PMAP_SWAP ||
		    e.first != x->first || e.npages != x->npages) {
			rc = rc < 0 ? rc : -EIO;
			break;
		}
		size_t len = (size_t)x->npages * PFS_PAGE_SIZE, got = 0;
		off_t off = (off_t)((x->frame - f->d.first_frame) * PFS_PAGE_SIZE);
		while (got < len) {
			ssize_t n = pread(f->fd, buf + got, len - got, off + (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fk_problem(fk, false, "%s pages %" PRIu64 "..%" PRIu64 ": frames %" PRIu64 "..%"
					   PRIu64 " cannot be read from %s: %s",
					   fk_obj_desc(fk, x->obj, d, sizeof(d)), x->first, x->first + x->npages - 1,
					   x->frame, x->frame + x->npages - 1, f->d.name,
					   n < 0 ? strerror(errno) : "past the end of the file");
				break;
			}
			got += (size_t)n;
		}
		posix_fadvise(f->fd, off, (off_t)len, POSIX_FADV_DONTNEED);
		if (got < len)
			continue;
		for (uint64_t p = 0; p < x->npages;) {
			if (swap_checksum(buf + p * PFS_PAGE_SIZE) == pmap_sum_at(e.sums, p)) {
				p++;
				fk->n_verified++;
				continue;
			}
			uint64_t q = p;
			bool zeros = true;
			while (q < x->npages && swap_checksum(buf + q * PFS_PAGE_SIZE) != pmap_sum_at(e.sums, q)) {
				zeros &= fk_all_zero(buf + q * PFS_PAGE_SIZE, PFS_PAGE_SIZE);
				q++;
			}
			fk_bad_run(fk, x, f, p, q, zeros, &listed);
			p = q;
		}
	}
	fk_progress_clear(fk);
	if (listed > 20 && !fk->verbose)
		fk_note(fk, true, "... and %" PRIu64 " more runs of bad checksums (pagerctl fsck -v lists them all)",
			listed - 20);
	free(buf);
	return rc;
}
