/*
 * mmap_client: the client process the integration tests drive.
 *
 * Each subcommand does one thing a real pagerfs client does (map an object
 * MAP_SHARED, write a pattern, msync, verify, hold a mapping open, fork) and
 * exits 0 when everything it checked held, 1 when something did not (with
 * the first bad offset and the errno name), 2 on a usage error. It must never
 * report "acked" for data that msync(MS_SYNC) did not acknowledge: the crash
 * test trusts that line and the LOG that loop-write keeps.
 *
 * Patterns are functions of (seed, byte offset), so any process can check
 * any range, whichever path (mmap or write()) wrote it; seed 0 is all zeros.
 * loop-write's pages carry (page, version) patterns instead, so check-log
 * can tell an acknowledged version from an older one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS_PER_PAGE (PAGE / 8u)

static const char *cmd = "mmap_client";

/* ---- messages ---- */

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case ECONNABORTED: return "ECONNABORTED";
	case ESTALE: return "ESTALE";
	default: return "E?";
	}
}

__attribute__((format(printf, 1, 2)))
static void say_err(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s (%s)\n", strerror(e), errname(e));
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- patterns ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The 8-byte word at byte offset word_index * 8 of a seed's pattern. */
static uint64_t seed_word(uint64_t seed, uint64_t word_index)
{
	if (seed == 0)
		return 0;
	return mix64(mix64(seed) ^ word_index);
}

static uint8_t seed_byte(uint64_t seed, uint64_t off)
{
	uint64_t w = seed_word(seed, off / 8);

	return (uint8_t)(w >> (8 * (off % 8))); /* little-endian byte order */
}

static void fill_seed(uint8_t *dst, uint64_t off, size_t len, uint64_t seed)
{
	size_t i = 0;

	for (; i < len && (off + i) % 8; i++)
		dst[i] = seed_byte(seed, off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = seed_word(seed, (off + i) / 8);
		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = seed_byte(seed, off + i);
}

/* Index of the first byte that differs from the pattern, or len. */
static size_t check_seed(const uint8_t *src, uint64_t off, size_t len, uint64_t seed)
{
	size_t i = 0;

	for (; i < len && (off + i) % 8; i++)
		if (src[i] != seed_byte(seed, off + i))
			return i;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		if (w != seed_word(seed, (off + i) / 8))
			break;
	}
	for (; i < len; i++)
		if (src[i] != seed_byte(seed, off + i))
			return i;
	return len;
}

/* loop-write's pages: word i of page p at version v (version 0 = never written). */
static uint64_t version_word(uint64_t page, uint64_t version, uint64_t i)
{
	if (version == 0)
		return 0;
	return mix64(mix64(page * 0x100000001b3ull + version) ^ (i + 1));
}

/* ---- arguments ---- */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: return -1;
	}
	if (*end != '\0' || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static uint64_t need_size(const char *what, const char *s)
{
	uint64_t v;

	if (parse_size(s, &v) < 0) {
		say("bad %s '%s' (bytes, or with a K/M/G/T suffix)", what, s);
		exit(2);
	}
	return v;
}

/* ---- SIGBUS: a failed page-in kills a client with SIGBUS; say where. ---- */

static volatile uintptr_t bus_base;
static volatile uint64_t bus_file_off;

static void put_str(char *buf, size_t *n, size_t cap, const char *s)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
}

static void put_hex(char *buf, size_t *n, size_t cap, uint64_t v)
{
	char tmp[17];
	int k = 16;

	tmp[k] = '\0';
	do {
		tmp[--k] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && k > 0);
	put_str(buf, n, cap, "0x");
	put_str(buf, n, cap, tmp + k);
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	char buf[160];
	size_t n = 0;
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)sig;
	(void)ctx;
	put_str(buf, &n, sizeof buf, cmd);
	put_str(buf, &n, sizeof buf, ": SIGBUS (failed page-in or page beyond the object's size)");
	if (bus_base && a >= bus_base) {
		put_str(buf, &n, sizeof buf, " at file offset ");
		put_hex(buf, &n, sizeof buf, bus_file_off + (a - bus_base));
	}
	put_str(buf, &n, sizeof buf, "\n");
	if (write(2, buf, n) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

static void catch_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- mapping helpers ---- */

struct map {
	uint8_t *base;      /* page-aligned mapping */
	size_t maplen;
	uint8_t *p;         /* the byte at file offset off */
	uint64_t off;
};

static int map_range(int fd, uint64_t off, uint64_t len, int prot, struct map *m)
{
	uint64_t start = off & ~(uint64_t)(PAGE - 1);

	m->maplen = (size_t)(off + len - start);
	m->off = off;
	m->base = mmap(NULL, m->maplen, prot, MAP_SHARED, fd, (off_t)start);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return -1;
	}
	m->p = m->base + (off - start);
	bus_base = (uintptr_t)m->base;
	bus_file_off = start;
	return 0;
}

static void unmap(struct map *m)
{
	if (m->base)
		munmap(m->base, m->maplen);
	m->base = NULL;
	bus_base = 0;
}

