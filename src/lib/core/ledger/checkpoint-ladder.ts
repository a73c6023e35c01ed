/**
 * Which checkpoints a ledger keeps. Each one holds the whole state (tens of MB for a
 * network's years of claims), and one is written every 1,000 to 20,000 blocks: kept
 * forever, they grow with the square of the ledger (a 100,000-block clinic ledger wrote
 * 90-odd checkpoints of up to 7 MB). A checkpoint is only needed as a place to rewind to
 * when a block lands before blocks already folded, and a block that lands far back costs a
 * long refold anyway: so the older a stretch of the ledger, the further apart its
 * checkpoints may be.
 *
 * The rule: a checkpoint is dropped when the two kept around it are no further apart than
 * the newer of them is from the newest checkpoint. Then a block landing at any place refolds
 * from a checkpoint at most as far before it as it is before the newest checkpoint (or one
 * checkpoint gap, where no checkpoint was dropped), and the checkpoints kept number about
 * twice the log2 of the ledger's clock over the gap: 20-odd for millions of blocks. Ages
 * only grow, so a gap allowed once stays allowed. Distances are in clock ticks, the first
 * part of a block's place in the order. The oldest and the newest checkpoint are never
 * dropped.
 */
import type { OrderKey } from '../storage/store.js';

/** Of `positions` (ascending, as the store lists them), those to drop. */
export function checkpointsToDrop(positions: readonly OrderKey[]): OrderKey[] {
	const drop: OrderKey[] = [];
	if (positions.length < 3) return drop;
	const newest = positions[positions.length - 1]![0];
	let before = positions[0]![0];
	for (let i = 1; i < positions.length - 1; i++) {
		const after = positions[i + 1]![0];
		if (after - before <= newest - after) drop.push(positions[i]!);
		else before = positions[i]![0];
	}
	return drop;
}
