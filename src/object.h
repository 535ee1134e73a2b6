/*
 * object.h: memory objects, the named and typed things clients map.
 *
 * The layer between the FUSE face and the store. It knows objects' names,
 * directories (which are memory controls), segment types and their Sprite
 * lifecycles, open counts, backing files and the user.pagerfs.* attributes;
 * it never includes a FUSE header, and every function returns 0 (or a byte
 * count) or a negative errno. Identifiers are catalogue ids; the root
 * directory is CAT_ROOT_ID, which the FUSE face uses as its root inode.
 *
 * Permission checks on objects and directories are the kernel's
 * (default_permissions); this layer checks what the kernel cannot: ownership
 * for type and backing changes, and opening a backing file with the caller's
 * credentials, so nobody reads through pagerfs what they could not read
 * directly.
 */
#ifndef PAGERFS_OBJECT_H
#define PAGERFS_OBJECT_H

#include <sys/types.h>
#include <sys/statvfs.h>
#include "catalogue.h"
#include "store.h"

struct objects;

/* Who is asking: from the FUSE request context. */
struct obj_cred {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const gid_t *groups; /* supplementary groups; may be NULL */
	int ngroups;
};

struct obj_attr {
	uint64_t id;
	uint64_t parent;       /* the directory holding it (0 for the root) */
	uint8_t kind;          /* CAT_KIND_FILE or CAT_KIND_DIR */
	uint32_t mode;         /* with S_IFREG / S_IFDIR */
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t size_bytes;
	uint64_t blocks_512;   /* swap pages held, in 512-byte units (st_blocks) */
	int64_t atime_ns, mtime_ns, ctime_ns;
};

/* Open the object layer over an open store (creates the root directory if absent). */
int objects_open(struct store *s, struct objects **out);
/* Run every object's last-close lifecycle still pending, then free. The store stays open. */
void objects_close(struct objects *o);

/* ---- namespace ---- */

int obj_lookup(struct objects *o, uint64_t parent, const char *name, struct obj_attr *out);
int obj_getattr(struct objects *o, uint64_t id, struct obj_attr *out);
/* A new persistent anonymous object (heap, persist, zero-filled). -EEXIST if the name is taken. */
int obj_create(struct objects *o, uint64_t parent, const char *name, uint32_t mode,
	       const struct obj_cred *cred, struct obj_attr *out);
/* A new directory: a memory control sharing its parent's frames. */
int obj_mkdir(struct objects *o, uint64_t parent, const char *name, uint32_t mode,
	      const struct obj_cred *cred, struct obj_attr *out);
/* Destroy an object (or cache it, per its type). Open handles keep working until released. */
int obj_unlink(struct objects *o, uint64_t parent, const char *name);
/* Remove an empty directory; its quota returns to the parent. -ENOTEMPTY otherwise. */
int obj_rmdir(struct objects *o, uint64_t parent, const char *name);
/* rename(2) semantics; flags: RENAME_NOREPLACE, RENAME_EXCHANGE (-EINVAL for others). */
int obj_rename(struct objects *o, uint64_t parent, const char *name, uint64_t newparent,
	       const char *newname, unsigned flags);
/* Children of dir in name order after `after` (NULL: from the start); fn > 0 stops. */
int obj_readdir(struct objects *o, uint64_t dir, const char *after,
		int (*fn)(const char *name, const struct obj_attr *a, void *arg), void *arg);

/* Which fields obj_setattr changes. */
#define OBJ_SET_MODE  0x01
#define OBJ_SET_UID   0x02
#define OBJ_SET_GID   0x04
#define OBJ_SET_SIZE  0x08  /* resize: ftruncate, Sprite's brk */
#define OBJ_SET_ATIME 0x10
#define OBJ_SET_MTIME 0x20

/*
 * Change attributes. A size change releases pages beyond the new end (their
 * frames are freed by the next commit) and, if invalidate is set, the
 * caller must invalidate the kernel's cache beyond the new end (the layer
 * reports the range through obj_set_invalidate_fn). -EROFS for a code
 * object's size; -EFBIG past the type's limit.
 */
int obj_setattr(struct objects *o, uint64_t id, unsigned to_set, const struct obj_attr *a,
		const struct obj_cred *cred, struct obj_attr *out);

