/** Canonical CBOR: RFC 8949 examples, refusals and properties of the encoding, and the strict decoder's agreement with the cborg reference. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, fromHex, toHex, type CborValue } from '../../../src/lib/core/index.js';
import { decodeCanonicalReference } from '../../../src/lib/core/codec.js';

// RFC 8949 Appendix A examples that lie inside our subset: the canonical bytes must
// round-trip exactly.
const RFC8949_CANONICAL: [CborValue, string][] = [
	[0, '00'],
	[1, '01'],
	[10, '0a'],
	[23, '17'],
	[24, '1818'],
	[25, '1819'],
	[100, '1864'],
	[1000, '1903e8'],
	[1000000, '1a000f4240'],
	[-1, '20'],
	[-10, '29'],
	[-100, '3863'],
	[-1000, '3903e7'],
	[false, 'f4'],
	[true, 'f5'],
	[null, 'f6'],
	[new Uint8Array([]), '40'],
	[new Uint8Array([1, 2, 3, 4]), '4401020304'],
	['', '60'],
	['a', '6161'],
	['IETF', '6449455446'],
	['"\\', '62225c'],
	['\u00fc', '62c3bc'],
	['\u6c34', '63e6b0b4'],
	['\ud800\udd51', '64f0908591'],
	[[], '80'],
	[[1, 2, 3], '83010203'],
	[[1, [2, 3], [4, 5]], '8301820203820405'],
	[Array.from({ length: 25 }, (_, i) => i + 1), '98190102030405060708090a0b0c0d0e0f101112131415161718181819'],
	[{}, 'a0'],
	[{ a: 1, b: [2, 3] }, 'a26161016162820203'],
	[['a', { b: 'c' }], '826161a161626163'],
	[{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
	[9007199254740991, '1b001fffffffffffff']
];

// Valid CBOR that is not the deterministic encoding of its value (RFC 8949 §4.2.1),
// or outside the subset: all must be refused.
const NON_CANONICAL: [string, string][] = [
	['1801', 'integer 1 with a one-byte argument'],
	['190001', 'integer 1 with a two-byte argument'],
	['1a00000001', 'integer 1 with a four-byte argument'],
	['1b0000000000000001', 'integer 1 with an eight-byte argument'],
	['3800', 'negative -1 with a one-byte argument'],
	['5801ff', 'byte string length in a one-byte argument'],
	['780161', 'text length in a one-byte argument'],
	['980100', 'array length in a one-byte argument'],
	['b8016161 01'.replace(' ', ''), 'map length in a one-byte argument'],
	['a2616201616101', 'map keys out of order (b before a)'],
	['a2616101616102', 'duplicate map key'],
	['a1016161', 'integer map key'],
	['9f01ff', 'indefinite-length array'],
	['5f4101ff', 'indefinite-length byte string'],
	['f7', 'undefined'],
	['f93c00', 'half float 1.0 (an integer value as a float)'],
	['fb3ff8000000000000', 'double 1.5 (floats are not allowed)'],
	['f97e00', 'NaN'],
	['c11a514b67b0', 'tag 1 (epoch date)'],
	['c249010000000000000000', 'bignum tag'],
	['1bffffffffffffffff', 'integer beyond 2^53'],
	['62c328', 'invalid UTF-8 in text'],
	['0101', 'trailing bytes'],
	['', 'empty input'],
	['83', 'truncated array'],
	['4401', 'truncated byte string']
];

describe('canonical CBOR', () => {
	it.each(RFC8949_CANONICAL.map(([v, h]) => [h, v] as const))('encodes and decodes RFC 8949 example %s', (hex, value) => {
		expect(toHex(encodeCanonical(value))).toBe(hex);
		expect(decodeCanonical(fromHex(hex))).toEqual(value);
	});

	it.each(NON_CANONICAL)('refuses %s (%s)', (hex) => {
		expect(() => decodeCanonical(fromHex(hex))).toThrow(
			expect.objectContaining({ code: expect.stringMatching(/^(NON_CANONICAL|MALFORMED)$/) })
		);
	});

	it('refuses to encode values outside the subset', () => {
		expect(() => encodeCanonical(1.5 as CborValue)).toThrow(/safe integers/);
		expect(() => encodeCanonical({ a: undefined } as unknown as CborValue)).toThrow();
		expect(() => encodeCanonical(new Date() as unknown as CborValue)).toThrow(/unsupported/);
	});

	const value: fc.Arbitrary<CborValue> = fc.letrec((tie) => ({
		leaf: fc.oneof(fc.maxSafeInteger(), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 40 })),
		node: fc.oneof(
			{ depthSize: 'small' },
			tie('leaf'),
			fc.array(tie('node'), { maxLength: 5 }),
			fc.dictionary(
				fc.string().filter((k) => k !== '__proto__'),
				tie('node'),
				{ maxKeys: 5 }
			)
		)
	})).node as fc.Arbitrary<CborValue>;

	it('property: decode(encode(x)) = x and encoding is deterministic', () => {
		fc.assert(
			fc.property(value, (v) => {
				const bytes = encodeCanonical(v);
				expect(decodeCanonical(bytes)).toEqual(v);
				expect(toHex(encodeCanonical(decodeCanonical(bytes)))).toBe(toHex(bytes));
			}),
			{ numRuns: 500 }
		);
	});

	it('property: with `views`, the same value, its byte strings views of the input; without, copies the input does not change', () => {
		const byteStrings = (v: unknown): Uint8Array[] =>
			v instanceof Uint8Array
				? [v]
				: Array.isArray(v)
					? v.flatMap(byteStrings)
					: v && typeof v === 'object'
						? Object.values(v).flatMap(byteStrings)
						: [];
		fc.assert(
			fc.property(value, (v) => {
				const bytes = encodeCanonical(v);
				const viewed = decodeCanonical(bytes, { views: true });
				expect(viewed).toEqual(v);
				for (const b of byteStrings(viewed)) expect(b.buffer).toBe(bytes.buffer);
				const copied = decodeCanonical(bytes);
				const before = structuredClone(copied);
				for (const b of byteStrings(copied)) expect(b.buffer).not.toBe(bytes.buffer);
				bytes.fill(0xff);
				expect(copied).toEqual(before);
			}),
			{ numRuns: 300 }
		);
	});

	it('property: a map encodes the same whatever the insertion order of its keys', () => {
		fc.assert(
			fc.property(
				fc.dictionary(
					fc.string().filter((k) => k !== '__proto__'),
					fc.integer(),
					{ maxKeys: 8 }
				),
				(dict) => {
					const reversed = Object.fromEntries(Object.entries(dict).reverse());
					expect(toHex(encodeCanonical(reversed))).toBe(toHex(encodeCanonical(dict)));
				}
			)
		);
	});
});

describe('own strict decoder agrees with the cborg reference', () => {
	const verdict = (f: (b: Uint8Array) => CborValue, bytes: Uint8Array) => {
		try {
			return { ok: true, value: f(bytes) };
		} catch (error) {
			return { ok: false, code: (error as { code?: string }).code };
		}
	};

	it('on every listed case', () => {
		for (const [, hex] of RFC8949_CANONICAL)
			expect(verdict(decodeCanonical, fromHex(hex))).toEqual(verdict(decodeCanonicalReference, fromHex(hex)));
		for (const [hex] of NON_CANONICAL) {
			expect(verdict(decodeCanonical, fromHex(hex)).ok, hex).toBe(false);
			expect(verdict(decodeCanonicalReference, fromHex(hex)).ok, hex).toBe(false);
		}
	});

	it('property: on random byte strings and on mutated canonical encodings, both accept exactly the same inputs', () => {
		const leafy = fc.oneof(
			fc.maxSafeInteger(),
			fc.string({ unit: 'grapheme' }),
			fc.boolean(),
			fc.constant(null),
			fc.uint8Array({ maxLength: 20 })
		);
		const value = fc.oneof(
			leafy,
			fc.array(leafy, { maxLength: 4 }),
			fc.dictionary(
				fc.string().filter((k) => k !== '__proto__'),
				leafy,
				{ maxKeys: 4 }
			)
		);
		fc.assert(
			fc.property(value, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
				const bytes = encodeCanonical(v as CborValue);
				const mutated = bytes.slice();
				mutated[at % mutated.length] = byte;
				for (const input of [bytes, mutated, mutated.subarray(0, at % (mutated.length + 1))]) {
					const ours = verdict(decodeCanonical, input);
					const ref = verdict(decodeCanonicalReference, input);
					expect(ours.ok).toBe(ref.ok);
					if (ours.ok) expect(ours.value).toEqual(ref.value);
				}
			}),
			{ numRuns: 3000 }
		);
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
				expect(verdict(decodeCanonical, bytes).ok).toBe(verdict(decodeCanonicalReference, bytes).ok);
			}),
			{ numRuns: 3000 }
		);
	});
});
