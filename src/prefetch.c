/*
 * prefetch.c: the store's own read-ahead for objects paged in sequentially.
 *
 * Why: the kernel asks a FUSE mount for at most one readahead window at a
 * time (readahead=, 1 MiB by default), and asks for the next only when the
 * faulting process reaches it. Each window then costs a swap read plus the
 * reply, one after the other, and the disk idles while the reply is copied.
 * When an object is read in order, this file reads the next windows from swap
 * into a few buffers of its own while the kernel is still busy with the
 * current one; the page-in that comes for them is then a copy.
 *
 * What it must never do: hand out bytes the object's map does not hold now.
 * It never has to be told about page-outs, commits or freed frames, because
 * a buffered page is served only if the checksum the map records for that
 * page now is the checksum of the buffered bytes, verified when they were
 * read: exactly the test a read from disk must pass. A page rewritten since
 * (a new frame, a new checksum) or a frame reused and rewritten during the
 * read fails it and is read from disk as usual. Nothing here reports errors:
 * a page that failed to read or verify is simply not buffered, and the
 * page-in that wants it meets the error itself.
 *
 * Slot stages, under pf->lock:
 *   EMPTY    free to take
 *   FILLING  taken by the prefetch thread, which is resolving the map; not
 *            findable yet (a page-in reads from disk meanwhile)
 *   LOADING  the read is in flight; a page-in that needs it waits for it
 *   READY    readable; pinned (pins > 0) while a page-in copies from it, and
 *            never reused while pinned
 *   RETIRED  its reader's ring died during its read: never used again
 *            (see pf_main)
 */
#include <stdlib.h>
#include <string.h>
#include "iobuf.h"
#include "log.h"
#include "store_internal.h"

#define PF_CHUNK_PAGES STORE_IO_MAX_PAGES
#define PF_CHUNK_BYTES ((size_t)PF_CHUNK_PAGES * PFS_PAGE_SIZE)
#define PF_QUEUE 32
#define PF_READERS 2
#define PF_STACK_BYTES (256u << 10)

enum pf_state { PF_EMPTY, PF_FILLING, PF_LOADING, PF_READY, PF_RETIRED };

struct pf_slot {
	enum pf_state state;
	bool stolen;         /* FILLING, and a page-in went to disk for it: drop it */
	unsigned pins;
	uint64_t obj, first; /* object pages [first, first + npages) */
	uint32_t npages;
	uint64_t stamp;      /* last use, for reuse; 0: all taken, reuse first */
	uint8_t *buf;        /* npages pages in the ring's arena */
	uint8_t sums[STORE_IO_MAX_PAGES * 8]; /* each page's checksum, packed LE as in maps */
	uint8_t ok[STORE_IO_MAX_PAGES]; /* 1: page read and verified (swap_io.page_ok) */
};

struct pf_req {
	uint64_t obj, first;
	uint32_t npages;
};

struct store_prefetch;

/* One thread reading ahead, with its own ring: two keep two reads at the disk. */
struct pf_reader {
	struct store_prefetch *pf;
	pthread_t thread;
	struct swap_ring *ring;
};

struct store_prefetch {
	struct store *s;
	pthread_mutex_t lock;
	pthread_cond_t work, loaded;
	bool stop;
	unsigned depth; /* windows read ahead of a sequential reader */
	struct pf_reader readers[PF_READERS];
	unsigned nreaders;  /* started */
	struct iobuf arena; /* the slots' buffers */
	unsigned nslots;
	struct pf_slot *slots;
	struct pf_req q[PF_QUEUE];
	unsigned qhead, qlen;
	uint64_t clock;
	atomic_uint_fast64_t pages_read, pages_used;
};

/* The slot holding (or about to hold) page of obj, or NULL; pf->lock held. */
static struct pf_slot *pf_find(struct store_prefetch *pf, uint64_t obj, uint64_t page)
{
	for (unsigned i = 0; i < pf->nslots; i++) {
		struct pf_slot *sl = &pf->slots[i];
		if (sl->state != PF_EMPTY && sl->state != PF_RETIRED && sl->obj == obj &&
		    page >= sl->first && page - sl->first < sl->npages)
			return sl;
	}
	return NULL;
}

