/** Decoded checkpoints in tests: a fold's state in one (the checkpoint form of core/ledger/fold-engine.ts). */
import { decodeCanonical, encodeCanonical, type Checkpoint, type LedgerStore } from '../../../src/lib/core/index.js';
import { decompressCheckpoint } from '../../../src/lib/core/ledger/checkpoint-bytes.js';

/** A checkpoint's states, one per fold, with where fold `name`'s is (its encoded state can be replaced, then `store`d). */
export async function checkpointStates(checkpoint: Checkpoint, name: string) {
	const value = decodeCanonical(await decompressCheckpoint(checkpoint.state)) as { folds: string; states: Uint8Array[] };
	const at = value.folds
		.split(';')[1]!
		.split(',')
		.findIndex((f) => f.startsWith(`${name}@`));
	return {
		state: value.states[at]!,
		/** Writes the checkpoint back with fold `name`'s state replaced by `state`. */
		store: (store: LedgerStore, state: Uint8Array) => {
			value.states[at] = state;
			return store.putCheckpoint({ ...checkpoint, state: encodeCanonical(value) });
		}
	};
}
