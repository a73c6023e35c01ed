/**
 * Small-cell suppression with complementary suppression.
 *
 * A table is published with its margins (row totals, column totals, grand total). Every
 * entry from 1 to {@link MIN_CELL}−1 is suppressed (primary); zero is shown. That alone
 * is not enough: a suppressed cell alone in its row is its row total minus the others.
 *
 * Exactly when can a suppressed entry be recomputed from the published ones? View the
 * table with margins as a bipartite graph: one node per row line (the total row
 * included), one per column line, and each suppressed entry an edge between its row and
 * column. The published totals fix, at every node, the signed sum of its suppressed
 * edges; the unknowns left free are exactly the cycles of this graph. So an entry can be
 * recomputed exactly if and only if its edge is a bridge (on no cycle). Complementary
 * suppression therefore adds entries until no suppressed entry is a bridge, preferring
 * the smallest non-zero entry that closes a cycle through the bridge.
 *
 * Not covered (docs/research.md): bounds an attacker derives from non-negativity (a
 * suppressed cell is known to lie in an interval, not its value), and linking with
 * other releases, which the privacy budget addresses for noisy answers.
 */
import { CodedError } from '$lib/core/index.js';

/** Cells under this are suppressed (1 to 10; zero is shown). */
export const MIN_CELL = 11;

/** A table as computed, before anything is hidden. */
export interface Table {
	readonly rows: readonly string[];
	readonly cols: readonly string[];
	/** cells[r][c], whole numbers ≥ 0. */
	readonly cells: readonly (readonly number[])[];
}

/** A published table: null marks a suppressed entry. */
export interface PublishedTable {
	rows: string[];
	cols: string[];
	cells: (number | null)[][];
	rowTotals: (number | null)[];
	colTotals: (number | null)[];
	total: number | null;
	/** Entries hidden because they were small, and those hidden to protect them. */
	primary: number;
	complementary: number;
}

/** The table with its margins, as an (R+1) × (C+1) grid. */
export function withMargins(table: Table): number[][] {
	const R = table.rows.length;
	const C = table.cols.length;
	const grid = Array.from({ length: R + 1 }, () => new Array<number>(C + 1).fill(0));
	for (let r = 0; r < R; r++) {
		for (let c = 0; c < C; c++) {
			const v = table.cells[r]![c]!;
			grid[r]![c] = v;
			grid[r]![C]! += v;
			grid[R]![c]! += v;
			grid[R]![C]! += v;
		}
	}
	return grid;
}

/** True when suppressed entry (r, c) of `hidden` lies on no cycle, i.e. it can be recomputed. */
export function isRecoverable(hidden: readonly (readonly boolean[])[], r: number, c: number): boolean {
	const rows = hidden.length;
	const cols = hidden[0]!.length;
	// Search from row node r to column node c without using the edge (r, c).
	const seenRow = new Array<boolean>(rows).fill(false);
	const seenCol = new Array<boolean>(cols).fill(false);
	const queue: [kind: 0 | 1, index: number][] = [[0, r]];
	seenRow[r] = true;
	while (queue.length > 0) {
		const [kind, i] = queue.pop()!;
		if (kind === 0) {
			for (let j = 0; j < cols; j++) {
				if (!hidden[i]![j] || seenCol[j] || (i === r && j === c)) continue;
				if (j === c) return false;
				seenCol[j] = true;
				queue.push([1, j]);
			}
		} else {
			for (let k = 0; k < rows; k++) {
				if (!hidden[k]![i] || seenRow[k] || (k === r && i === c)) continue;
				seenRow[k] = true;
				queue.push([0, k]);
			}
		}
	}
	return true;
}

