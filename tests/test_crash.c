/* Description: a store killed at random moments reopens exactly as of its last or in-flight commit. */
/*
 * The store and one 64-page object persist across rounds. Each round forks a
 * child that opens the store (the restart) and loops: page out a seeded
 * random set of runs, each page holding (page, version) for one version per
 * step, store_commit, then acknowledge the step by appending its version to a
 * log with write + fsync. The parent kills the child with SIGKILL after a
 * seeded 5-80 ms, reopens the store and requires the object to be exactly the
 * state after the last acknowledged step, or after the next one (its commit
 * may have completed before the acknowledgment) - never a mix, never anything
 * else - with store_check passing and no frame leaked. The parent knows both
 * states by replaying the child's seeded choices from the state it verified
 * at the end of the previous round.
 *
 * The second variant bounds pending data at 4 pages, so commits also happen
 * inside page-outs, and grows the swap file 4 frames at a time: then the in-flight step may be durable up to any of its
 * page-out calls (each call all or nothing), but still never anything else.
 *
 * PFS_SEED reproduces a run; PFS_CRASH_ROUNDS sets the rounds per variant.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalogue.h"
#include "store.h"
#include "testutil.h"

#define PG PFS_PAGE_SIZE
#define OBJ_PAGES 64
#define MAX_RUNS 4
#define MAX_RUN_PAGES 16
#define DEFAULT_ROUNDS 100
#define PAGE_MAGIC 0x6372617368706700ULL

static uint64_t seed;

struct crash {
	char *dir;
	char log[512];
	struct store_options opt;       /* the parent's */
	struct store_options child_opt; /* the child's (pending bound in the variant) */
	uint64_t obj;
	uint64_t base[OBJ_PAGES]; /* verified state at the start of a round */
};

/* ---- page contents: (obj, page, version), zeros for version 0 ---- */

static void fill_page(void *dst, uint64_t obj, uint64_t page, uint64_t version)
{
	uint64_t *w = dst;
	uint64_t st = (obj << 40) ^ (page << 32) ^ version;

	w[0] = PAGE_MAGIC;
	w[1] = obj;
	w[2] = page;
	w[3] = version;
	for (size_t i = 4; i < PG / 8; i++)
		w[i] = tu_rand(&st);
}

static int64_t page_version(const void *src, uint64_t obj, uint64_t page)
{
	static const uint8_t zero[PG];
	uint64_t want[PG / 8];
	const uint64_t *w = src;

	if (memcmp(src, zero, PG) == 0)
		return 0;
	if (w[0] != PAGE_MAGIC || w[1] != obj || w[2] != page || w[3] == 0 || w[3] > INT64_MAX)
		return -1;
	fill_page(want, obj, page, w[3]);
	return memcmp(src, want, PG) == 0 ? (int64_t)w[3] : -1;
}

/* ---- the seeded plan, shared by child and parent ---- */

struct step {
	unsigned nruns;
	uint64_t first[MAX_RUNS];
	uint32_t n[MAX_RUNS];
};

static uint64_t round_rng(unsigned variant, unsigned round, uint64_t purpose)
{
	uint64_t st = seed ^ ((uint64_t)variant << 56) ^ ((uint64_t)round << 20) ^ (purpose << 8);

	return tu_rand(&st);
}

static void plan_step(uint64_t *rng, struct step *s)
{
	s->nruns = 1 + (unsigned)(tu_rand(rng) % MAX_RUNS);
	for (unsigned i = 0; i < s->nruns; i++) {
		s->first[i] = tu_rand(rng) % OBJ_PAGES;
		uint64_t len = 1 + tu_rand(rng) % MAX_RUN_PAGES; /* not inside PFS_MIN: it evaluates twice */
		s->n[i] = (uint32_t)PFS_MIN(len, OBJ_PAGES - s->first[i]);
	}
}

/* Versions grow across rounds and steps (step >= 1), so a stale page can never pass for a new one. */
static uint64_t step_version(unsigned round, unsigned step)
{
	return (uint64_t)(round + 1) * 1000000 + step;
}

