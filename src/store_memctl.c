/*
 * store_memctl.c: memory controls as the store keeps them: the in-memory
 * tree (physmem/memctl.c) for every decision, and a catalogue record per
 * control so the tree survives restarts.
 *
 * Each change is made in memory first (it validates: quota too large is
 * -ENOSPC there) and then written; if the write fails the memory change is
 * undone, so the two never disagree. A record's charged_frames belongs to
 * the commit path (it counts committed pages) and is preserved here.
 */
#include <string.h>
#include "store_internal.h"

struct sm_put {
	uint64_t id, parent;
	bool has_quota, remove;
	uint64_t guarantee;
};

static int sm_write(struct cat_txn *txn, void *arg)
{
	struct sm_put *p = arg;
	struct cat_memctl m;
	int rc = cat_memctl_get(txn, p->id, &m);

	if (p->remove) {
		if (rc < 0)
			return rc;
		/* Committed pages still charged (a release not yet committed): not yet. */
		return m.charged_frames ? -EBUSY : cat_memctl_del(txn, p->id);
	}
	if (rc == -ENOENT)
		m = (struct cat_memctl){ .id = p->id, .parent = p->parent };
	else if (rc < 0)
		return rc;
	m.flags = p->has_quota ? CAT_MC_QUOTA : 0;
	m.guarantee_frames = p->has_quota ? p->guarantee : 0;
	return cat_memctl_put(txn, &m);
}

int store_memctl_add(struct store *s, uint64_t parent, uint64_t id)
{
	struct sm_put p = { id, parent, false, false, 0 };
	int rc;

	pthread_mutex_lock(&s->alloc_lock);
	rc = memctl_add(s->memctls, parent, id);
	pthread_mutex_unlock(&s->alloc_lock);
	if (rc < 0)
		return rc;
	if ((rc = cat_write(s->cat, sm_write, &p)) < 0) {
		pthread_mutex_lock(&s->alloc_lock);
		memctl_remove(s->memctls, id, &(uint64_t){ 0 });
		pthread_mutex_unlock(&s->alloc_lock);
	}
	return rc;
}

int store_memctl_quota(struct store *s, uint64_t id, bool clear, uint64_t frames)
{
	struct memctl_info before;
	struct sm_put p = { id, 0, !clear, false, frames };
	int rc;

	if (id == CAT_ROOT_ID)
		return -EINVAL; /* the root's guarantee is the store's capacity */
	pthread_mutex_lock(&s->alloc_lock);
	rc = memctl_get(s->memctls, id, &before);
	if (rc == 0)
		rc = clear ? memctl_clear_quota(s->memctls, id) : memctl_set_quota(s->memctls, id, frames);
	pthread_mutex_unlock(&s->alloc_lock);
	if (rc < 0)
		return rc;
	p.parent = before.parent;
	if ((rc = cat_write(s->cat, sm_write, &p)) < 0) {
		pthread_mutex_lock(&s->alloc_lock);
		if (before.has_quota)
			memctl_set_quota(s->memctls, id, before.guarantee_frames);
		else
			memctl_clear_quota(s->memctls, id);
		pthread_mutex_unlock(&s->alloc_lock);
	}
	return rc;
}

int store_memctl_remove(struct store *s, uint64_t id)
{
	struct memctl_info info;
	struct sm_put p = { id, 0, false, true, 0 };
	int rc;

	if (id == CAT_ROOT_ID)
		return -EINVAL;
	pthread_mutex_lock(&s->alloc_lock);
	rc = memctl_get(s->memctls, id, &info);
	if (rc == 0 && (info.usage_frames || info.nchildren))
		rc = -EBUSY;
	pthread_mutex_unlock(&s->alloc_lock);
	if (rc < 0)
		return rc;
	if ((rc = cat_write(s->cat, sm_write, &p)) < 0)
		return rc;
	pthread_mutex_lock(&s->alloc_lock);
	rc = memctl_remove(s->memctls, id, &(uint64_t){ 0 });
	pthread_mutex_unlock(&s->alloc_lock);
	return rc;
}

int store_memctl_info(struct store *s, uint64_t id, struct store_memctl_info *out)
{
	struct memctl_info info;
	int rc;

	pthread_mutex_lock(&s->alloc_lock);
	rc = memctl_get(s->memctls, id, &info);
	pthread_mutex_unlock(&s->alloc_lock);
	if (rc < 0)
		return rc;
	out->has_quota = info.has_quota;
	out->guarantee_frames = info.guarantee_frames;
	out->usage_frames = info.usage_frames;
	out->available_frames = info.available_frames;
	return 0;
}
