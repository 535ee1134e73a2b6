/*
 * touch: the timed inner loop of the pagerfs benchmark (bench/run-bench).
 *
 * One mode per workload. Each maps a file, does any untimed preparation,
 * optionally touches and frees anonymous memory (--pretouch; run-bench
 * instead runs `touch pretouch` before its cache drop, see bench/README.md),
 * then times ONLY the loop with CLOCK_MONOTONIC and prints one line of
 * key=value pairs on stdout.
 *
 * Every file it reads carries a known pattern (written by `touch setup`), and
 * every page it touches is checked against it, so a system that returns zero
 * or misplaced pages fails loudly (exit 1) instead of looking fast. The timed
 * loop reads one 8-byte word per page (the page's head, which encodes the page
 * index and a generation); the rest of each touched page is checked after the
 * clock stops, so verification does not inflate the timing.
 *
 * It must never write to a file except in `setup`, `dirty-msync` and `clone`
 * (the copy), and must never leave a wrong result unreported.
 *
 * Exit status: 0 ok, 1 failure (I/O error, SIGBUS, pattern mismatch), 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "pagerfs" in ASCII; head word of page i at generation g is MAGIC ^ g<<48 ^ i. */
#define PAT_MAGIC UINT64_C(0x0070616765726673)
#define PAT_DEFAULT_SEED UINT64_C(0x5eed)
#define IO_CHUNK_BYTES (1u << 20)

struct opts {
	const char *mode;
	const char *path;
	const char *dst;       /* clone destination */
	uint64_t size_bytes;   /* 0: the file's size */
	uint64_t npages_touch; /* madv-random: pages to fault; 0: default */
	uint64_t seed;
	uint64_t gen;
	uint64_t pretouch_bytes;
	const char *via;       /* setup: write | mmap */
	const char *copy_with; /* clone: copy_file_range | cp */
};

static size_t page_bytes;
static size_t words_per_page;

/* For the SIGBUS handler: where the mapping under test starts. */
static volatile uintptr_t sigbus_base;

static _Noreturn void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fputs("touch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static _Noreturn void die_errno(const char *what, const char *path)
{
	die("%s %s: %s", what, path ? path : "", strerror(errno));
}

/* A short object or a failed page-in shows up as SIGBUS: say which page. */
static _Noreturn void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	char msg[160];
	uintptr_t addr = (uintptr_t)si->si_addr;
	long page = sigbus_base && addr >= sigbus_base ?
		(long)((addr - sigbus_base) / page_bytes) : -1;
	int n = snprintf(msg, sizeof(msg),
			 "touch: SIGBUS at page %ld (object shorter than its size, or a failed page-in)\n",
			 page);

	(void)sig;
	(void)ctx;
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(1);
}

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static inline uint64_t pat_head(uint64_t gen, uint64_t page)
{
	return PAT_MAGIC ^ (gen << 48) ^ page;
}

/* Word j (1 .. words_per_page-1) of page `page`: independent of the generation. */
static inline uint64_t pat_word(uint64_t page, uint64_t j)
{
	return splitmix64(page * words_per_page + j);
}

static void pat_fill_page(uint64_t *w, uint64_t gen, uint64_t page)
{
	w[0] = pat_head(gen, page);
	for (size_t j = 1; j < words_per_page; j++)
		w[j] = pat_word(page, j);
}

static _Noreturn void mismatch(const char *what, uint64_t page, uint64_t word,
		     uint64_t want, uint64_t got)
{
	die("MISMATCH %s: page %" PRIu64 " word %" PRIu64 ": expected 0x%016" PRIx64
	    " got 0x%016" PRIx64 "%s", what, page, word, want, got,
	    got == 0 ? " (zero page: data lost or never paged in)" : "");
}

/*
 * Untimed check of pages already touched: every word but the head (which the
 * timed loop checked). Catches short page-ins (a zero-filled tail) and pages
 * whose head is right but whose body is someone else's.
 */