static void apply_runs(uint64_t *state, const struct step *s, unsigned nruns, uint64_t version)
{
	for (unsigned i = 0; i < nruns; i++)
		for (uint64_t p = s->first[i]; p < s->first[i] + s->n[i]; p++)
			state[p] = version;
}

/* ---- catalogue setup ---- */

static int new_object_fn(struct cat_txn *txn, void *arg)
{
	uint64_t *id = arg;
	struct cat_object o;
	int rc = cat_alloc_id(txn, id);

	if (rc < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.id = *id;
	o.parent = CAT_ROOT_ID;
	o.kind = CAT_KIND_FILE;
	snprintf(o.name, sizeof(o.name), "crash");
	o.memctl = CAT_ROOT_ID;
	o.mode = 0100644;
	if ((rc = cat_object_put(txn, &o)) < 0)
		return rc;
	return cat_name_put(txn, CAT_ROOT_ID, o.name, o.id);
}

static int crash_setup_with(void **state, uint64_t pending_max_bytes, uint64_t chunk_bytes)
{
	struct crash *c = calloc(1, sizeof(*c));
	struct store *s;

	c->dir = tu_tmpdir("crash");
	snprintf(c->log, sizeof(c->log), "%s/ack.log", c->dir);
	c->opt.swap_chunk_bytes = chunk_bytes;
	c->child_opt = c->opt;
	c->child_opt.pending_max_bytes = pending_max_bytes;
	assert_int_equal(store_open(c->dir, &c->opt, &s), 0);
	assert_int_equal(cat_write(store_cat(s), new_object_fn, &c->obj), 0);
	assert_int_equal(store_close(s), 0);
	*state = c;
	return 0;
}

static int crash_setup(void **state)
{
	return crash_setup_with(state, 0, (uint64_t)1 << 20);
}

static int crash_setup_small_pending(void **state)
{
	/* 4-frame swap chunks too, so swap files also grow while the child runs. */
	return crash_setup_with(state, 4 * PG, 4 * PG);
}

static int crash_teardown(void **state)
{
	struct crash *c = *state;

	tu_rmtree(c->dir);
	free(c->dir);
	free(c);
	return 0;
}

/* ---- the child ---- */

enum child_exit { CX_OPEN = 10, CX_IO_OPEN, CX_PAGE_OUT, CX_COMMIT, CX_LOG, CX_CLOSE, CX_PIPE };

static const char *child_exit_name(int code)
{
	switch (code) {
	case CX_OPEN: return "store_open failed";
	case CX_IO_OPEN: return "store_io_open failed";
	case CX_PAGE_OUT: return "store_page_out failed";
	case CX_COMMIT: return "store_commit failed";
	case CX_LOG: return "writing the log failed";
	case CX_CLOSE: return "store_close failed";
	case CX_PIPE: return "pipe to the parent failed";
	default: return "unknown";
	}
}

static void ack(int fd, uint64_t version)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)version);

	if (write(fd, line, (size_t)len) != len || fsync(fd) != 0)
		_exit(CX_LOG);
}

