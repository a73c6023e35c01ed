/**
 * The single-pass canonical writer (core/canonical-writer.ts) against the encoder it
 * replaced (a check pass, then cborg: `encodeCanonicalReference`): the same bytes for every
 * value in the subset, the same refusal (code and message) for a value with one defect
 * anywhere in it, and the writer's own buffer never showing through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, toHex, type CborValue } from '../../../src/lib/core/index.js';
import { encodeCanonicalReference, MAX_DEPTH } from '../../../src/lib/core/codec.js';

const verdict = (encode: (v: CborValue) => Uint8Array, value: unknown) => {
	try {
		return { ok: true, hex: toHex(encode(value as CborValue)) };
	} catch (error) {
		const e = error as { name?: string; code?: string; message?: string };
		return { ok: false, name: e.name, code: e.code, message: e.message };
	}
};

/** Integers at and beside every head width's edges, and anywhere in the safe range. */
const integer = fc.oneof(
	fc
		.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -0)
		.chain((n) => fc.constantFrom(n, -n, n - 1, -n - 1).filter((m) => Number.isSafeInteger(m))),
	fc.maxSafeInteger()
);
/** Text of any code points (astral, non-ASCII, ASCII), at any length's head width. */
const text = fc.oneof(
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 10 },
	{ arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 10 },
	{ arbitrary: fc.string({ maxLength: 300 }), weight: 10 },
	{ arbitrary: fc.nat({ max: 70_000 }).map((n) => 'é'.repeat(n)), weight: 1 }
);
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 })).filter((k) => k !== '__proto__');

const value: fc.Arbitrary<CborValue> = fc.letrec((tie) => ({
	leaf: fc.oneof(
		{ arbitrary: integer, weight: 10 },
		{ arbitrary: text, weight: 10 },
		{ arbitrary: fc.boolean(), weight: 3 },
		{ arbitrary: fc.constant(null), weight: 3 },
		{ arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 5 },
		{ arbitrary: fc.uint8Array({ minLength: 5000, maxLength: 9000 }), weight: 1 }
	),
	node: fc.oneof(
		{ depthSize: 'small', maxDepth: 6 },
		tie('leaf'),
		fc.array(tie('node'), { maxLength: 12 }),
		fc.dictionary(key, tie('node'), { maxKeys: 12 }),
		fc.dictionary(key, tie('node'), { maxKeys: 12 }).map((d) => Object.assign(Object.create(null), d))
	)
})).node as fc.Arbitrary<CborValue>;

/** One value outside the subset: each is refused by both encoders. */
const defect: fc.Arbitrary<() => unknown> = fc.constantFrom(
	() => undefined,
	() => 1.5,
	() => Number.NaN,
	() => Number.POSITIVE_INFINITY,
	() => Number.MAX_SAFE_INTEGER + 1,
	() => -(2 ** 60),
	() => 10n,
	() => () => 1,
	() => Symbol('s'),
	() => new Date(0),
	() => new Map([['a', 1]]),
	() => new Uint16Array(2),
	() => 'ok \ud800 lone',
	() => '\udc00',
	() => ({ ['x\udfff']: 1 }),
	() => JSON.parse('{"a": 1, "__proto__": 2}'),
	() => [1, , 3], // eslint-disable-line no-sparse-arrays
	() => {
		let deep: unknown = 0;
		for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
		return deep;
	}
);

/** `v` with its `at`-th place (in walk order: itself, then its items) replaced by `bad`. */
function plant(v: unknown, at: { n: number }, bad: unknown): unknown {
	if (at.n-- === 0) return bad;
	if (Array.isArray(v)) return v.map((item) => plant(item, at, bad));
	if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
		const out = Object.create(Object.getPrototypeOf(v));
		for (const k of Object.keys(v)) out[k] = plant((v as Record<string, unknown>)[k], at, bad);
		return out;
	}
	return v;
}

describe('canonical writer', () => {
	it('property: the same bytes as the reference encoder for every value in the subset, and they decode to the value', () => {
		fc.assert(
			fc.property(value, (v) => {
				const bytes = encodeCanonical(v);
				expect(toHex(bytes)).toBe(toHex(encodeCanonicalReference(v)));
				// Decoded and written again, the same bytes (-0 is written as 0, so the value may not be).
				expect(toHex(encodeCanonical(decodeCanonical(bytes)))).toBe(toHex(bytes));
			}),
			{ numRuns: 300 }
		);
	});

	it('property: a value with one defect anywhere is refused by both, with the same code and message', () => {
		fc.assert(
			fc.property(value, defect, fc.nat(), (v, bad, where) => {
				const places = { n: Number.MAX_SAFE_INTEGER };
				plant(v, places, null);
				const count = Number.MAX_SAFE_INTEGER - places.n;
				const planted = plant(v, { n: where % count }, bad());
				const ours = verdict(encodeCanonical, planted);
				expect(ours.ok).toBe(false);
				expect(ours.name).toBe('LedgerError');
				expect(ours).toEqual(verdict(encodeCanonicalReference, planted));
			}),
			{ numRuns: 400 }
		);
	});

	it('orders map keys by their encoding: shorter first, then by UTF-8 bytes, not by UTF-16 units', () => {
		const map = { '\u{10000}': 1, '\uffff': 2, z: 3, aa: 4, é: 5, b: 6, '': 7 };
		expect(toHex(encodeCanonical(map))).toBe(toHex(encodeCanonicalReference(map)));
		expect(Object.keys(decodeCanonical(encodeCanonical(map)) as object)).toEqual(['', 'b', 'z', 'aa', 'é', '\uffff', '\u{10000}']);
	});

	it('hands back bytes of its own: a later call, a larger one or one made from inside a getter, changes none of them', () => {
		const first = encodeCanonical({ a: 'first', n: 1 });
		const kept = toHex(first);
		const large = encodeCanonical({ blob: new Uint8Array(3 << 20).fill(7), tail: 'x' });
		expect(toHex(large)).toBe(toHex(encodeCanonicalReference({ blob: new Uint8Array(3 << 20).fill(7), tail: 'x' })));
		expect(toHex(encodeCanonical({ a: 'third', n: 3 }))).toBe(toHex(encodeCanonicalReference({ a: 'third', n: 3 })));
		expect(toHex(first)).toBe(kept);
		expect(first.buffer.byteLength).toBe(first.length);

		let inner: Uint8Array | null = null;
		const sneaky = {
			before: 'b'.repeat(100),
			get x() {
				inner = encodeCanonical({ inner: 'y'.repeat(200) });
				return 1;
			},
			z: 2
		};
		const outer = encodeCanonical(sneaky as unknown as CborValue);
		expect(decodeCanonical(outer)).toEqual({ before: 'b'.repeat(100), x: 1, z: 2 });
		expect(decodeCanonical(inner!)).toEqual({ inner: 'y'.repeat(200) });
	});
});