static int file_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		say_err("fstat %s", path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static void report_mismatch(const char *path, const char *how, uint64_t bad_off, uint8_t got,
			    uint64_t seed)
{
	say("verify %s (%s): first bad byte at offset %" PRIu64 " (0x%" PRIx64 ", page %" PRIu64
	    "): got 0x%02x, expected 0x%02x (seed %" PRIu64 ")",
	    path, how, bad_off, bad_off, bad_off / PAGE, got, seed_byte(seed, bad_off), seed);
}

static int full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n = pwrite(fd, b, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes read; short only at end of file. */
static ssize_t full_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *b = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, b + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* ---- gen OFF LEN SEED ---- */

static int cmd_gen(int argc, char **argv)
{
	uint64_t off, len, seed;
	uint8_t buf[1 << 16];

	if (argc != 3) {
		say("usage: gen OFF LEN SEED");
		return 2;
	}
	off = need_size("OFF", argv[0]);
	len = need_size("LEN", argv[1]);
	seed = need_size("SEED", argv[2]);
	while (len) {
		size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
		fill_seed(buf, off, n, seed);
		if (fwrite(buf, 1, n, stdout) != n) {
			say_err("gen: write");
			return 1;
		}
		off += n;
		len -= n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- write FILE OFF LEN SEED [--msync] [--extend] [--pwrite] ---- */

static int cmd_write(int argc, char **argv)
{
	bool do_msync = false, extend = false, use_pwrite = false;
	const char *path;
	uint64_t off, len, seed, size;
	int fd, rc = 1;
	struct map m = { 0 };

	while (argc > 4) {
		const char *o = argv[argc - 1];
		if (!strcmp(o, "--msync"))
			do_msync = true;
		else if (!strcmp(o, "--extend"))
			extend = true;
		else if (!strcmp(o, "--pwrite"))
			use_pwrite = true;
		else
			break;
		argc--;
	}
	if (argc != 4) {
		say("usage: write FILE OFF LEN SEED [--msync] [--extend] [--pwrite]");
		return 2;
	}
	path = argv[0];
	off = need_size("OFF", argv[1]);
	len = need_size("LEN", argv[2]);
	seed = need_size("SEED", argv[3]);
	fd = open(path, extend ? O_RDWR | O_CREAT : O_RDWR, 0644);
	if (fd < 0) {
		say_err("write: open %s read-write", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (size < off + len) {
		if (!extend && !use_pwrite) {
			say("write: %s is %" PRIu64 " bytes, shorter than %" PRIu64
			    " (use --extend to ftruncate it)", path, size, off + len);
			goto out;
		}
		if (extend && ftruncate(fd, (off_t)(off + len)) < 0) {
			say_err("write: ftruncate %s to %" PRIu64, path, off + len);
			goto out;
		}
	}
	if (use_pwrite) {
		uint8_t *buf = malloc(1 << 20);
		uint64_t pos = off, left = len;
		if (!buf)
			goto out;
		while (left) {
			size_t n = left < (1u << 20) ? (size_t)left : (1u << 20);
			fill_seed(buf, pos, n, seed);
			if (full_pwrite(fd, buf, n, pos) < 0) {
				say_err("write: pwrite %s at %" PRIu64, path, pos);
				free(buf);
				goto out;
			}
			pos += n;
			left -= n;
		}
		free(buf);
		if (do_msync && fsync(fd) < 0) {
			say_err("write: fsync %s", path);
			goto out;
		}
	} else if (len) {
		if (map_range(fd, off, len, PROT_READ | PROT_WRITE, &m) < 0) {
			say_err("write: mmap %s MAP_SHARED read-write", path);
			goto out;
		}
		fill_seed(m.p, off, (size_t)len, seed);
		if (do_msync && msync(m.base, m.maplen, MS_SYNC) < 0) {
			say_err("write: msync(MS_SYNC) %s", path);
			goto out;
		}
		unmap(&m);
	}
	if (do_msync) {
		/* Only now: the tests treat this line as the durability promise. */
		printf("acked\n");
		fflush(stdout);
	}
	rc = 0;
out:
	unmap(&m);
	if (close(fd) < 0 && rc == 0) {
		say_err("write: close %s", path);
		rc = 1;
	}
	return rc;
}

/* ---- verify FILE OFF LEN SEED [--pread] ---- */

static int cmd_verify(int argc, char **argv)
{
	bool use_pread = false;
	const char *path;
	uint64_t off, len, seed, size;
	int fd, rc = 1;
	struct map m = { 0 };

	if (argc == 5 && !strcmp(argv[4], "--pread")) {
		use_pread = true;
		argc--;
	}
	if (argc != 4) {
		say("usage: verify FILE OFF LEN SEED [--pread]");
		return 2;
	}
	path = argv[0];
	off = need_size("OFF", argv[1]);
	len = need_size("LEN", argv[2]);
	seed = need_size("SEED", argv[3]);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		say_err("verify: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (size < off + len) {
		say("verify %s: the object is %" PRIu64 " bytes, shorter than the range's end %" PRIu64,
		    path, size, off + len);
		goto out;
	}
	if (use_pread) {
		uint8_t *buf = malloc(1 << 20);
		uint64_t pos = off, left = len;
		if (!buf)
			goto out;
		while (left) {
			size_t n = left < (1u << 20) ? (size_t)left : (1u << 20), bad;
			ssize_t got = full_pread(fd, buf, n, pos);
			if (got < 0) {
				say_err("verify: pread %s at %" PRIu64, path, pos);
				free(buf);
				goto out;
			}
			if ((size_t)got < n) {
				say("verify %s (pread): short read at %" PRIu64 ": %zd of %zu bytes",
				    path, pos, got, n);
				free(buf);
				goto out;
			}
			bad = check_seed(buf, pos, n, seed);
			if (bad < n) {
				report_mismatch(path, "pread", pos + bad, buf[bad], seed);
				free(buf);
				goto out;
			}
			pos += n;
			left -= n;
		}
		free(buf);
	} else if (len) {
		size_t bad;
		if (map_range(fd, off, len, PROT_READ, &m) < 0) {
			say_err("verify: mmap %s MAP_SHARED read-only", path);
			goto out;
		}
		bad = check_seed(m.p, off, (size_t)len, seed);
		if (bad < len) {
			report_mismatch(path, "mmap", off + bad, m.p[bad], seed);
			goto out;
		}
	}
	rc = 0;
out:
	unmap(&m);
	close(fd);
	return rc;
}

/* ---- hold [--ro] FILE [OFF LEN SEED] ---- */

static volatile sig_atomic_t hold_signal;

static void on_hold_signal(int sig)
{
	hold_signal = sig;
}

/* Catch TERM, USR1 and INT, blocked until the holder waits for them (old: the mask to wait with). */
static void hold_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hold_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, old);
}

static int cmd_hold(int argc, char **argv)
{
	bool ro = false, check = false;
	const char *path;
	uint64_t off = 0, len = 0, seed = 0, size;
	int fd, rc = 1;
	struct map m = { 0 };
	sigset_t old;

	if (argc >= 1 && !strcmp(argv[0], "--ro")) {
		ro = true;
		argc--;
		argv++;
	}
	if (argc != 1 && argc != 4) {
		say("usage: hold [--ro] FILE [OFF LEN SEED]");
		return 2;
	}
	path = argv[0];
	if (argc == 4) {
		check = true;
		off = need_size("OFF", argv[1]);
		len = need_size("LEN", argv[2]);
		seed = need_size("SEED", argv[3]);
	}
	hold_signals(&old);

	fd = open(path, ro ? O_RDONLY : O_RDWR);
	if (fd < 0) {
		say_err("hold: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (size > 0 && map_range(fd, 0, size, ro ? PROT_READ : PROT_READ | PROT_WRITE, &m) < 0) {
		say_err("hold: mmap %s MAP_SHARED", path);
		goto out;
	}
	if (check && off + len > size) {
		say("hold: %s is %" PRIu64 " bytes, shorter than the range to check", path, size);
		goto out;
	}
	printf("holding %d\n", (int)getpid());
	fflush(stdout);
	while (!hold_signal)
		sigsuspend(&old);
	if (hold_signal == SIGUSR1 && check) {
		/* Check through the mapping made before the other processes wrote. */
		size_t bad = check_seed(m.p + off, off, (size_t)len, seed);
		if (bad < len) {
			report_mismatch(path, "held mapping", off + bad, m.p[off + bad], seed);
			goto out;
		}
		printf("held mapping verified\n");
		fflush(stdout);
	}
	rc = 0;
out:
	unmap(&m);
	if (close(fd) < 0 && rc == 0) {
		say_err("hold: close %s", path);
		rc = 1;
	}
	return rc;
}

/* ---- fork-share FILE SEED ---- */

static int check_pages(const uint8_t *base, uint64_t npages, uint64_t seed, const char *path,
		       const char *who)
{
	size_t len = (size_t)(npages * PAGE);
	size_t bad = check_seed(base, 0, len, seed);

	if (bad < len) {
		char how[64];
		snprintf(how, sizeof how, "%s", who);
		report_mismatch(path, how, bad, base[bad], seed);
		return -1;
	}
	return 0;
}

static void fill_pages(uint8_t *base, uint64_t npages, unsigned parity, uint64_t seed)
{
	for (uint64_t p = parity; p < npages; p += 2)
		fill_seed(base + p * PAGE, p * PAGE, PAGE, seed);
}

static int pipe_put(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static int pipe_get(int fd, char want)
{
	char c;

	if (read(fd, &c, 1) != 1 || c != want) {
		say("fork-share: the other process went away (expected '%c')", want);
		return -1;
	}
	return 0;
}

static int fork_child(const char *path, int fd, uint8_t *base, uint64_t npages, uint64_t seed,
		      int rd, int wr)
{
	uint8_t *buf;
	int fd2;
	struct map m2 = { 0 };
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	cmd = "mmap_client fork-share (child)";
	fill_pages(base, npages, 1, seed);
	if (pipe_put(wr, 'w') < 0 || pipe_get(rd, 'w') < 0)
		return 1;
	if (check_pages(base, npages, seed, path, "child's inherited mapping") < 0)
		return 1;
	if (msync(base, npages * PAGE, MS_SYNC) < 0) {
		say_err("msync(MS_SYNC) %s", path);
		return 1;
	}
	if (pipe_put(wr, 'm') < 0 || pipe_get(rd, 'u') < 0)
		return 1;
	/* The parent has unmapped and closed: the object is still ours. */
	nanosleep(&ts, NULL);
	if (check_pages(base, npages, seed, path, "child's mapping after the parent closed") < 0)
		return 1;
	buf = malloc(npages * PAGE);
	if (!buf || full_pread(fd, buf, npages * PAGE, 0) != (ssize_t)(npages * PAGE)) {
		say_err("pread %s", path);
		return 1;
	}
	if (check_pages(buf, npages, seed, path, "child's pread") < 0)
		return 1;
	free(buf);
	fd2 = open(path, O_RDWR);
	if (fd2 < 0) {
		say_err("open %s again", path);
		return 1;
	}
	if (map_range(fd2, 0, npages * PAGE, PROT_READ, &m2) < 0) {
		say_err("mmap %s again", path);
		return 1;
	}
	if (check_pages(m2.p, npages, seed, path, "child's second mapping") < 0)
		return 1;
	unmap(&m2);
	if (close(fd2) < 0) {
		say_err("close %s", path);
		return 1;
	}
	return 0;
}

static int cmd_fork_share(int argc, char **argv)
{
	const char *path;
	uint64_t seed, size, npages;
	int fd, to_child[2], to_parent[2], status, rc = 1;
	struct map m = { 0 };
	pid_t pid;

	if (argc != 2) {
		say("usage: fork-share FILE SEED");
		return 2;
	}
	path = argv[0];
	seed = need_size("SEED", argv[1]);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		say_err("fork-share: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		return 1;
	npages = size / PAGE;
	if (npages < 2) {
		say("fork-share: %s must be at least 2 pages", path);
		return 1;
	}
	if (map_range(fd, 0, npages * PAGE, PROT_READ | PROT_WRITE, &m) < 0) {
		say_err("fork-share: mmap %s", path);
		return 1;
	}
	if (pipe(to_child) < 0 || pipe(to_parent) < 0) {
		say_err("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		say_err("fork");
		return 1;
	}
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		_exit(fork_child(path, fd, m.p, npages, seed, to_child[0], to_parent[1]));
	}
	close(to_child[0]);
	close(to_parent[1]);
	fill_pages(m.p, npages, 0, seed);
	if (pipe_put(to_child[1], 'w') < 0 || pipe_get(to_parent[0], 'w') < 0)
		goto wait_child;
	if (check_pages(m.p, npages, seed, path, "parent's mapping") < 0)
		goto wait_child;
	if (msync(m.base, m.maplen, MS_SYNC) < 0) {
		say_err("fork-share: msync(MS_SYNC) %s", path);
		goto wait_child;
	}
	if (pipe_get(to_parent[0], 'm') < 0)
		goto wait_child;
	unmap(&m);
	if (close(fd) < 0) {
		say_err("fork-share: close %s", path);
		fd = -1;
		goto wait_child;
	}
	fd = -1;
	if (pipe_put(to_child[1], 'u') < 0)
		goto wait_child;
	rc = 0;
wait_child:
	close(to_child[1]); /* a child still waiting sees EOF and fails */
	if (waitpid(pid, &status, 0) < 0) {
		say_err("waitpid");
		rc = 1;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("fork-share: the child failed (%s %d)",
		    WIFSIGNALED(status) ? "signal" : "exit status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		rc = 1;
	}
	unmap(&m);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		printf("fork-share: %" PRIu64 " pages shared and checked by parent and child\n", npages);
	return rc;
}

/* ---- scatter FILE SIZE N SEED [--verify-only] [--scan] ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool chosen(const uint64_t *pages, uint64_t n, uint64_t p)
{
	return bsearch(&p, pages, n, sizeof *pages, cmp_u64) != NULL;
}

static int scatter_check_page(const uint8_t *pg, uint64_t p, bool written, uint64_t seed,
			      const char *path, const char *how)
{
	uint64_t s = written ? seed : 0;
	size_t bad = check_seed(pg, p * PAGE, PAGE, s);

	if (bad < PAGE) {
		report_mismatch(path, how, p * PAGE + bad, pg[bad], s);
		return -1;
	}
	return 0;
}

static int cmd_scatter(int argc, char **argv)
{
	bool verify_only = false, scan = false;
	const char *path;
	uint64_t size, n, seed, npages, cur, *pages = NULL, x, distinct;
	int fd, rc = 1;
	struct map m = { 0 };
	uint8_t *buf = NULL;

	while (argc > 4) {
		if (!strcmp(argv[argc - 1], "--verify-only"))
			verify_only = true;
		else if (!strcmp(argv[argc - 1], "--scan"))
			scan = true;
		else
			break;
		argc--;
	}
	if (argc != 4) {
		say("usage: scatter FILE SIZE N SEED [--verify-only] [--scan]");
		return 2;
	}
	path = argv[0];
	size = need_size("SIZE", argv[1]);
	n = need_size("N", argv[2]);
	seed = need_size("SEED", argv[3]);
	npages = size / PAGE;
	if (seed == 0 || n == 0 || n > npages / 4) {
		say("scatter: need SEED > 0 and 0 < N <= SIZE/4 pages");
		return 2;
	}
	fd = open(path, verify_only ? O_RDONLY : O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		say_err("scatter: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &cur) < 0)
		goto out;
	if (cur != size) {
		if (verify_only) {
			say("scatter: %s is %" PRIu64 " bytes, expected %" PRIu64, path, cur, size);
			goto out;
		}
		if (ftruncate(fd, (off_t)size) < 0) {
			say_err("scatter: ftruncate %s to %" PRIu64, path, size);
			goto out;
		}
	}
	pages = malloc(n * sizeof *pages);
	buf = malloc(PAGE);
	if (!pages || !buf)
		goto out;
	x = seed;
	for (uint64_t i = 0; i < n; i++) {
		x = mix64(x);
		pages[i] = x % npages;
	}
	/* Always include the first and last pages: the ends are where sizes go wrong. */
	pages[0] = 0;
	pages[n - 1] = npages - 1;
	qsort(pages, n, sizeof *pages, cmp_u64);
	distinct = n ? 1 : 0;
	for (uint64_t i = 1; i < n; i++)
		distinct += pages[i] != pages[i - 1];

	if (!verify_only) {
		if (map_range(fd, 0, size, PROT_READ | PROT_WRITE, &m) < 0) {
			say_err("scatter: mmap %s (%" PRIu64 " bytes)", path, size);
			goto out;
		}
		for (uint64_t i = 0; i < n; i++)
			fill_seed(m.p + pages[i] * PAGE, pages[i] * PAGE, PAGE, seed);
		if (msync(m.base, m.maplen, MS_SYNC) < 0) {
			say_err("scatter: msync(MS_SYNC) %s", path);
			goto out;
		}
		printf("acked\n");
		fflush(stdout);
		unmap(&m);
	}

	/* A fresh mapping: written pages, their neighbours and random others. */
	if (map_range(fd, 0, size, PROT_READ, &m) < 0) {
		say_err("scatter: mmap %s read-only", path);
		goto out;
	}
	x = seed ^ 0xabcdefull;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = pages[i], q;
		if (scatter_check_page(m.p + p * PAGE, p, true, seed, path, "mmap") < 0)
			goto out;
		if (p + 1 < npages && scatter_check_page(m.p + (p + 1) * PAGE, p + 1,
							 chosen(pages, n, p + 1), seed, path, "mmap") < 0)
			goto out;
		x = mix64(x);
		q = x % npages;
		if (scatter_check_page(m.p + q * PAGE, q, chosen(pages, n, q), seed, path, "mmap") < 0)
			goto out;
		if (full_pread(fd, buf, PAGE, p * PAGE) != PAGE) {
			say_err("scatter: pread %s page %" PRIu64, path, p);
			goto out;
		}
		if (scatter_check_page(buf, p, true, seed, path, "pread") < 0)
			goto out;
	}
	if (scan) {
		/* Every page of the object, in order, through the mapping. */
		madvise(m.base, m.maplen, MADV_SEQUENTIAL);
		for (uint64_t p = 0, i = 0; p < npages; p++) {
			bool w = i < n && pages[i] == p;
			if (scatter_check_page(m.p + p * PAGE, p, w, seed, path, "scan") < 0)
				goto out;
			while (i < n && pages[i] == p)
				i++;
			if ((p + 1) % 65536 == 0) /* drop what was read: keep the cache small */
				madvise(m.p + (p + 1 - 65536) * PAGE, 65536 * (size_t)PAGE, MADV_DONTNEED);
		}
	}
	printf("scatter: %" PRIu64 " scattered pages verified over %" PRIu64 " bytes%s\n"
	       "distinct=%" PRIu64 "\n", n, size, scan ? " (and a full scan)" : "", distinct);
	rc = 0;
out:
	unmap(&m);
	free(pages);
	free(buf);
	close(fd);
	return rc;
}

/* ---- loop-write FILE PAGES LOG [BATCH] and check-log FILE PAGES LOG ---- */

/* Last acknowledged version of each page, from LOG ("PAGE VERSION" lines). */
static int read_log(const char *log, uint64_t npages, uint64_t *ver, uint64_t *nlines)
{
	FILE *f = fopen(log, "r");
	char line[128];

	*nlines = 0;
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long long p, v;
		if (!strchr(line, '\n'))
			break; /* a torn last line was never fully acknowledged */
		if (sscanf(line, "%llu %llu", &p, &v) != 2 || p >= npages) {
			say("log %s: bad line '%.40s'", log, line);
			fclose(f);
			errno = EINVAL;
			return -1;
		}
		if (v > ver[p])
			ver[p] = v;
		(*nlines)++;
	}
	fclose(f);
	return 0;
}

static int cmd_loop_write(int argc, char **argv)
{
	const char *path, *log;
	uint64_t npages, batch = 16, size, nlines, *ver, *pick, x, iter = 0;
	int fd, lfd;
	struct map m = { 0 };
	char *lines;

	if (argc != 3 && argc != 4) {
		say("usage: loop-write FILE PAGES LOG [BATCH]");
		return 2;
	}
	path = argv[0];
	npages = need_size("PAGES", argv[1]);
	log = argv[2];
	if (argc == 4)
		batch = need_size("BATCH", argv[3]);
	if (npages == 0 || batch == 0 || batch > npages) {
		say("loop-write: need 0 < BATCH <= PAGES");
		return 2;
	}
	ver = calloc(npages, sizeof *ver);
	pick = calloc(batch, sizeof *pick);
	lines = malloc(batch * 48);
	if (!ver || !pick || !lines)
		return 1;
	if (read_log(log, npages, ver, &nlines) < 0) {
		say_err("loop-write: read %s", log);
		return 1;
	}
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		say_err("loop-write: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		return 1;
	if (size < npages * PAGE && ftruncate(fd, (off_t)(npages * PAGE)) < 0) {
		say_err("loop-write: ftruncate %s", path);
		return 1;
	}
	if (map_range(fd, 0, npages * PAGE, PROT_READ | PROT_WRITE, &m) < 0) {
		say_err("loop-write: mmap %s", path);
		return 1;
	}
	lfd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lfd < 0) {
		say_err("loop-write: open %s", log);
		return 1;
	}
	x = (uint64_t)getpid() ^ (uint64_t)time(NULL) << 20;
	printf("loop-write: %" PRIu64 " pages, batches of %" PRIu64 ", %" PRIu64
	       " versions already logged\n", npages, batch, nlines);
	fflush(stdout);
	for (;;) {
		size_t len = 0;
		uint64_t k = 0;

		/* A run at a random place, so page-outs are both large and scattered. */
		x = mix64(x);
		uint64_t first = x % (npages - batch + 1);
		for (k = 0; k < batch; k++)
			pick[k] = first + k;
		for (k = 0; k < batch; k++) {
			uint64_t p = pick[k], v = ver[p] + 1;
			uint64_t *w = (uint64_t *)(m.p + p * PAGE);
			for (uint64_t i = 0; i < WORDS_PER_PAGE; i++)
				w[i] = version_word(p, v, i);
		}
		if (msync(m.base, m.maplen, MS_SYNC) < 0) {
			say_err("loop-write: msync(MS_SYNC) %s after %" PRIu64 " batches", path, iter);
			return 1;
		}
		for (k = 0; k < batch; k++) {
			uint64_t p = pick[k];
			ver[p]++;
			len += (size_t)snprintf(lines + len, 48, "%" PRIu64 " %" PRIu64 "\n", p, ver[p]);
		}
		if (write(lfd, lines, len) != (ssize_t)len || fsync(lfd) < 0) {
			say_err("loop-write: append to %s", log);
			return 1;
		}
		iter++;
	}
}

/* check-log with ver[] (per page, the last acknowledged version) to fill. */
static int check_log_into(const char *path, uint64_t npages, const char *log, uint64_t *ver)
{
	uint64_t size, nlines, ahead = 0, acked = 0;
	int fd;
	struct map m = { 0 };

	if (read_log(log, npages, ver, &nlines) < 0) {
		say_err("check-log: read %s", log);
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		say_err("check-log: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		return 1;
	if (size < npages * PAGE) {
		say("check-log: %s is %" PRIu64 " bytes, shorter than %" PRIu64 " pages", path, size,
		    npages);
		return 1;
	}
	if (map_range(fd, 0, npages * PAGE, PROT_READ, &m) < 0) {
		say_err("check-log: mmap %s", path);
		return 1;
	}
	for (uint64_t p = 0; p < npages; p++) {
		const uint64_t *w = (const uint64_t *)(m.p + p * PAGE);
		uint64_t v = ver[p];
		bool saw_next = false;

		if (v)
			acked++;
		for (uint64_t i = 0; i < WORDS_PER_PAGE; i++) {
			uint64_t u;
			if (w[i] == version_word(p, v, i))
				continue;
			if (w[i] == version_word(p, v + 1, i)) {
				saw_next = true; /* written after the last ack, durable anyway: fine */
				continue;
			}
			for (u = 0; u < v + 64; u++)
				if (w[i] == version_word(p, u, i))
					break;
			say("check-log %s: page %" PRIu64 " (offset %" PRIu64 ") word %" PRIu64
			    ": msync acknowledged version %" PRIu64 " but the page holds %s%" PRIu64 "%s",
			    path, p, p * PAGE, i, v,
			    u < v + 64 ? "version " : "unknown data 0x",
			    u < v + 64 ? u : w[i],
			    u < v + 64 ? (u < v ? " (an older one: acknowledged data lost)" : "") : "");
			unmap(&m);
			close(fd);
			return 1;
		}
		if (saw_next)
			ahead++;
	}
	printf("check-log: %" PRIu64 " pages, %" PRIu64 " acknowledged versions in the log, %" PRIu64
	       " pages with acknowledged data, all intact (%" PRIu64 " pages hold a later version)\n",
	       npages, nlines, acked, ahead);
	unmap(&m);
	close(fd);
	return 0;
}

static int cmd_check_log(int argc, char **argv)
{
	uint64_t npages, *ver;
	int rc;

	if (argc != 3) {
		say("usage: check-log FILE PAGES LOG");
		return 2;
	}
	npages = need_size("PAGES", argv[1]);
	ver = calloc(npages ? npages : 1, sizeof *ver);
	if (!ver)
		return 1;
	rc = check_log_into(argv[0], npages, argv[2], ver);
	free(ver);
	return rc;
}

/* ---- coherence FILE SEED: read()/write() and a mapping of the same object ---- */

static int cmd_coherence(int argc, char **argv)
{
	const char *path;
	uint64_t seed, seed2, size;
	int fd, rc = 1;
	struct map m = { 0 };
	uint8_t buf[PAGE];
	size_t bad;

	if (argc != 2) {
		say("usage: coherence FILE SEED");
		return 2;
	}
	path = argv[0];
	seed = need_size("SEED", argv[1]);
	seed2 = seed + 1;
	fd = open(path, O_RDWR);
	if (fd < 0) {
		say_err("coherence: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (size < 4 * PAGE) {
		say("coherence: %s must be at least 4 pages", path);
		goto out;
	}
	if (map_range(fd, 0, 4 * PAGE, PROT_READ | PROT_WRITE, &m) < 0) {
		say_err("coherence: mmap %s", path);
		goto out;
	}
	/* 1. Fault page 0 in, then pwrite it: the mapping must show the new bytes. */
	if (m.p[0] != 0 && m.p[0] == seed_byte(seed, 0))
		say("coherence: note: page 0 already holds the pattern");
	fill_seed(buf, 0, PAGE, seed);
	if (full_pwrite(fd, buf, PAGE, 0) < 0) {
		say_err("coherence: pwrite %s page 0", path);
		goto out;
	}
	bad = check_seed(m.p, 0, PAGE, seed);
	if (bad < PAGE) {
		report_mismatch(path, "mapping after pwrite", bad, m.p[bad], seed);
		goto out;
	}
	/* 2. Store through the mapping: pread must return it, before any msync. */
	fill_seed(m.p + PAGE, PAGE, PAGE, seed);
	if (full_pread(fd, buf, PAGE, PAGE) != PAGE) {
		say_err("coherence: pread %s page 1", path);
		goto out;
	}
	bad = check_seed(buf, PAGE, PAGE, seed);
	if (bad < PAGE) {
		report_mismatch(path, "pread after a store through the mapping", PAGE + bad, buf[bad], seed);
		goto out;
	}
	/* 3. A partial pwrite into a mapped, dirty page keeps the rest of the page. */
	fill_seed(m.p + 2 * PAGE, 2 * PAGE, PAGE, seed2);
	fill_seed(buf, 2 * PAGE + 50, 100, seed);
	if (full_pwrite(fd, buf, 100, 2 * PAGE + 50) < 0) {
		say_err("coherence: pwrite %s 100 bytes into page 2", path);
		goto out;
	}
	if ((bad = check_seed(m.p + 2 * PAGE, 2 * PAGE, 50, seed2)) < 50 ||
	    (bad = check_seed(m.p + 2 * PAGE + 50, 2 * PAGE + 50, 100, seed) + 50) < 150 ||
	    (bad = check_seed(m.p + 2 * PAGE + 150, 2 * PAGE + 150, PAGE - 150, seed2) + 150) < PAGE) {
		say("coherence: %s page 2 wrong at byte %zu after a partial pwrite into the mapped page"
		    " (expected seed %" PRIu64 " for bytes 50..149, seed %" PRIu64 " elsewhere)",
		    path, bad, seed, seed2);
		goto out;
	}
	/* 4. Page 3 only through write(), never mapped-dirty; then msync everything. */
	fill_seed(buf, 3 * PAGE, PAGE, seed);
	if (full_pwrite(fd, buf, PAGE, 3 * PAGE) < 0) {
		say_err("coherence: pwrite %s page 3", path);
		goto out;
	}
	if (msync(m.base, m.maplen, MS_SYNC) < 0) {
		say_err("coherence: msync(MS_SYNC) %s", path);
		goto out;
	}
	if (fsync(fd) < 0) {
		say_err("coherence: fsync %s", path);
		goto out;
	}
	bad = check_seed(m.p + 3 * PAGE, 3 * PAGE, PAGE, seed);
	if (bad < PAGE) {
		report_mismatch(path, "mapping after pwrite of page 3", 3 * PAGE + bad,
				m.p[3 * PAGE + bad], seed);
		goto out;
	}
	printf("acked\n");
	rc = 0;
out:
	unmap(&m);
	if (close(fd) < 0 && rc == 0) {
		say_err("coherence: close %s", path);
		rc = 1;
	}
	return rc;
}

/* ---- mapcmp FILE OFF LEN REF REFOFF: a mapped range against a plain file ---- */

static int cmd_mapcmp(int argc, char **argv)
{
	const char *path, *ref;
	uint64_t off, len, refoff, size;
	int fd, rfd, rc = 1;
	struct map m = { 0 };
	uint8_t *buf = NULL;

	if (argc != 5) {
		say("usage: mapcmp FILE OFF LEN REF REFOFF");
		return 2;
	}
	path = argv[0];
	off = need_size("OFF", argv[1]);
	len = need_size("LEN", argv[2]);
	ref = argv[3];
	refoff = need_size("REFOFF", argv[4]);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		say_err("mapcmp: open %s", path);
		return 1;
	}
	rfd = open(ref, O_RDONLY);
	if (rfd < 0) {
		say_err("mapcmp: open %s", ref);
		close(fd);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (size < off + len) {
		say("mapcmp %s: the object is %" PRIu64 " bytes, shorter than the range's end %" PRIu64,
		    path, size, off + len);
		goto out;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		goto out;
	if (full_pread(rfd, buf, len, refoff) != (ssize_t)len) {
		say("mapcmp: %s has fewer than %" PRIu64 " bytes at %" PRIu64, ref, len, refoff);
		goto out;
	}
	if (len && map_range(fd, off, len, PROT_READ, &m) < 0) {
		say_err("mapcmp: mmap %s", path);
		goto out;
	}
	for (uint64_t i = 0; i < len; i++) {
		if (m.p[i] != buf[i]) {
			say("mapcmp %s: byte at offset %" PRIu64 " (page %" PRIu64 ") is 0x%02x, but %s has"
			    " 0x%02x at offset %" PRIu64, path, off + i, (off + i) / PAGE, m.p[i], ref,
			    buf[i], refoff + i);
			goto out;
		}
	}
	rc = 0;
out:
	unmap(&m);
	free(buf);
	close(rfd);
	close(fd);
	return rc;
}

/* ---- punch FILE OFF LEN: fallocate(PUNCH_HOLE | KEEP_SIZE) ---- */

static int cmd_punch(int argc, char **argv)
{
	const char *path;
	uint64_t off, len;
	int fd, rc = 1;

	if (argc != 3) {
		say("usage: punch FILE OFF LEN");
		return 2;
	}
	path = argv[0];
	off = need_size("OFF", argv[1]);
	len = need_size("LEN", argv[2]);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		say_err("punch: open %s read-write", path);
		return 1;
	}
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0) {
		say_err("punch: fallocate(PUNCH_HOLE|KEEP_SIZE) %s at %" PRIu64 " length %" PRIu64,
			path, off, len);
		goto out;
	}
	printf("punched\n");
	rc = 0;
out:
	close(fd);
	return rc;
}

/* ---- copy-range SRC SOFF DST DOFF LEN: copy_file_range until LEN or end of file ---- */

static int cmd_copy_range(int argc, char **argv)
{
	const char *src, *dst;
	uint64_t soff, doff, len, done = 0;
	int sfd, dfd, rc = 1;

	if (argc != 5) {
		say("usage: copy-range SRC SOFF DST DOFF LEN");
		return 2;
	}
	src = argv[0];
	soff = need_size("SOFF", argv[1]);
	dst = argv[2];
	doff = need_size("DOFF", argv[3]);
	len = need_size("LEN", argv[4]);
	sfd = open(src, O_RDONLY);
	if (sfd < 0) {
		say_err("copy-range: open %s", src);
		return 1;
	}
	dfd = open(dst, O_RDWR);
	if (dfd < 0) {
		say_err("copy-range: open %s read-write", dst);
		close(sfd);
		return 1;
	}
	while (done < len) {
		loff_t si = (loff_t)(soff + done), di = (loff_t)(doff + done);
		ssize_t n = copy_file_range(sfd, &si, dfd, &di, (size_t)(len - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say_err("copy-range: copy_file_range %s at %" PRIu64 " to %s at %" PRIu64
				" (%" PRIu64 " bytes, %" PRIu64 " done)", src, soff + done, dst,
				doff + done, len - done, done);
			goto out;
		}
		if (n == 0)
			break; /* end of the source */
		done += (uint64_t)n;
	}
	printf("copied %" PRIu64 "\n", done);
	rc = 0;
out:
	close(dfd);
	close(sfd);
	return rc;
}

/* ---- hold-expect [--ro] FILE OFF LEN BEFORE AFTER ---- */

/*
 * Like hold, but the range is read (every page faulted into this mapping)
 * and checked against BEFORE first; on SIGUSR1 the same mapping must show
 * AFTER. So whatever changes the object meanwhile must also drop the pages
 * this process already has mapped.
 */
static int cmd_hold_expect(int argc, char **argv)
{
	bool ro = false;
	const char *path;
	uint64_t off, len, before, after, size;
	int fd, rc = 1;
	struct map m = { 0 };
	sigset_t old;
	size_t bad;

	if (argc >= 1 && !strcmp(argv[0], "--ro")) {
		ro = true;
		argc--;
		argv++;
	}
	if (argc != 5) {
		say("usage: hold-expect [--ro] FILE OFF LEN BEFORE AFTER");
		return 2;
	}
	path = argv[0];
	off = need_size("OFF", argv[1]);
	len = need_size("LEN", argv[2]);
	before = need_size("BEFORE", argv[3]);
	after = need_size("AFTER", argv[4]);
	hold_signals(&old);

	fd = open(path, ro ? O_RDONLY : O_RDWR);
	if (fd < 0) {
		say_err("hold-expect: open %s", path);
		return 1;
	}
	if (file_size(fd, path, &size) < 0)
		goto out;
	if (len == 0 || off + len > size) {
		say("hold-expect: %s is %" PRIu64 " bytes; the range to check must be within it", path,
		    size);
		goto out;
	}
	if (map_range(fd, 0, size, ro ? PROT_READ : PROT_READ | PROT_WRITE, &m) < 0) {
		say_err("hold-expect: mmap %s MAP_SHARED", path);
		goto out;
	}
	bad = check_seed(m.p + off, off, (size_t)len, before);
	if (bad < len) {
		report_mismatch(path, "held mapping, before", off + bad, m.p[off + bad], before);
		goto out;
	}
	printf("holding %d\n", (int)getpid());
	fflush(stdout);
	while (!hold_signal)
		sigsuspend(&old);
	if (hold_signal == SIGUSR1) {
		bad = check_seed(m.p + off, off, (size_t)len, after);
		if (bad < len) {
			report_mismatch(path, "held mapping, after", off + bad, m.p[off + bad], after);
			goto out;
		}
		printf("held mapping verified\n");
		fflush(stdout);
	}
	rc = 0;
out:
	unmap(&m);
	close(fd);
	return rc;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: mmap_client COMMAND ARGS   (sizes: bytes or K/M/G/T; SEED 0 = zeros)\n"
		"  gen OFF LEN SEED                      pattern bytes to stdout\n"
		"  write FILE OFF LEN SEED [--msync] [--extend] [--pwrite]\n"
		"                                        MAP_SHARED store (or pwrite); 'acked' after msync\n"
		"  verify FILE OFF LEN SEED [--pread]    exit 1 with the first bad offset\n"
		"  hold [--ro] FILE [OFF LEN SEED]       map, print 'holding PID', wait for a signal;\n"
		"                                        on SIGUSR1 check the range in that mapping\n"
		"  fork-share FILE SEED                  parent and child share one mapping\n"
		"  scatter FILE SIZE N SEED [--verify-only] [--scan]\n"
		"  loop-write FILE PAGES LOG [BATCH]     versioned pages, LOG appended after each msync\n"
		"  check-log FILE PAGES LOG              every logged (acknowledged) version intact\n"
		"  coherence FILE SEED                   read()/write() against a mapping, one process\n"
		"  mapcmp FILE OFF LEN REF REFOFF        mapped FILE range equals REF's bytes at REFOFF\n"
		"  punch FILE OFF LEN                    fallocate(PUNCH_HOLE|KEEP_SIZE)\n"
		"  copy-range SRC SOFF DST DOFF LEN      copy_file_range; prints 'copied N'\n"
		"  hold-expect [--ro] FILE OFF LEN BEFORE AFTER\n"
		"                                        fault the range in, check BEFORE, hold;\n"
		"                                        on SIGUSR1 the same mapping must show AFTER\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "gen", cmd_gen }, { "write", cmd_write }, { "verify", cmd_verify },
		{ "hold", cmd_hold }, { "fork-share", cmd_fork_share }, { "scatter", cmd_scatter },
		{ "loop-write", cmd_loop_write }, { "check-log", cmd_check_log },
		{ "coherence", cmd_coherence }, { "mapcmp", cmd_mapcmp },
		{ "punch", cmd_punch }, { "copy-range", cmd_copy_range },
		{ "hold-expect", cmd_hold_expect },
	};

	if (argc < 2) {
		usage();
		return 2;
	}
	catch_sigbus();
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	usage();
	return 2;
}