/*
 * A page-in is about to read [page, page + npages) of obj itself: queued
 * reads lose those pages (a read left with none is dropped), so the disk
 * reads nothing twice.
 */
static void pf_unqueue(struct store_prefetch *pf, uint64_t obj, uint64_t page, uint32_t npages)
{
	for (unsigned i = 0; i < pf->qlen; i++) {
		struct pf_req *rq = &pf->q[(pf->qhead + i) % PF_QUEUE];
		uint64_t end = rq->first + rq->npages;
		if (rq->obj != obj || page > rq->first || page + npages <= rq->first)
			continue;
		rq->npages = page + npages >= end ? 0 : (uint32_t)(end - (page + npages));
		rq->first = page + npages;
	}
}

/* An EMPTY slot, else the least recently used READY one nobody holds; pf->lock held. */
static struct pf_slot *pf_victim(struct store_prefetch *pf)
{
	struct pf_slot *best = NULL;

	for (unsigned i = 0; i < pf->nslots; i++) {
		struct pf_slot *sl = &pf->slots[i];
		if (sl->state == PF_EMPTY)
			return sl;
		if (sl->state == PF_READY && !sl->pins && (!best || sl->stamp < best->stamp))
			best = sl;
	}
	return best;
}

uint32_t store_prefetch_take(struct store_prefetch *pf, uint64_t obj, uint64_t page,
			     uint32_t npages, const uint8_t *sums, void *dst)
{
	struct pf_slot *sl;
	uint32_t off, n = 0;

	pthread_mutex_lock(&pf->lock);
	while ((sl = pf_find(pf, obj, page)) && sl->state == PF_LOADING)
		pthread_cond_wait(&pf->loaded, &pf->lock);
	if (!sl || sl->state == PF_FILLING) {
		/*
		 * Not waited for: the reader is resolving the map, which needs the
		 * object's lock that this page-in holds shared, and a writer queued
		 * on it could keep the reader out. Read it here, and drop the slot
		 * if this page-in reads all of it anyway.
		 */
		if (sl && page <= sl->first && page + npages >= sl->first + sl->npages)
			sl->stolen = true;
		pf_unqueue(pf, obj, page, npages);
		pthread_mutex_unlock(&pf->lock);
		return 0;
	}
	sl->pins++;
	pthread_mutex_unlock(&pf->lock);

	off = (uint32_t)(page - sl->first);
	while (n < npages && off + n < sl->npages && sl->ok[off + n] &&
	       memcmp(sl->sums + 8 * (size_t)(off + n), sums + 8 * (size_t)n, 8) == 0)
		n++;
	if (n)
		memcpy(dst, sl->buf + (size_t)off * PFS_PAGE_SIZE, (size_t)n * PFS_PAGE_SIZE);

	pthread_mutex_lock(&pf->lock);
	sl->pins--;
	/* The kernel caches what it asked for: a slot read to its end is spent. */
	sl->stamp = off + n == sl->npages ? 0 : ++pf->clock;
	pthread_mutex_unlock(&pf->lock);
	atomic_fetch_add_explicit(&pf->pages_used, n, memory_order_relaxed);
	return n;
}