static void verify_bodies(const unsigned char *base, const uint64_t *order,
			  uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = order ? order[k] : k;
		const uint64_t *w = (const uint64_t *)(base + i * page_bytes);

		for (size_t j = 1; j < words_per_page; j++)
			if (w[j] != pat_word(i, j))
				mismatch("body", i, j, pat_word(i, j), w[j]);
	}
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'T': case 't': shift = 40; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'K': case 'k': shift = 10; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Touch (write) and free anonymous memory so every run starts from the same VM state. */
static void pretouch(uint64_t bytes)
{
	unsigned char *p;

	if (!bytes)
		return;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die_errno("mmap pretouch", NULL);
	for (uint64_t off = 0; off < bytes; off += page_bytes)
		p[off] = 1;
	if (munmap(p, bytes))
		die_errno("munmap pretouch", NULL);
}

static uint64_t *shuffled_pages(uint64_t npages, uint64_t seed)
{
	uint64_t *order = malloc(npages * sizeof(*order));
	uint64_t state = seed;

	if (!order)
		die("out of memory for %" PRIu64 " page indices", npages);
	for (uint64_t i = 0; i < npages; i++)
		order[i] = i;
	for (uint64_t i = npages - 1; i > 0; i--) {
		uint64_t j = splitmix64(state++) % (i + 1);
		uint64_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	return order;
}

struct mapping {
	int fd;
	unsigned char *base;
	uint64_t bytes;
	uint64_t npages;
};

static void map_file(struct mapping *m, const char *path, uint64_t size_bytes,
		     bool writable)
{
	struct stat st;
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);

	m->fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (m->fd < 0)
		die_errno("open", path);
	if (fstat(m->fd, &st))
		die_errno("fstat", path);
	m->bytes = size_bytes ? size_bytes : (uint64_t)st.st_size;
	if (m->bytes > (uint64_t)st.st_size)
		die("%s: size %" PRIu64 " is larger than the file (%" PRIu64 " bytes)",
		    path, m->bytes, (uint64_t)st.st_size);
	m->bytes -= m->bytes % page_bytes;
	if (!m->bytes)
		die("%s: less than one page to touch", path);
	m->npages = m->bytes / page_bytes;
	m->base = mmap(NULL, m->bytes, prot, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED)
		die_errno("mmap", path);
	sigbus_base = (uintptr_t)m->base;
}

static void unmap_file(struct mapping *m)
{
	sigbus_base = 0;
	if (munmap(m->base, m->bytes))
		die_errno("munmap", NULL);
	if (close(m->fd))
		die_errno("close", NULL);
}

struct result {
	uint64_t bytes;
	uint64_t pages;
	double seconds;
	long majflt;
	long minflt;
	double user_s; /* CPU time of the timed part, user and system */
	double sys_s;
};

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Fault counts and CPU time between two getrusage() calls. */
static void result_usage(struct result *r, const struct rusage *ru0,
			 const struct rusage *ru1)
{
	r->majflt = ru1->ru_majflt - ru0->ru_majflt;
	r->minflt = ru1->ru_minflt - ru0->ru_minflt;
	r->user_s = tv_seconds(ru1->ru_utime) - tv_seconds(ru0->ru_utime);
	r->sys_s = tv_seconds(ru1->ru_stime) - tv_seconds(ru0->ru_stime);
}

