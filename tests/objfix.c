/*
 * objfix.c: the object-layer tests' fixture (objfix.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "objfix.h"
#include "testutil.h"

void fx_open(struct fixture *fx, uint64_t swap_max)
{
	struct store_options opt = { .swap_chunk_bytes = 1 << 20, .swap_max_bytes = swap_max };
	assert_int_equal(store_open(fx->dir, &opt, &fx->s), 0);
	assert_int_equal(objects_open(fx->s, &fx->o), 0);
	assert_int_equal(store_io_open(fx->s, &fx->io), 0);
}

void fx_close(struct fixture *fx)
{
	store_io_close(fx->io);
	objects_close(fx->o);
	assert_int_equal(store_close(fx->s), 0);
}

int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->dir = tu_tmpdir("obj");
	fx->scratch = tu_tmpdir("objfiles");
	fx->cred = (struct obj_cred){ .uid = 0, .gid = 0, .pid = getpid() };
	fx_open(fx, 0);
	*state = fx;
	return 0;
}

int fx_teardown(void **state)
{
	struct fixture *fx = *state;
	fx_close(fx);
	tu_rmtree(fx->dir);
	tu_rmtree(fx->scratch);
	free(fx->dir);
	free(fx->scratch);
	free(fx);
	return 0;
}

uint64_t mkfile(struct fixture *fx, uint64_t parent, const char *name)
{
	struct obj_attr a;
	assert_int_equal(obj_create(fx->o, parent, name, 0644, &fx->cred, &a), 0);
	return a.id;
}

uint64_t openh(struct fixture *fx, uint64_t id, int flags)
{
	uint64_t h;
	assert_int_equal(obj_open(fx->o, id, flags, &fx->cred, &h), 0);
	return h;
}

void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed + i / 4096);
}

void setx(struct fixture *fx, uint64_t id, const char *name, const char *v, int want)
{
	assert_int_equal(obj_setxattr(fx->o, id, name, v, strlen(v), &fx->cred), want);
}

void getx(struct fixture *fx, uint64_t id, const char *name, const char *want)
{
	char buf[512];
	ssize_t n = obj_getxattr(fx->o, id, name, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

char *make_backing(struct fixture *fx, const char *name, int npages)
{
	char *path = malloc(512);
	uint8_t page[4096];
	snprintf(path, 512, "%s/%s", fx->scratch, name);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < npages; i++) {
		memset(page, 'A' + i, sizeof(page));
		assert_int_equal(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	}
	close(fd);
	return path;
}

