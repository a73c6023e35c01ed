import type { Block, Fold } from '../../../src/lib/core/index.js';

/** Written into the checkpoint beside each entry: checkpoints pass 1 MiB (`COMPRESS_FROM_BYTES`) after about 30 blocks. */
const PAD = 'padding '.repeat(5_000);

/** A fold that depends on order (a running list of the blocks), its checkpoints large enough to be compressed (core/ledger/checkpoint-bytes.ts). */
export const paddedOrderedFold: Fold<string[]> = {
	name: 'ordered',
	version: 1,
	init: () => [],
	apply: (state, block: Block) => {
		state.push(`${block.clock}:${block.id}`);
		return state;
	},
	encode: (state) => state.map((entry) => `${entry}|${PAD}`),
	decode: (value) => (value as string[]).map((entry) => entry.slice(0, entry.indexOf('|')))
};