static void result_print(const char *mode, const struct result *r,
			 const char *extra)
{
	double s = r->seconds > 0 ? r->seconds : 1e-9;

	printf("mode=%s bytes=%" PRIu64 " pages=%" PRIu64 " seconds=%.6f"
	       " gib_per_s=%.4f pages_per_s=%.1f majflt=%ld minflt=%ld"
	       " user_s=%.3f sys_s=%.3f%s%s\n",
	       mode, r->bytes, r->pages, r->seconds,
	       (double)r->bytes / s / (double)(1u << 30), (double)r->pages / s,
	       r->majflt, r->minflt, r->user_s, r->sys_s,
	       extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}

/*
 * The timed read loop: read the head word of each page in `order` (or 0..n-1)
 * and compare it with the pattern. Counting mismatches (not branching out)
 * keeps the loop the same shape whether the data is right or not.
 */
static void timed_read(const struct mapping *m, const uint64_t *order,
		       uint64_t n, uint64_t gen, struct result *r)
{
	struct rusage ru0, ru1;
	uint64_t bad = 0, first_bad = 0, first_got = 0;
	double t0, t1;

	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_seconds();
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = order ? order[k] : k;
		uint64_t got = *(volatile const uint64_t *)(m->base + i * page_bytes);

		if (got != pat_head(gen, i) && bad++ == 0) {
			first_bad = i;
			first_got = got;
		}
	}
	t1 = now_seconds();
	getrusage(RUSAGE_SELF, &ru1);
	if (bad) {
		fprintf(stderr, "touch: %" PRIu64 " of %" PRIu64 " pages wrong\n", bad, n);
		mismatch("head", first_bad, 0, pat_head(gen, first_bad), first_got);
	}
	r->bytes = n * page_bytes;
	r->pages = n;
	r->seconds = t1 - t0;
	result_usage(r, &ru0, &ru1);
}

/* seq, rand, madv-random: cold first touch of a mapping. */
static void mode_touch(const struct opts *o)
{
	struct mapping m;
	struct result r;
	uint64_t *order = NULL;
	uint64_t n;
	bool madv = !strcmp(o->mode, "madv-random");

	map_file(&m, o->path, o->size_bytes, false);
	n = m.npages;
	if (strcmp(o->mode, "seq"))
		order = shuffled_pages(m.npages, o->seed);
	if (madv) {
		if (madvise(m.base, m.bytes, MADV_RANDOM))
			die_errno("madvise MADV_RANDOM", o->path);
		n = o->npages_touch ? o->npages_touch : 16384;
		if (n > m.npages)
			n = m.npages;
	}
	pretouch(o->pretouch_bytes);
	timed_read(&m, order, n, o->gen, &r);
	verify_bodies(m.base, order, n);
	if (madv) {
		char extra[64];

		snprintf(extra, sizeof(extra), "faults_per_s=%.1f",
			 r.seconds > 0 ? (double)n / r.seconds : 0.0);
		result_print(o->mode, &r, extra);
	} else {
		result_print(o->mode, &r, NULL);
	}
	unmap_file(&m);
	free(order);
}

/*
 * warm: touch every page once (untimed) through one open and mapping, close
 * it, then open and map again and time a second touch. The pages are in the
 * kernel's cache but not in this mapping's page tables, so the timed loop
 * measures minor faults (fault-around from the page cache), not TLB hits; the
 * re-open also shows whether the file system keeps its cache across opens.
 */
static void mode_warm(const struct opts *o)
{
	struct mapping m;
	struct result r;

	map_file(&m, o->path, o->size_bytes, false);
	timed_read(&m, NULL, m.npages, o->gen, &r);	/* untimed: result dropped */
	unmap_file(&m);
	map_file(&m, o->path, o->size_bytes, false);
	pretouch(o->pretouch_bytes);
	timed_read(&m, NULL, m.npages, o->gen, &r);
	verify_bodies(m.base, NULL, m.npages);
	result_print(o->mode, &r, NULL);
	unmap_file(&m);
}

/*
 * dirty-msync: read every page in (untimed: page-in is measured elsewhere),
 * then time writing generation `gen` into every page's head through
 * MAP_SHARED plus msync(MS_SYNC) of the whole range.
 */