/** Row and column nodes reachable from a node (row when `kind` is 0) without the edge (r, c). */
function component(hidden: readonly (readonly boolean[])[], kind: 0 | 1, start: number, r: number, c: number) {
	const rows = hidden.length;
	const cols = hidden[0]!.length;
	const seenRow = new Array<boolean>(rows).fill(false);
	const seenCol = new Array<boolean>(cols).fill(false);
	const queue: [0 | 1, number][] = [[kind, start]];
	(kind === 0 ? seenRow : seenCol)[start] = true;
	while (queue.length > 0) {
		const [k, i] = queue.pop()!;
		if (k === 0) {
			for (let j = 0; j < cols; j++)
				if (hidden[i]![j] && !seenCol[j] && !(i === r && j === c)) {
					seenCol[j] = true;
					queue.push([1, j]);
				}
		} else {
			for (let m = 0; m < rows; m++)
				if (hidden[m]![i] && !seenRow[m] && !(m === r && i === c)) {
					seenRow[m] = true;
					queue.push([0, m]);
				}
		}
	}
	return { seenRow, seenCol };
}

/** Cheaper entries first: small non-zero values, then zeros, then by position. */
const preference = (v: number) => (v === 0 ? Number.MAX_SAFE_INTEGER : v);

/**
 * Which entries of a grid (with margins) to hide: the small ones, then complements until
 * none can be recomputed. Returns the hidden mask and the number of primary entries.
 */
export function suppressGrid(grid: readonly (readonly number[])[], minCell = MIN_CELL): { hidden: boolean[][]; primary: number } {
	const rows = grid.length;
	const cols = grid[0]!.length;
	const hidden = grid.map((line) => line.map((v) => v > 0 && v < minCell));
	const primary = hidden.flat().filter(Boolean).length;
	for (;;) {
		let bridge: [number, number] | null = null;
		for (let r = 0; r < rows && !bridge; r++)
			for (let c = 0; c < cols && !bridge; c++) if (hidden[r]![c] && isRecoverable(hidden, r, c)) bridge = [r, c];
		if (!bridge) break;
		const [br, bc] = bridge;
		// Entries joining the bridge's two sides close a cycle through it.
		const a = component(hidden, 0, br, br, bc);
		const b = component(hidden, 1, bc, br, bc);
		let best: [number, number] | null = null;
		const consider = (r: number, c: number) => {
			if (hidden[r]![c]) return;
			if (!best || preference(grid[r]![c]!) < preference(grid[best[0]]![best[1]]!)) best = [r, c];
		};
		// A row on the bridge's row side with a column on its column side, or the reverse.
		for (let r = 0; r < rows; r++)
			for (let c = 0; c < cols; c++) if ((a.seenRow[r] && b.seenCol[c]) || (b.seenRow[r] && a.seenCol[c])) consider(r, c);
		if (!best) {
			for (let c = 0; c < cols; c++) consider(br, c);
			for (let r = 0; r < rows; r++) consider(r, bc);
		}
		if (!best) throw new CodedError('SUPPRESSION_FAILED', 'suppression: no entry left to hide'); // unreachable: a fully hidden grid has no bridge
		hidden[best[0]]![best[1]] = true;
	}
	return { hidden, primary };
}

/** Publishes `table` with margins, hiding small entries and their complements. */
export function suppressTable(table: Table, minCell = MIN_CELL): PublishedTable {
	const grid = withMargins(table);
	const { hidden, primary } = suppressGrid(grid, minCell);
	const R = table.rows.length;
	const C = table.cols.length;
	const shown = (r: number, c: number) => (hidden[r]![c] ? null : grid[r]![c]!);
	const complementary = hidden.flat().filter(Boolean).length - primary;
	return {
		rows: [...table.rows],
		cols: [...table.cols],
		cells: Array.from({ length: R }, (_, r) => Array.from({ length: C }, (_, c) => shown(r, c))),
		rowTotals: Array.from({ length: R }, (_, r) => shown(r, C)),
		colTotals: Array.from({ length: C }, (_, c) => shown(R, c)),
		total: shown(R, C),
		primary,
		complementary
	};
}

/** A single count: shown when 0 or at least {@link MIN_CELL}, else hidden. */
export function suppressCount(count: number, minCell = MIN_CELL): number | null {
	return count > 0 && count < minCell ? null : count;
}
