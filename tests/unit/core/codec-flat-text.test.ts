// Short ASCII text decoded from canonical CBOR is one flat string: built by `+=`, text of
// 13 characters or more was a tree of pieces (one per character past the 12th) that V8
// keeps as it is in whatever state holds it (codes, lot numbers, ids).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../../../src/lib/core/index.js';
import { prng } from '../../../src/lib/core/testing/prng.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('canonical text', () => {
	it('decodes every length of ASCII text, and non-ASCII text, as written, one call not showing through in the next', () => {
		const random = prng(13);
		for (let n = 0; n <= 40; n++) {
			const a = Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
			const b = Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
			const [da, db] = [a, b].map((t) => decodeCanonical(encodeCanonical({ t })) as { t: string });
			expect(da!.t).toBe(a);
			expect(db!.t).toBe(b);
		}
		for (const t of ['é', 'lot-ä-2026', 'ü'.repeat(20), '患者'.repeat(10)])
			expect((decodeCanonical(encodeCanonical({ t })) as { t: string }).t).toBe(t);
	});

	it('keeps a decoded 32-character text in about the memory of its characters, not a tree of pieces', () => {
		const random = prng(3);
		const encoded = Array.from({ length: 50_000 }, (_, i) =>
			encodeCanonical({
				lot: `${i}`.padStart(8, '0') + Array.from({ length: 24 }, () => 'abcdef0123456789'[Math.floor(random() * 16)]).join('')
			})
		);
		gc();
		const before = process.memoryUsage().heapUsed;
		const kept = encoded.map((bytes) => (decodeCanonical(bytes) as { lot: string }).lot);
		gc();
		const perText = (process.memoryUsage().heapUsed - before) / kept.length;
		expect(kept[7]!.length).toBe(32);
		// A flat one-byte string of 32 characters is about 48 bytes, plus the array's slot;
		// built by `+=` it kept about 650.
		expect(perText).toBeLessThan(200);
	});
});