static void mode_dirty_msync(const struct opts *o)
{
	struct mapping m;
	struct result r;
	struct rusage ru0, ru1;
	double t0, t_dirty, t1;
	long prep_majflt;
	char extra[80];

	map_file(&m, o->path, o->size_bytes, true);
	getrusage(RUSAGE_SELF, &ru0);
	verify_bodies(m.base, NULL, m.npages);
	getrusage(RUSAGE_SELF, &ru1);
	prep_majflt = ru1.ru_majflt - ru0.ru_majflt;
	pretouch(o->pretouch_bytes);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_seconds();
	for (uint64_t i = 0; i < m.npages; i++)
		*(volatile uint64_t *)(m.base + i * page_bytes) = pat_head(o->gen, i);
	t_dirty = now_seconds();
	if (msync(m.base, m.bytes, MS_SYNC))
		die_errno("msync MS_SYNC", o->path);
	t1 = now_seconds();
	getrusage(RUSAGE_SELF, &ru1);
	/* The two halves: the write faults alone, and the write-back msync waits for. */
	snprintf(extra, sizeof(extra), "prep_majflt=%ld dirty_s=%.6f", prep_majflt, t_dirty - t0);
	r.bytes = m.bytes;
	r.pages = m.npages;
	r.seconds = t1 - t0;
	result_usage(&r, &ru0, &ru1);
	result_print(o->mode, &r, extra);
	unmap_file(&m);
}

/* Read `path` with pread and compare every word with the pattern at `gen`. */
static uint64_t check_file(const char *path, uint64_t size_bytes, uint64_t gen)
{
	struct stat st;
	uint64_t bytes, off;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die_errno("open", path);
	if (fstat(fd, &st))
		die_errno("fstat", path);
	bytes = size_bytes ? size_bytes : (uint64_t)st.st_size;
	if ((uint64_t)st.st_size < bytes)
		die("%s: file is %" PRIu64 " bytes, expected %" PRIu64,
		    path, (uint64_t)st.st_size, bytes);
	bytes -= bytes % page_bytes;
	buf = aligned_alloc(page_bytes, IO_CHUNK_BYTES);
	if (!buf)
		die("out of memory");
	for (off = 0; off < bytes;) {
		size_t want = bytes - off < IO_CHUNK_BYTES ? bytes - off : IO_CHUNK_BYTES;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got < 0)
			die_errno("pread", path);
		if (got == 0)
			die("%s: unexpected end of file at %" PRIu64, path, off);
		if ((size_t)got % page_bytes)
			got -= got % (ssize_t)page_bytes; /* re-read the partial page */
		if (got == 0)
			die("%s: short read of less than a page at %" PRIu64, path, off);
		for (size_t p = 0; p < (size_t)got / page_bytes; p++) {
			const uint64_t *w = (const uint64_t *)(buf + p * page_bytes);
			uint64_t i = off / page_bytes + p;

			if (w[0] != pat_head(gen, i))
				mismatch("check", i, 0, pat_head(gen, i), w[0]);
			for (size_t j = 1; j < words_per_page; j++)
				if (w[j] != pat_word(i, j))
					mismatch("check", i, j, pat_word(i, j), w[j]);
		}
		off += (uint64_t)got;
	}
	free(buf);
	close(fd);
	return bytes;
}

static void mode_check(const struct opts *o)
{
	struct result r = { 0 };
	double t0 = now_seconds();

	r.bytes = check_file(o->path, o->size_bytes, o->gen);
	r.pages = r.bytes / page_bytes;
	r.seconds = now_seconds() - t0;
	result_print("check", &r, "verified=all");
}

