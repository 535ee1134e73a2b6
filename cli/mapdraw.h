/*
 * mapdraw.h: the arithmetic of `pagerctl map`: fitting a page map into a
 * row of character cells, and choosing each cell's character.
 *
 * A picture of npages pages gets ncells cells of pages_per_cell pages each
 * (the last cell may hold fewer). A cell that holds one kind of page shows
 * that kind ('.' zero, 'f' file, 's' swap). A cell that holds several shows
 * the weightiest kind present, swap over file, in capitals ('S', 'F'), so a
 * lone swap page in a sparse or file-backed object stays visible, as vmtouch
 * marks a chunk resident when any of its pages is. Pure functions, no I/O.
 */
#ifndef PAGERCTL_MAPDRAW_H
#define PAGERCTL_MAPDRAW_H

#include <stdbool.h>
#include <stdint.h>

enum map_kind { MAP_ZERO = 0, MAP_FILE = 1, MAP_SWAP = 2, MAP_NKINDS = 3 };

struct map_scale {
	uint64_t npages;
	uint64_t pages_per_cell;
	uint64_t ncells;
};

/* Fit npages pages into at most max_cells cells (max_cells > 0, else -EINVAL). */
int map_scale_fit(uint64_t npages, uint64_t max_cells, struct map_scale *out);

struct map_cell {
	uint64_t pages[MAP_NKINDS];
};

/* Count [first, first + n) of kind into the cells it covers (clipped to npages). */
void map_cells_add(struct map_cell *cells, const struct map_scale *sc, uint64_t first,
		   uint64_t n, enum map_kind kind);

/* The kind a cell shows: swap if it holds any, else file if any, else zero. */
enum map_kind map_cell_kind(const struct map_cell *cell);
/* Does the cell hold more than one kind? */
bool map_cell_mixed(const struct map_cell *cell);
/* '.', 'f', 's' for a pure cell; 'F', 'S' for a mixed one; ' ' for an empty one. */
char map_cell_char(const struct map_cell *cell);

/*
 * The live mount tells only how many pages of each kind an object has:
 * draw them as proportional bands (file, then swap, then zero) in width
 * cells, each non-empty kind getting at least one cell when width allows.
 * cells[i] gets the whole band's kind; returns the number of cells used
 * (0 when there are no pages).
 */
unsigned map_proportional(const uint64_t counts[MAP_NKINDS], unsigned width,
			  enum map_kind *cells);

#endif /* PAGERCTL_MAPDRAW_H */