void store_prefetch_note(struct store_prefetch *pf, struct mobj *m, uint64_t first,
			 uint32_t npages)
{
	uint64_t end = first + npages, reach = (uint64_t)pf->depth * PF_CHUNK_PAGES, want;

	pthread_mutex_lock(&pf->lock);
	/*
	 * Sequential: this read starts near where the object's furthest read
	 * ended. Near, not at: the kernel keeps two windows in flight and the
	 * workers may finish them in either order, so a read up to two windows
	 * behind is still the stream's. A first read only starts a stream:
	 * reading the head of a file is no promise to read on.
	 */
	if (!m->pf_next || first + 2 * (uint64_t)npages < m->pf_next ||
	    first > m->pf_next + npages) {
		m->pf_next = end;
		m->pf_ahead = 0;
		pthread_mutex_unlock(&pf->lock);
		return;
	}
	m->pf_next = PFS_MAX(m->pf_next, end);
	want = m->pf_next + reach;
	if (m->pf_ahead < m->pf_next)
		m->pf_ahead = m->pf_next; /* what has been asked for needs no read-ahead */
	while (m->pf_ahead < want && pf->qlen < PF_QUEUE) {
		pf->q[(pf->qhead + pf->qlen++) % PF_QUEUE] =
			(struct pf_req){ .obj = m->id, .first = m->pf_ahead, .npages = PF_CHUNK_PAGES };
		m->pf_ahead += PF_CHUNK_PAGES;
	}
	pthread_cond_broadcast(&pf->work); /* several windows: every reader */
	pthread_mutex_unlock(&pf->lock);
}

/*
 * Look up the swap runs of the request under the object's lock, filling the
 * slot's checksums and the reads to issue, each checked page by page into
 * the slot's ok bytes. Returns the number of runs; pages that are not in
 * swap (zeros, a backing file) are simply not read, and stay not ok.
 */
static unsigned pf_resolve(struct store *s, const struct pf_req *rq, struct pf_slot *sl,
			   struct swap_io *ios)
{
	struct mobj *m = store_mobj_get(s, rq->obj);
	uint64_t end = rq->first + rq->npages;
	struct cat_txn *txn;
	unsigned nios = 0;

	memset(sl->ok, 0, sizeof(sl->ok));
	if (!m)
		return 0;
	pthread_rwlock_rdlock(&m->lock);
	if (cat_read_begin(s->cat, &txn) < 0) {
		pthread_rwlock_unlock(&m->lock);
		return 0;
	}
	for (uint64_t pos = rq->first; pos < end;) {
		struct pmap_extent x;
		size_t at = (size_t)(pos - rq->first);

		if (store_resolve_locked(m, txn, pos, end, &x) < 0)
			break;
		if (x.kind == PMAP_SWAP && x.sums) {
			memcpy(sl->sums + 8 * at, x.sums, 8 * (size_t)x.npages);
			ios[nios++] = (struct swap_io){ .frame = x.base, .nframes = (uint32_t)x.npages,
							.buf = sl->buf + at * PFS_PAGE_SIZE,
							.sums = sl->sums + 8 * at, .page_ok = sl->ok + at };
		}
		pos = pmap_extent_end(&x);
	}
	cat_read_end(txn);
	pthread_rwlock_unlock(&m->lock);
	return nios;
}

/* The pages the runs read whole and found matching their checksums. */
static uint64_t pf_count_ok(const struct pf_slot *sl)
{
	uint64_t good = 0;

	for (uint32_t i = 0; i < sl->npages; i++)
		good += sl->ok[i];
	return good;
}

