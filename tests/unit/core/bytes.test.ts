// toHex: the same text as the plain byte-by-byte form for every length and byte, and a
// flat string: a hex key made by `+=` was a tree of string pieces that V8 keeps as it is,
// about ten times the memory of the flat string for every key the ledger's state holds.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/lib/core/bytes.js';
import { prng } from '../../../src/lib/core/testing/prng.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The oracle: two digits per byte, in order. */
const plainHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

describe('toHex', () => {
	it('writes two lower-case digits per byte, for every byte value and every length around its internal part sizes', () => {
		const all = Uint8Array.from({ length: 256 }, (_, i) => i);
		expect(toHex(all)).toBe(plainHex(all));
		const random = prng(19);
		for (const n of [0, 1, 2, 6, 7, 13, 16, 24, 32, 63, 64, 65, 100, 2047, 2048, 2049, 4096, 4097, 10_000, 100_003]) {
			const bytes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
			const hex = toHex(bytes);
			expect(hex).toBe(plainHex(bytes));
			expect(fromHex(hex)).toEqual(bytes);
		}
	});

	it('gives each call its own text: a reused buffer never shows through in an earlier result', () => {
		const a = toHex(new Uint8Array(32).fill(0xab));
		const b = toHex(new Uint8Array(32).fill(0x01));
		expect(a).toBe('ab'.repeat(32));
		expect(b).toBe('01'.repeat(32));
	});

	it('keeps a 32-byte key in about the memory of its 64 characters (flat), not a tree of pieces', () => {
		const random = prng(7);
		const inputs = Array.from({ length: 50_000 }, () => Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)));
		gc();
		const before = process.memoryUsage().heapUsed;
		const kept = inputs.map(toHex);
		gc();
		const perKey = (process.memoryUsage().heapUsed - before) / kept.length;
		expect(kept[0]).toBe(plainHex(inputs[0]!));
		// A flat one-byte string of 64 characters is 80-88 bytes, plus the array's slot; the
		// `+=` form kept about 870 bytes per key.
		expect(perKey).toBeLessThan(250);
	});
});