/*
 * Tell the FUSE face when an object's contents change under the kernel's
 * cache (release, resize, clone), so it can notify the kernel. May be NULL.
 */
typedef void (*obj_invalidate_fn)(void *arg, uint64_t id, uint64_t off_bytes, uint64_t len_bytes);
void obj_set_invalidate_fn(struct objects *o, obj_invalidate_fn fn, void *arg);

/*
 * Tell the FUSE face when a name starts to lead to another object (a code
 * object sharing another's text), so the kernel forgets its cached entry.
 * May be NULL.
 */
typedef void (*obj_entry_fn)(void *arg, uint64_t parent, const char *name, uint64_t id);
void obj_set_entry_fn(struct objects *o, obj_entry_fn fn, void *arg);

/*
 * The mount point this layer serves: a backing file under it would be read
 * through our own mount and could deadlock the daemon, so it is refused.
 */
int objects_set_mountpoint(struct objects *o, const char *path);

/* ---- open handles and the page path ---- */

/*
 * Open an object (counts per object and per pid). O_WRONLY/O_RDWR on a code
 * object without debug: -EROFS. A shared or backed object's backing file is
 * opened here, with cred's identity. *handle is opaque to the caller.
 */
int obj_open(struct objects *o, uint64_t id, int flags, const struct obj_cred *cred,
	     uint64_t *handle);
/*
 * Who has what open: fn(id, pid, opens, arg) for every process with open
 * handles on an object (the open counts obj_open keeps per pid); fn > 0 stops.
 */
int obj_foreach_open(struct objects *o, int (*fn)(uint64_t id, pid_t pid, unsigned opens, void *arg),
		     void *arg);

/* Last release of an object runs its type's terminate (INTERFACE.md). */
int obj_release(struct objects *o, uint64_t handle);

/*
 * Page-in: len bytes at off into buf (a short count at the end of the
 * object). Each thread passes its own store_io. When buf is the io's arena
 * (store_io_buf) and off/len are page-aligned no copy is made.
 */
ssize_t obj_read(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		 size_t len, void *buf);
/*
 * Page-out: len bytes at off from data, extending the object if needed.
 * Partial pages are read, modified and written. -EROFS for code, -ENOSPC
 * when the memory control or swap cannot take the pages.
 */
ssize_t obj_write(struct objects *o, struct store_io *io, uint64_t handle, uint64_t off,
		  size_t len, const void *data);
/*
 * copy_file_range: len bytes of src at src_off to dst at dst_off. Whole pages
 * are shared copy-on-write where that is what copying means (object_clone.c
 * says when), the rest copied; cost follows the extents, not the bytes.
 * Returns the bytes copied (short at the end of src). -EINVAL for overlapping
 * ranges of one object, -EROFS for a code destination, -ENOSPC when dst's
 * control cannot take the pages.
 */
ssize_t obj_copy_range(struct objects *o, struct store_io *io, uint64_t src_handle, uint64_t src_off,
		       uint64_t dst_handle, uint64_t dst_off, size_t len);

/* fsync/msync: everything written to the object so far is durable when this returns. */
int obj_fsync(struct objects *o, uint64_t handle);
/* fallocate: mode 0 reserves, PUNCH_HOLE|KEEP_SIZE releases to initial contents. */
int obj_fallocate(struct objects *o, uint64_t handle, int mode, uint64_t off, uint64_t len);

/* ---- attributes: user.pagerfs.* (INTERFACE.md) ---- */

/* Value of attribute name (without the "user.pagerfs." prefix) into buf; returns its length. */
ssize_t obj_getxattr(struct objects *o, uint64_t id, const char *name, char *buf, size_t cap);
/* Set it; -EINVAL for a bad value, -EPERM/-EBUSY for a refused change; nothing changes then. */
int obj_setxattr(struct objects *o, uint64_t id, const char *name, const char *value,
		 size_t len, const struct obj_cred *cred);
int obj_removexattr(struct objects *o, uint64_t id, const char *name, const struct obj_cred *cred);
/* The names that apply to id, each NUL-terminated, full ("user.pagerfs.type"). */
ssize_t obj_listxattr(struct objects *o, uint64_t id, char *buf, size_t cap);

/* statfs: swap capacity, free frames, objects. */
int obj_statfs(struct objects *o, struct statvfs *out);

#endif /* PAGERFS_OBJECT_H */
