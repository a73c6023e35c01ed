import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, type CborValue } from '$lib/core/index.js';
import { MAP_CHUNK, packMap, unpackMap } from '$lib/domain/json-chunks.js';
import { recordsFold, type RecordsState } from '$lib/domain/records/fold.js';

function sample(): RecordsState {
	const state = recordsFold.init();
	state.requests['q1'] = {
		kind: 'request',
		patient: 'p',
		by: 'm',
		block: 'b5',
		clock: 2,
		index: 0,
		at: 2,
		categories: ['labs'],
		purpose: 'treatment',
		reason: 'x'
	};
	state.requestsByPatient['p'] = ['q1'];
	return state;
}

describe('records fold checkpoint', () => {
	it('gives back the same state through the checkpoint bytes, sharing nothing with the encoded state', () => {
		const state = sample();
		const bytesOut = encodeCanonical(recordsFold.encode(state));
		const back = recordsFold.decode(decodeCanonical(bytesOut) as CborValue);
		expect(back).toEqual(state);
		back.requestsByPatient['p']!.push('new');
		expect(state.requestsByPatient['p']).toEqual(['q1']);
		// A second decode of the same bytes is a separate state too.
		const again = recordsFold.decode(decodeCanonical(bytesOut) as CborValue);
		expect(again.requestsByPatient['p']).toEqual(['q1']);
	});

	it('packs a map too big for one string in pieces, and gives back the same state', () => {
		const state = sample();
		const request = state.requests['q1']!;
		for (let i = 0; i < 2 * MAP_CHUNK + 7; i++) {
			const id = i.toString(16).padStart(32, '0');
			state.requests[id] = { ...request, block: `b${i}` };
			state.requestsByPatient['p']!.push(id);
		}
		state.requestsByPatient['p']!.sort();
		const packed = recordsFold.encode(state) as { requests: Uint8Array[] };
		expect(packed.requests).toHaveLength(3);
		expect(recordsFold.decode(decodeCanonical(encodeCanonical(packed)) as CborValue)).toEqual(state);
	});
});

describe('map pieces', () => {
	it('splits at the size asked, keeps order and values, and gives back an empty map from no piece', () => {
		const map = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, { i, list: [i, 'x'], none: null }]));
		const pieces = packMap(map, 10);
		expect(pieces).toHaveLength(3);
		const back = unpackMap(pieces);
		expect(back).toEqual(map);
		expect(Object.keys(back)).toEqual(Object.keys(map));
		expect(unpackMap(packMap({}))).toEqual({});
	});
});