static void *pf_main(void *arg)
{
	struct pf_reader *rd = arg;
	struct store_prefetch *pf = rd->pf;
	struct swap_io ios[STORE_IO_MAX_PAGES];

	pthread_mutex_lock(&pf->lock);
	while (!pf->stop) {
		struct pf_req rq;
		struct pf_slot *sl;
		unsigned nios;

		if (!pf->qlen) {
			pthread_cond_wait(&pf->work, &pf->lock);
			continue;
		}
		rq = pf->q[pf->qhead];
		pf->qhead = (pf->qhead + 1) % PF_QUEUE;
		pf->qlen--;
		if (!rq.npages || pf_find(pf, rq.obj, rq.first) || !(sl = pf_victim(pf)))
			continue;
		sl->state = PF_FILLING;
		sl->stolen = false;
		sl->obj = rq.obj;
		sl->first = rq.first;
		sl->npages = rq.npages;
		pthread_mutex_unlock(&pf->lock);

		nios = pf_resolve(pf->s, &rq, sl, ios);

		pthread_mutex_lock(&pf->lock);
		if (!nios || sl->stolen) {
			sl->state = PF_EMPTY;
			continue;
		}
		sl->state = PF_LOADING;
		pthread_mutex_unlock(&pf->lock);

		/*
		 * Errors are the page-in's to meet and report: a run that failed
		 * leaves its pages not ok. But a ring that died may still land
		 * reads it gave up on in this buffer later: retire the buffer and
		 * this reader for good rather than hand out bytes that could
		 * change under a verified checksum. Page-ins go on reading from
		 * disk, and the other reader goes on reading ahead.
		 */
		if (swap_read(rd->ring, ios, nios) < 0 && swap_ring_error(rd->ring)) {
			pthread_mutex_lock(&pf->lock);
			sl->state = PF_RETIRED;
			pthread_cond_broadcast(&pf->loaded);
			break;
		}
		uint64_t good = pf_count_ok(sl);

		atomic_fetch_add_explicit(&pf->pages_read, good, memory_order_relaxed);

		pthread_mutex_lock(&pf->lock);
		sl->state = PF_READY;
		sl->stamp = ++pf->clock;
		pthread_cond_broadcast(&pf->loaded);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

static void pf_free(struct store_prefetch *pf)
{
	for (unsigned i = 0; i < PF_READERS; i++)
		swap_ring_close(pf->readers[i].ring);
	iobuf_unmap(&pf->arena);
	free(pf->slots);
	free(pf);
}

int store_prefetch_start(struct store *s, uint64_t ahead_bytes, struct store_prefetch **out)
{
	struct store_prefetch *pf;
	pthread_attr_t attr;
	int rc = 0;

	*out = NULL;
	if (!ahead_bytes)
		return 0;
	if (ahead_bytes > STORE_PREFETCH_MAX_BYTES)
		return -EINVAL;
	if (!(pf = calloc(1, sizeof(*pf))))
		return -ENOMEM;
	pf->s = s;
	pf->depth = (unsigned)PFS_MAX((ahead_bytes + PF_CHUNK_BYTES - 1) / PF_CHUNK_BYTES, 1);
	pf->nslots = 2 * pf->depth; /* a reader's windows ahead, and one more stream's */
	if (!(pf->slots = calloc(pf->nslots, sizeof(*pf->slots))) ||
	    (rc = iobuf_map(pf->nslots * PF_CHUNK_BYTES, &pf->arena)) < 0) {
		pf_free(pf);
		return rc < 0 ? rc : -ENOMEM;
	}
	for (unsigned i = 0; i < pf->nslots; i++)
		pf->slots[i].buf = (uint8_t *)pf->arena.mem + i * PF_CHUNK_BYTES;
	for (unsigned i = 0; i < PF_READERS; i++) {
		pf->readers[i].pf = pf;
		if ((rc = swap_ring_open_depth(s->swap, 0, 8, &pf->readers[i].ring)) < 0) {
			pf_free(pf);
			return rc;
		}
	}
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->work, NULL);
	pthread_cond_init(&pf->loaded, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PF_STACK_BYTES); /* locked under mlockall */
	for (pf->nreaders = 0; pf->nreaders < PF_READERS; pf->nreaders++) {
		struct pf_reader *rd = &pf->readers[pf->nreaders];
		if ((rc = -pthread_create(&rd->thread, &attr, pf_main, rd)) < 0)
			break;
	}
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		store_prefetch_stop(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

void store_prefetch_stop(struct store_prefetch *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->lock);
	for (unsigned i = 0; i < pf->nreaders; i++)
		pthread_join(pf->readers[i].thread, NULL);
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->work);
	pthread_cond_destroy(&pf->loaded);
	pf_free(pf);
}

void store_prefetch_counts(struct store_prefetch *pf, uint64_t *read, uint64_t *used)
{
	*read = pf ? atomic_load(&pf->pages_read) : 0;
	*used = pf ? atomic_load(&pf->pages_used) : 0;
}
