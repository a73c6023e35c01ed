// A checkpoint's fold states are decoded from views of its bytes where the fold says it
// only reads them (`Fold.decodesViews`: the claims fold's packed pages, tens of MB at a
// million blocks, are not copied twice at every start and rewind), and from copies
// otherwise; either way the states are the ones encoded.
import { describe, expect, it } from 'vitest';
import type { Fold } from '$lib/core/index.js';
import { decodeCheckpointStates, encodeCheckpointStates } from '$lib/core/ledger/checkpoint-bytes.js';

type Bytes = { bytes: Uint8Array };
const fold = (name: string, decodesViews: boolean): Fold<Bytes> => ({
	name,
	version: 1,
	init: () => ({ bytes: new Uint8Array() }),
	apply: (s) => s,
	encode: (s) => ({ bytes: s.bytes }),
	decode: (v) => ({ bytes: (v as Bytes).bytes }),
	...(decodesViews ? { decodesViews: true } : {})
});

describe('checkpoint states', () => {
	it('are views of the checkpoint for a fold that only reads them, copies for the others, equal to what was encoded', () => {
		const folds = [fold('reads-only', true), fold('keeps-copies', false)] as Fold<unknown>[];
		const states = [{ bytes: Uint8Array.from([1, 2, 3]) }, { bytes: Uint8Array.from([4, 5, 6, 7]) }];
		const bytes = encodeCheckpointStates(folds, states);
		const decoded = decodeCheckpointStates(folds, bytes)!;
		const [viewed, copied] = [decoded.get(0) as Bytes, decoded.get(1) as Bytes];
		expect(viewed.bytes).toEqual(states[0]!.bytes);
		expect(copied.bytes).toEqual(states[1]!.bytes);
		expect(viewed.bytes.buffer).toBe(bytes.buffer);
		expect(copied.bytes.buffer).not.toBe(bytes.buffer);
		// The copy does not change with the checkpoint's bytes.
		bytes.fill(0);
		expect(copied.bytes).toEqual(Uint8Array.from([4, 5, 6, 7]));
	});
});