static _Noreturn void child_loop(const struct crash *c, unsigned variant, unsigned round)
{
	uint64_t rng = round_rng(variant, round, 1);
	uint8_t *buf = aligned_alloc(PG, MAX_RUN_PAGES * PG);
	struct store_io *io;
	struct store *s;
	int logfd;

	alarm(30); /* never outlive a parent that lost track of us */
	logfd = open(c->log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (logfd < 0 || !buf)
		_exit(CX_LOG);
	if (store_open(c->dir, &c->child_opt, &s) != 0)
		_exit(CX_OPEN);
	if (store_io_open(s, &io) != 0)
		_exit(CX_IO_OPEN);
	for (unsigned step = 1;; step++) {
		uint64_t v = step_version(round, step);
		struct step st;

		plan_step(&rng, &st);
		for (unsigned i = 0; i < st.nruns; i++) {
			for (uint32_t k = 0; k < st.n[i]; k++)
				fill_page(buf + k * PG, c->obj, st.first[i] + k, v);
			if (store_page_out(io, c->obj, CAT_ROOT_ID, st.first[i], st.n[i], buf) != 0)
				_exit(CX_PAGE_OUT);
		}
		if (store_commit(s) != 0)
			_exit(CX_COMMIT);
		ack(logfd, v);
	}
}

/* ---- the parent ---- */

/* Versions acknowledged in the log (complete lines only); returns how many. */
static unsigned read_acks(const char *path, uint64_t *acks, unsigned cap)
{
	char buf[1 << 16];
	unsigned n = 0;
	ssize_t len;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(len >= 0);
	buf[len] = '\0';
	for (char *p = buf, *nl; (nl = strchr(p, '\n')) != NULL && n < cap; p = nl + 1) {
		*nl = '\0';
		acks[n++] = strtoull(p, NULL, 10);
	}
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The object's pages as versions (-1: not a version of this page). */
static void read_state(struct store *s, uint64_t obj, int64_t *got)
{
	struct store_io *io;
	uint8_t *buf = aligned_alloc(PG, OBJ_PAGES * PG);
	int rc;

	assert_non_null(buf);
	assert_int_equal(store_io_open(s, &io), 0);
	rc = store_page_in(io, obj, 0, OBJ_PAGES, buf, NULL);
	if (rc != 0)
		fail_msg("seed %llu: page-in after the crash: %d", (unsigned long long)seed, rc);
	for (uint64_t p = 0; p < OBJ_PAGES; p++)
		got[p] = page_version(buf + p * PG, obj, p);
	store_io_close(io);
	free(buf);
}

static bool state_equal(const int64_t *got, const uint64_t *want)
{
	for (int p = 0; p < OBJ_PAGES; p++)
		if (got[p] != (int64_t)want[p])
			return false;
	return true;
}

/* Versions as round.step ("0" for zeros, "?" for garbage). */
static void print_state(const char *what, const int64_t *got, const uint64_t *want)
{
	print_error("%s:", what);
	for (int p = 0; p < OBJ_PAGES; p++) {
		int64_t v = got ? got[p] : (int64_t)want[p];
		if (v <= 0)
			print_error(" %s", v == 0 ? "0" : "?");
		else
			print_error(" %lld.%lld", (long long)(v / 1000000 - 1), (long long)(v % 1000000));
	}
	print_error("\n");
}

struct totals {
	unsigned acks, in_flight_seen, partial_seen, no_ack_rounds;
};

/*
 * One round: run the child, kill it, check what the store holds, and move
 * c->base to it. Returns through fail_msg on any violation.
 */
static void crash_round(struct crash *c, unsigned variant, unsigned round, bool partial_ok,
			struct totals *tot)
{
	uint64_t acks[4096], want[OBJ_PAGES], rng, used;
	int64_t got[OBJ_PAGES];
	unsigned nacks, delay_ms, matched_calls = 0;
	struct step st;
	struct store_stats stats;
	struct store *s;
	char why[256] = "";
	bool ok = false;
	int status, fd;
	pid_t pid;

	uint64_t dr = round_rng(variant, round, 2);
	delay_ms = 5 + (unsigned)(dr % 76);
	fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_loop(c, variant, round);
	sleep_ms(delay_ms);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("seed %llu variant %u round %u: child %s %d (%s)", (unsigned long long)seed, variant,
			 round, WIFEXITED(status) ? "exited" : "died of signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 WIFEXITED(status) ? child_exit_name(WEXITSTATUS(status)) : "");

	nacks = read_acks(c->log, acks, PFS_ARRAY_SIZE(acks));
	for (unsigned i = 0; i < nacks; i++)
		if (acks[i] != step_version(round, i + 1))
			fail_msg("seed %llu round %u: log line %u is %llu", (unsigned long long)seed, round, i,
				 (unsigned long long)acks[i]);
	tot->acks += nacks;
	tot->no_ack_rounds += nacks == 0;

	/* The state after the last acknowledged step. */
	memcpy(want, c->base, sizeof(want));
	rng = round_rng(variant, round, 1);
	for (unsigned step = 1; step <= nacks; step++) {
		plan_step(&rng, &st);
		apply_runs(want, &st, st.nruns, step_version(round, step));
	}

	assert_int_equal(store_open(c->dir, &c->opt, &s), 0);
	read_state(s, c->obj, got);

	/* That state, or the next step's durable up to one of its calls (all of them without partial_ok). */
	plan_step(&rng, &st);
	if (state_equal(got, want)) {
		ok = true;
	} else {
		uint64_t next[OBJ_PAGES];
		for (unsigned k = partial_ok ? 1 : st.nruns; k <= st.nruns && !ok; k++) {
			memcpy(next, want, sizeof(next));
			apply_runs(next, &st, k, step_version(round, nacks + 1));
			if (state_equal(got, next)) {
				ok = true;
				matched_calls = k;
			}
		}
	}
	if (!ok) {
		uint64_t next[OBJ_PAGES];
		memcpy(next, want, sizeof(next));
		apply_runs(next, &st, st.nruns, step_version(round, nacks + 1));
		print_error("seed %llu variant %u round %u (killed after %u ms, %u steps acknowledged):\n",
			    (unsigned long long)seed, variant, round, delay_ms, nacks);
		print_state("  store holds       ", got, NULL);
		print_state("  acknowledged state", NULL, want);
		print_state("  in-flight state   ", NULL, next);
		fail_msg("seed %llu: the store reopened in a state that is neither the last acknowledged "
			 "commit nor the one in flight (pages shown as round.step)",
			 (unsigned long long)seed);
	}
	if (matched_calls == st.nruns)
		tot->in_flight_seen++;
	else if (matched_calls > 0)
		tot->partial_seen++;

	if (store_check(s, why, sizeof(why)) != 0)
		fail_msg("seed %llu variant %u round %u: store_check: %s", (unsigned long long)seed, variant,
			 round, why);
	/* Frames the dead child allocated for uncommitted pages are free again. */
	used = 0;
	for (int p = 0; p < OBJ_PAGES; p++)
		used += got[p] != 0;
	store_get_stats(s, &stats);
	if (stats.swap_frames - stats.free_frames != used)
		fail_msg("seed %llu variant %u round %u: %llu frames in use for %llu pages",
			 (unsigned long long)seed, variant, round,
			 (unsigned long long)(stats.swap_frames - stats.free_frames), (unsigned long long)used);
	assert_int_equal(store_close(s), 0);
	for (int p = 0; p < OBJ_PAGES; p++)
		c->base[p] = (uint64_t)got[p];
}

static unsigned rounds(void)
{
	const char *env = getenv("PFS_CRASH_ROUNDS");
	unsigned n = env ? (unsigned)strtoul(env, NULL, 0) : DEFAULT_ROUNDS;

	return n ? n : DEFAULT_ROUNDS;
}

static void run_crash_rounds(struct crash *c, unsigned variant, bool partial_ok)
{
	struct totals tot = { 0 };
	unsigned n = rounds();

	for (unsigned round = 0; round < n; round++)
		crash_round(c, variant, round, partial_ok, &tot);
	print_message("# %u rounds: %u steps acknowledged, %u rounds without one, in-flight commit "
		      "found durable %u times, part of it %u times\n",
		      n, tot.acks, tot.no_ack_rounds, tot.in_flight_seen, tot.partial_seen);
	/* Otherwise the test proved nothing: the child never got to commit. */
	assert_true(tot.acks > 0);
}

static void killed_store_reopens_as_of_a_commit(void **state)
{
	run_crash_rounds(*state, 0, false);
}

static void killed_store_with_commits_inside_page_outs_reopens_as_of_a_commit(void **state)
{
	run_crash_rounds(*state, 1, true);
}

/* ---- sanity: what a kill keeps and loses, and that a clean exit keeps all ---- */

static void sanity_child(const struct crash *c, int pipefd)
{
	uint8_t *buf = aligned_alloc(PG, OBJ_PAGES * PG);
	struct store_io *io;
	struct store *s;

	alarm(30);
	if (!buf)
		_exit(CX_PAGE_OUT);
	if (store_open(c->dir, &c->opt, &s) != 0)
		_exit(CX_OPEN);
	if (store_io_open(s, &io) != 0)
		_exit(CX_IO_OPEN);
	for (uint64_t p = 0; p < OBJ_PAGES; p++)
		fill_page(buf + p * PG, c->obj, p, 1);
	if (store_page_out(io, c->obj, CAT_ROOT_ID, 0, OBJ_PAGES, buf) != 0)
		_exit(CX_PAGE_OUT);
	if (store_commit(s) != 0)
		_exit(CX_COMMIT);
	for (uint64_t p = 0; p < 32; p++)
		fill_page(buf + p * PG, c->obj, p, 2);
	if (store_page_out(io, c->obj, CAT_ROOT_ID, 0, 32, buf) != 0)
		_exit(CX_PAGE_OUT);
	if (write(pipefd, "w", 1) != 1)
		_exit(CX_PIPE);
	for (;;)
		pause();
}

static void clean_child(const struct crash *c)
{
	uint8_t *buf = aligned_alloc(PG, 8 * PG);
	struct store_io *io;
	struct store *s;

	alarm(30);
	if (!buf)
		_exit(CX_PAGE_OUT);
	if (store_open(c->dir, &c->opt, &s) != 0)
		_exit(CX_OPEN);
	if (store_io_open(s, &io) != 0)
		_exit(CX_IO_OPEN);
	for (uint64_t p = 0; p < 8; p++)
		fill_page(buf + p * PG, c->obj, 40 + p, 3);
	if (store_page_out(io, c->obj, CAT_ROOT_ID, 40, 8, buf) != 0)
		_exit(CX_PAGE_OUT);
	store_io_close(io);
	_exit(store_close(s) == 0 ? 0 : CX_CLOSE);
}

static void kill_loses_only_uncommitted_pages(void **state)
{
	struct crash *c = *state;
	struct store_stats stats;
	struct store *s;
	int64_t got[OBJ_PAGES];
	int fds[2], status;
	char ch;
	pid_t pid;

	/* Killed with pages 0-31 paged out again but not committed. */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		sanity_child(c, fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &ch, 1) != 1) {
		waitpid(pid, &status, 0);
		fail_msg("child failed before paging out: %s",
			 WIFEXITED(status) ? child_exit_name(WEXITSTATUS(status)) : "killed");
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	assert_int_equal(store_open(c->dir, &c->opt, &s), 0);
	read_state(s, c->obj, got);
	for (int p = 0; p < OBJ_PAGES; p++)
		if (got[p] != 1)
			fail_msg("page %d holds version %lld after the kill, want the committed 1", p,
				 (long long)got[p]);
	store_get_stats(s, &stats);
	assert_int_equal(stats.swap_frames - stats.free_frames, OBJ_PAGES);
	assert_int_equal(stats.pending_pages, 0);
	char why[256] = "";
	if (store_check(s, why, sizeof(why)) != 0)
		fail_msg("store_check: %s", why);
	assert_int_equal(store_close(s), 0);

	/* A child that closes cleanly without store_commit keeps its page-outs. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		clean_child(c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("clean child: %s", child_exit_name(WEXITSTATUS(status)));
	assert_int_equal(store_open(c->dir, &c->opt, &s), 0);
	read_state(s, c->obj, got);
	for (int p = 0; p < OBJ_PAGES; p++)
		assert_int_equal(got[p], p >= 40 && p < 48 ? 3 : 1);
	store_get_stats(s, &stats);
	assert_int_equal(stats.swap_frames - stats.free_frames, OBJ_PAGES);
	if (store_check(s, why, sizeof(why)) != 0)
		fail_msg("store_check: %s", why);
	assert_int_equal(store_close(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(kill_loses_only_uncommitted_pages, crash_setup, crash_teardown),
		cmocka_unit_test_setup_teardown(killed_store_reopens_as_of_a_commit, crash_setup, crash_teardown),
		cmocka_unit_test_setup_teardown(killed_store_with_commits_inside_page_outs_reopens_as_of_a_commit,
						crash_setup_small_pending, crash_teardown),
	};

	seed = tu_seed(20260501);
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
