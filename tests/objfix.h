/*
 * objfix.h: the fixture the object-layer tests share: a store in a temporary
 * directory with the object layer and one store_io over it, run as root.
 */
#ifndef PAGERFS_TESTS_OBJFIX_H
#define PAGERFS_TESTS_OBJFIX_H

#include <stdint.h>
#include "object.h"
#include "store.h"

struct fixture {
	char *dir, *scratch; /* the store; files the tests make (backing files) */
	struct store *s;
	struct objects *o;
	struct store_io *io;
	struct obj_cred cred;
};

/* Open (or reopen) the store in fx->dir with the given swap cap (0: none). */
void fx_open(struct fixture *fx, uint64_t swap_max);
void fx_close(struct fixture *fx);
/* cmocka setup/teardown: a fresh fixture in *state. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* A new object (mode 0644) in parent; its id. */
uint64_t mkfile(struct fixture *fx, uint64_t parent, const char *name);
/* A handle on id, asserting success. */
uint64_t openh(struct fixture *fx, uint64_t id, int flags);
/* A pattern that differs by seed and by page. */
void fill(uint8_t *buf, size_t len, uint8_t seed);
/* Set user.pagerfs.* name to v, asserting the result. */
void setx(struct fixture *fx, uint64_t id, const char *name, const char *v, int want);
/* Assert the value of name. */
void getx(struct fixture *fx, uint64_t id, const char *name, const char *want);
/* A backing file of n pages whose page i is filled with byte 'A' + i (malloc'd path). */
char *make_backing(struct fixture *fx, const char *name, int npages);

#endif /* PAGERFS_TESTS_OBJFIX_H */