/* setup: create `path` holding `size` bytes of the pattern at generation `gen`. */
static void mode_setup(const struct opts *o)
{
	uint64_t npages = o->size_bytes / page_bytes;
	struct result r = { 0 };
	double t0 = now_seconds();
	int fd;

	if (!o->size_bytes || o->size_bytes % page_bytes)
		die("setup needs --size, a multiple of the page size");
	fd = open(o->path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		die_errno("create", o->path);
	if (!strcmp(o->via, "mmap")) {
		unsigned char *base;

		if (ftruncate(fd, (off_t)o->size_bytes))
			die_errno("ftruncate", o->path);
		base = mmap(NULL, o->size_bytes, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
		if (base == MAP_FAILED)
			die_errno("mmap", o->path);
		sigbus_base = (uintptr_t)base;
		for (uint64_t i = 0; i < npages; i++)
			pat_fill_page((uint64_t *)(base + i * page_bytes), o->gen, i);
		if (msync(base, o->size_bytes, MS_SYNC))
			die_errno("msync MS_SYNC", o->path);
		sigbus_base = 0;
		if (munmap(base, o->size_bytes))
			die_errno("munmap", o->path);
	} else if (!strcmp(o->via, "write")) {
		unsigned char *buf = aligned_alloc(page_bytes, IO_CHUNK_BYTES);
		uint64_t per_chunk = IO_CHUNK_BYTES / page_bytes;

		if (!buf)
			die("out of memory");
		for (uint64_t i = 0; i < npages; i += per_chunk) {
			uint64_t n = npages - i < per_chunk ? npages - i : per_chunk;
			size_t len = (size_t)(n * page_bytes);
			ssize_t done;

			for (uint64_t p = 0; p < n; p++)
				pat_fill_page((uint64_t *)(buf + p * page_bytes), o->gen, i + p);
			done = pwrite(fd, buf, len, (off_t)(i * page_bytes));
			if (done < 0)
				die_errno("pwrite", o->path);
			if ((size_t)done != len)
				die("%s: short write", o->path);
		}
		free(buf);
		if (fsync(fd))
			die_errno("fsync", o->path);
	} else {
		die("--via must be write or mmap");
	}
	if (close(fd))
		die_errno("close", o->path);
	r.bytes = o->size_bytes;
	r.pages = npages;
	r.seconds = now_seconds() - t0;
	result_print("setup", &r, NULL);
}

static void copy_with_cfr(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY);
	int out;
	struct stat st;
	uint64_t left;

	if (in < 0)
		die_errno("open", src);
	if (fstat(in, &st))
		die_errno("fstat", src);
	out = open(dst, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (out < 0)
		die_errno("create", dst);
	for (left = (uint64_t)st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, left, 0);

		if (n < 0)
			die_errno("copy_file_range to", dst);
		if (n == 0)
			die("copy_file_range: %s ended early", src);
		left -= (uint64_t)n;
	}
	if (close(out))
		die_errno("close", dst);
	close(in);
}

static void copy_with_cp(const char *src, const char *dst)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die_errno("fork", NULL);
	if (pid == 0) {
		execlp("cp", "cp", "--", src, dst, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die_errno("waitpid", NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("cp %s %s failed (status 0x%x)", src, dst, status);
}

/*
 * clone: time one whole-file copy of `path` to a new file `dst`, then verify
 * the copy (untimed). copy_file_range: from open of the source to close of the
 * copy. cp: fork to exit of `cp SRC DST` (coreutils), i.e. what a user types.
 */
static void mode_clone(const struct opts *o)
{
	struct result r = { 0 };
	char extra[64];
	double t0;

	if (!o->dst)
		die("clone needs SRC and DST");
	if (strcmp(o->copy_with, "copy_file_range") && strcmp(o->copy_with, "cp"))
		die("--copy-with must be copy_file_range or cp");
	t0 = now_seconds();
	if (!strcmp(o->copy_with, "cp"))
		copy_with_cp(o->path, o->dst);
	else
		copy_with_cfr(o->path, o->dst);
	r.seconds = now_seconds() - t0;
	r.bytes = check_file(o->dst, o->size_bytes, o->gen);
	r.pages = r.bytes / page_bytes;
	snprintf(extra, sizeof(extra), "copy_with=%s verified=all", o->copy_with);
	result_print("clone", &r, extra);
}

static void mode_pretouch(const struct opts *o)
{
	struct result r = { 0 };
	double t0 = now_seconds();

	pretouch(o->pretouch_bytes ? o->pretouch_bytes : o->size_bytes);
	r.bytes = o->pretouch_bytes ? o->pretouch_bytes : o->size_bytes;
	r.pages = r.bytes / page_bytes;
	r.seconds = now_seconds() - t0;
	result_print("pretouch", &r, NULL);
}

static void usage(FILE *f)
{
	fputs(
"usage: touch MODE [OPTIONS] FILE [DST]\n"
"modes:\n"
"  setup        create FILE with --size bytes of the pattern (--via write|mmap)\n"
"  seq          time a sequential first touch, one word per page\n"
"  rand         same, pages in a fixed-seed shuffled order\n"
"  madv-random  MADV_RANDOM, time --pages single-page faults in shuffled order\n"
"  warm         touch once (untimed), re-open and re-map, time the re-touch\n"
"  dirty-msync  read in (untimed); time dirtying every page + msync(MS_SYNC)\n"
"  clone        time copying FILE to DST (--copy-with copy_file_range|cp)\n"
"  check        pread FILE and verify every word of the pattern\n"
"  pretouch     touch and free --size bytes of anonymous memory\n"
"options:\n"
"  --size SIZE       bytes to use (K/M/G/T suffixes; default: the file's size)\n"
"  --pages N         madv-random: pages to fault (default 16384)\n"
"  --seed N          shuffle seed (default 0x5eed)\n"
"  --gen N           pattern generation to expect (setup/dirty-msync: to write)\n"
"  --pretouch SIZE   touch and free this much memory right before the timed loop\n"
"  --via write|mmap  setup: write(2) + fsync, or MAP_SHARED + msync(MS_SYNC)\n"
"  --copy-with copy_file_range|cp\n"
"prints one line: mode=... bytes=... pages=... seconds=... gib_per_s=... pages_per_s=...\n",
	      f);
}

static uint64_t parse_num_or_die(const char *opt, const char *val, bool size)
{
	uint64_t v;
	char *end;

	if (!val) {
		fprintf(stderr, "touch: %s needs a value\n", opt);
		exit(2);
	}
	if (size) {
		if (parse_size(val, &v)) {
			fprintf(stderr, "touch: bad size for %s: %s\n", opt, val);
			exit(2);
		}
		return v;
	}
	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno || *end || end == val) {
		fprintf(stderr, "touch: bad number for %s: %s\n", opt, val);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = PAT_DEFAULT_SEED, .via = "write",
			  .copy_with = "copy_file_range" };
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	struct sigaction sa;

	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	words_per_page = page_bytes / sizeof(uint64_t);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	o.mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--size"))
			o.size_bytes = parse_num_or_die(a, v, true), i++;
		else if (!strcmp(a, "--pages"))
			o.npages_touch = parse_num_or_die(a, v, false), i++;
		else if (!strcmp(a, "--seed"))
			o.seed = parse_num_or_die(a, v, false), i++;
		else if (!strcmp(a, "--gen"))
			o.gen = parse_num_or_die(a, v, false), i++;
		else if (!strcmp(a, "--pretouch"))
			o.pretouch_bytes = parse_num_or_die(a, v, true), i++;
		else if (!strcmp(a, "--via") && v)
			o.via = v, i++;
		else if (!strcmp(a, "--copy-with") && v)
			o.copy_with = v, i++;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "touch: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			usage(stderr);
			return 2;
		}
	}
	o.path = pos[0];
	o.dst = pos[1];
	if (o.gen >= (1u << 16)) {
		fprintf(stderr, "touch: --gen must be below 65536\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);

	if (!strcmp(o.mode, "pretouch")) {
		mode_pretouch(&o);
		return 0;
	}
	if (!o.path) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(o.mode, "setup"))
		mode_setup(&o);
	else if (!strcmp(o.mode, "seq") || !strcmp(o.mode, "rand") ||
		 !strcmp(o.mode, "madv-random"))
		mode_touch(&o);
	else if (!strcmp(o.mode, "warm"))
		mode_warm(&o);
	else if (!strcmp(o.mode, "dirty-msync"))
		mode_dirty_msync(&o);
	else if (!strcmp(o.mode, "clone"))
		mode_clone(&o);
	else if (!strcmp(o.mode, "check"))
		mode_check(&o);
	else {
		fprintf(stderr, "touch: unknown mode %s\n", o.mode);
		usage(stderr);
		return 2;
	}
	return 0;
}
