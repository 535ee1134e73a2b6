/*
 * iobuf.h: memory for O_DIRECT transfers to and from the swap files.
 *
 * A buffer that a 1 MiB O_DIRECT read or write uses is best physically
 * contiguous: a virtio disk takes at most 254 segments per request, so a
 * megabyte spread over 256 scattered 4 KiB pages goes to the device as two
 * requests. Measured here (1 MiB O_DIRECT reads, 1 to 4 in flight, on a
 * virtio disk): 1.1-2.9 GiB/s from small pages, a steady 3.0-3.2 GiB/s from
 * a transparent huge page; writes 2.8 against 3.7 GiB/s. iobuf maps
 * anonymous memory aligned to the huge-page size and asks for huge pages
 * before any page is faulted in, which plain mmap under mlockall(MCL_FUTURE)
 * cannot do: it faults the whole mapping in as small pages at once.
 *
 * Without transparent huge pages (off, or a huge page over IOBUF_MAX_HUGE)
 * the buffer is plain page-aligned memory; everything works the same, only
 * slower. Functions return 0 or a negative errno.
 */
#ifndef PAGERFS_IOBUF_H
#define PAGERFS_IOBUF_H

#include <stddef.h>

/* Larger huge pages (arm64 with 64 KiB pages: 512 MiB) are not worth it. */
#define IOBUF_MAX_HUGE ((size_t)4 << 20)

struct iobuf {
	void *mem;          /* page-aligned; huge-page-aligned when huge_bytes */
	size_t len_bytes;   /* what was mapped: at least the size asked for */
	size_t huge_bytes;  /* the huge page size asked for, or 0 */
};

/* Map at least len_bytes (> 0), zero-filled, readable and writable. */
int iobuf_map(size_t len_bytes, struct iobuf *out);
void iobuf_unmap(struct iobuf *b);

/* The transparent huge page size iobuf uses, or 0 when it uses none. */
size_t iobuf_huge_size(void);

#endif /* PAGERFS_IOBUF_H */
