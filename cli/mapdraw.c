/*
 * mapdraw.c: scaling a page map to a terminal row (see mapdraw.h).
 *
 * Cost is proportional to runs plus cells, never to pages: a 1 TiB sparse
 * object draws as fast as a small one.
 */
#include <errno.h>
#include <string.h>
#include "mapdraw.h"

int map_scale_fit(uint64_t npages, uint64_t max_cells, struct map_scale *out)
{
	if (max_cells == 0)
		return -EINVAL;
	out->npages = npages;
	if (npages == 0) {
		out->pages_per_cell = 1;
		out->ncells = 0;
		return 0;
	}
	out->pages_per_cell = npages / max_cells + (npages % max_cells != 0);
	out->ncells = npages / out->pages_per_cell + (npages % out->pages_per_cell != 0);
	return 0;
}

void map_cells_add(struct map_cell *cells, const struct map_scale *sc, uint64_t first,
		   uint64_t n, enum map_kind kind)
{
	uint64_t end;

	if (first >= sc->npages || n == 0 || kind >= MAP_NKINDS)
		return;
	end = n > sc->npages - first ? sc->npages : first + n;
	while (first < end) {
		uint64_t cell = first / sc->pages_per_cell;
		uint64_t cell_end = (cell + 1) * sc->pages_per_cell;
		uint64_t stop = cell_end < end ? cell_end : end;
		cells[cell].pages[kind] += stop - first;
		first = stop;
	}
}

enum map_kind map_cell_kind(const struct map_cell *cell)
{
	if (cell->pages[MAP_SWAP] == 0 && cell->pages[MAP_FILE] == 0)
		return MAP_ZERO;
	return cell->pages[MAP_SWAP] ? MAP_SWAP : MAP_FILE;
}

bool map_cell_mixed(const struct map_cell *cell)
{
	unsigned kinds = 0;

	for (unsigned i = 0; i < MAP_NKINDS; i++)
		kinds += cell->pages[i] != 0;
	return kinds > 1;
}

char map_cell_char(const struct map_cell *cell)
{
	static const char pure[MAP_NKINDS] = { '.', 'f', 's' };
	static const char mixed[MAP_NKINDS] = { '.', 'F', 'S' };

	if (cell->pages[0] == 0 && cell->pages[1] == 0 && cell->pages[2] == 0)
		return ' ';
	return (map_cell_mixed(cell) ? mixed : pure)[map_cell_kind(cell)];
}

unsigned map_proportional(const uint64_t counts[MAP_NKINDS], unsigned width,
			  enum map_kind *cells)
{
	static const enum map_kind order[MAP_NKINDS] = { MAP_FILE, MAP_SWAP, MAP_ZERO };
	unsigned share[MAP_NKINDS] = { 0 };
	unsigned __int128 total = 0;
	unsigned used = 0, nonzero = 0;

	for (unsigned i = 0; i < MAP_NKINDS; i++) {
		total += counts[i];
		nonzero += counts[i] != 0;
	}
	if (total == 0 || width == 0)
		return 0;
	/* Largest remainder: floor shares first, then the biggest remainders. */
	unsigned __int128 rem[MAP_NKINDS];
	for (unsigned i = 0; i < MAP_NKINDS; i++) {
		unsigned __int128 scaled = (unsigned __int128)counts[i] * width;
		share[i] = (unsigned)(scaled / total);
		rem[i] = scaled % total;
		used += share[i];
	}
	while (used < width) {
		unsigned best = 0;
		for (unsigned i = 1; i < MAP_NKINDS; i++)
			if (rem[i] > rem[best])
				best = i;
		share[best]++;
		rem[best] = 0;
		used++;
	}
	/* Every kind present is visible: take a cell from the largest band. */
	if (width >= nonzero)
		for (unsigned i = 0; i < MAP_NKINDS; i++)
			if (counts[i] && share[i] == 0) {
				unsigned big = 0;
				for (unsigned k = 1; k < MAP_NKINDS; k++)
					if (share[k] > share[big])
						big = k;
				share[big]--;
				share[i] = 1;
			}
	used = 0;
	for (unsigned o = 0; o < MAP_NKINDS; o++)
		for (unsigned k = 0; k < share[order[o]]; k++)
			cells[used++] = order[o];
	return used;
}
