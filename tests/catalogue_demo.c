/*
 * catalogue_demo: a short tour of a pagerfs catalogue, for the README's first
 * command until the daemon serves mounts. Creates (or reopens) a store,
 * records an object whose page map has file, swap and zero runs, and prints
 * what the catalogue holds. Run it twice to see the state survive a reopen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalogue.h"
#include "pagemap.h"
#include "size.h"

struct demo {
	uint64_t id;
	bool existed;
};

static int demo_create(struct cat_txn *txn, void *arg)
{
	struct demo *d = arg;
	struct cat_object o = { 0 };
	static uint8_t sums[16 * 8];
	int rc = cat_name_get(txn, CAT_ROOT_ID, "demo-heap", &d->id);

	if (rc == 0) {
		d->existed = true;
		return 0;
	}
	if (rc != -ENOENT || (rc = cat_alloc_id(txn, &d->id)) < 0)
		return rc;
	o.id = d->id;
	o.parent = CAT_ROOT_ID;
	o.kind = CAT_KIND_FILE;
	o.segtype = CAT_SEG_HEAP;
	o.flags = CAT_F_PERSIST;
	strcpy(o.name, "demo-heap");
	o.size_bytes = 1ULL << 40; /* a 1 TiB sparse heap */
	o.memctl = CAT_ROOT_ID;
	o.mode = 0100644;
	if ((rc = cat_object_put(txn, &o)) < 0 || (rc = cat_name_put(txn, CAT_ROOT_ID, o.name, o.id)) < 0)
		return rc;
	struct pmap_extent file = { 0, 256, PMAP_FILE, 0, NULL };
	for (int i = 0; i < 16; i++)
		pmap_sum_put(sums, (uint64_t)i, 0x1000 + (uint64_t)i);
	struct pmap_extent swap = { 100, 16, PMAP_SWAP, 4096, sums };
	if ((rc = pmap_set(txn, o.id, &file, NULL, NULL)) < 0)
		return rc;
	return pmap_set(txn, o.id, &swap, NULL, NULL);
}

static int show_extent(const struct pmap_extent *e, void *arg)
{
	static const char *const kinds[] = { "zero", "file", "swap", "free" };
	char len[16];

	size_format(e->npages * PFS_PAGE_SIZE, len, sizeof(len));
	printf("    pages %10llu..%-12llu %-4s %6s", (unsigned long long)e->first,
	       (unsigned long long)(e->first + e->npages - 1), kinds[e->kind], len);
	if (e->kind != PMAP_ZERO)
		printf("  base %llu", (unsigned long long)e->base);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/var/tmp/pagerfs-demo-store";
	struct demo d = { 0 };
	struct cat *cat;
	struct cat_txn *txn;
	struct cat_object o;
	struct pmap_counts c;
	uint64_t records;
	int rc;

	if ((rc = cat_open(dir, NULL, &cat)) < 0) {
		fprintf(stderr, "catalogue_demo: %s: %s\n", dir, strerror(-rc));
		return 1;
	}
	if ((rc = cat_write(cat, demo_create, &d)) < 0 || (rc = cat_read_begin(cat, &txn)) < 0) {
		fprintf(stderr, "catalogue_demo: %s\n", strerror(-rc));
		cat_close(cat);
		return 1;
	}
	cat_object_get(txn, d.id, &o);
	pmap_count(txn, d.id, o.size_bytes / PFS_PAGE_SIZE, &c);
	pmap_records(txn, d.id, &records);
	printf("store %s (%s)\n", dir, d.existed ? "reopened: the object survived" : "created");
	printf("object %llu \"%s\": heap, persist, %llu bytes\n", (unsigned long long)o.id, o.name,
	       (unsigned long long)o.size_bytes);
	printf("  page map (%llu records for %llu pages):\n", (unsigned long long)records,
	       (unsigned long long)(o.size_bytes / PFS_PAGE_SIZE));
	pmap_foreach(txn, d.id, 0, o.size_bytes / PFS_PAGE_SIZE, false, show_extent, NULL);
	printf("  pages: zero=%llu file=%llu swap=%llu\n", (unsigned long long)c.zero,
	       (unsigned long long)c.file, (unsigned long long)c.swap);
	cat_read_end(txn);
	cat_close(cat);
	return 0;
}
