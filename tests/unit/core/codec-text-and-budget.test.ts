/** Long texts at any stack depth, encoder-decoder agreement on any string, checking maps without building them, the item budget, and the UTF-8 check. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, fromHex, type CborValue } from '../../../src/lib/core/index.js';
import { scanCanonicalMap } from '../../../src/lib/core/codec.js';
import { isWellFormedUtf8 } from '../../../src/lib/core/utf8.js';
import { LedgerError } from '../../../src/lib/core/errors.js';

/** Runs `work` beneath `frames` extra stack frames, as a decoder deep in a caller's stack would. */
function beneath(frames: number, work: () => void): void {
	const descend = (left: number): number => (left === 0 ? (work(), 0) : descend(left - 1) + 1);
	descend(frames);
}

/** Any UTF-16 string: code units drawn freely, so lone surrogates and valid pairs both occur. */
const anyUnits = fc
	.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), {
		maxLength: 40
	})
	.map((units) => String.fromCharCode(...units));
const wellFormed = (s: string) => !/[\ud800-\udfff]/u.test(s);
/** The ASCII letters and a few non-ASCII characters, long texts are built by repeating one. */
const LONG_LENGTHS = [100_000, 130_000, 1 << 20, 6 * 1024 * 1024 - 16];

describe('long text and the encoder-decoder agreement', () => {
	it.each(LONG_LENGTHS)('decodes an ASCII text and a map key of %i bytes, shallow and deep in the stack', (length) => {
		const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(length / 26)).slice(0, length);
		for (const value of [text, { [text]: 1 }, [0, text]] as CborValue[]) {
			const bytes = encodeCanonical(value);
			expect(decodeCanonical(bytes)).toEqual(value);
			beneath(5_000, () => expect(decodeCanonical(bytes)).toEqual(value));
		}
	});

	it('property: a long text of any characters decodes to itself at any stack depth', () => {
		fc.assert(
			fc.property(
				fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
				fc.integer({ min: 1, max: 6 * 1024 * 1024 - 64 }),
				fc.nat({ max: 8_000 }),
				(piece, bytesWanted, frames) => {
					const unitBytes = new TextEncoder().encode(piece).length;
					const text = piece.repeat(Math.max(1, Math.floor(bytesWanted / unitBytes)));
					const bytes = encodeCanonical(text);
					beneath(frames, () => expect(decodeCanonical(bytes) === text).toBe(true));
				}
			),
			{ numRuns: 8 }
		);
	}, 60_000);

	it('property: any string encodes iff it is well-formed UTF-16, and then decodes to itself; the refusal is a LedgerError', () => {
		fc.assert(
			fc.property(anyUnits, (s) => {
				for (const value of [s, { [s === '__proto__' ? 'x' : s]: s }, [s]] as CborValue[]) {
					let bytes: Uint8Array | undefined;
					let refusal: unknown;
					try {
						bytes = encodeCanonical(value);
					} catch (error) {
						refusal = error;
					}
					if (wellFormed(s)) {
						expect(refusal).toBeUndefined();
						expect(decodeCanonical(bytes!)).toEqual(value);
					} else {
						expect(refusal).toBeInstanceOf(LedgerError);
						expect((refusal as LedgerError).code).toBe('NON_CANONICAL');
					}
				}
			}),
			{ numRuns: 2_000 }
		);
	});

	it('refuses a lone surrogate at encode instead of writing U+FFFD', () => {
		for (const s of ['\ud800', 'a\udc00b', '\udbff', 'x\ud83d']) {
			expect(() => encodeCanonical(s)).toThrow(LedgerError);
			expect(() => encodeCanonical({ [s]: 1 })).toThrow(LedgerError);
		}
		expect(decodeCanonical(encodeCanonical('\ud83d\ude00'))).toBe('\ud83d\ude00');
	});
});

/** Items in a value as the decoder counts them: every value and every map key. */
const itemsIn = (v: CborValue): number =>
	Array.isArray(v)
		? 1 + v.reduce((n: number, x) => n + itemsIn(x), 0)
		: v !== null && typeof v === 'object' && !(v instanceof Uint8Array)
			? 1 + Object.values(v).reduce((n: number, x) => n + 1 + itemsIn(x), 0)
			: 1;

describe('checking without building, and the item budget', () => {
	const leaf = fc.oneof(
		fc.maxSafeInteger(),
		fc.string({ unit: 'binary' }),
		fc.boolean(),
		fc.constant(null),
		fc.uint8Array({ maxLength: 8 })
	);
	const value: fc.Arbitrary<CborValue> = fc.letrec((tie) => ({
		node: fc.oneof(
			{ depthSize: 'small' },
			leaf,
			fc.array(tie('node'), { maxLength: 4 }),
			fc.dictionary(
				fc.string().filter((k) => k !== '__proto__'),
				tie('node'),
				{ maxKeys: 4 }
			)
		)
	})).node as fc.Arbitrary<CborValue>;
	const verdict = (f: () => unknown) => {
		try {
			return { ok: true as const, value: f() };
		} catch (error) {
			expect(error).toBeInstanceOf(LedgerError);
			return { ok: false as const, code: (error as LedgerError).code };
		}
	};

	it('property: scanCanonicalMap accepts exactly the canonical maps decodeCanonical accepts, and its views decode to the same fields', () => {
		const map = fc.dictionary(
			fc.string().filter((k) => k !== '__proto__'),
			value,
			{ maxKeys: 5 }
		);
		fc.assert(
			fc.property(fc.oneof(map, value), fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
				const bytes = encodeCanonical(v);
				const mutated = bytes.slice();
				mutated[at % mutated.length] = byte;
				for (const input of [bytes, mutated, mutated.subarray(0, at % (mutated.length + 1))]) {
					const decoded = verdict(() => decodeCanonical(input));
					const scanned = verdict(() => scanCanonicalMap(input, { maxItems: Infinity, maxEntries: Infinity }));
					const isMap =
						decoded.ok &&
						decoded.value !== null &&
						typeof decoded.value === 'object' &&
						!Array.isArray(decoded.value) &&
						!(decoded.value instanceof Uint8Array);
					expect(scanned.ok).toBe(isMap);
					if (!decoded.ok) expect(scanned).toEqual(decoded);
					if (scanned.ok) {
						const fields = scanned.value as Map<string, Uint8Array>;
						expect(Object.fromEntries([...fields].map(([k, view]) => [k, decodeCanonical(view)]))).toEqual(decoded.value);
					}
				}
			}),
			{ numRuns: 2_000 }
		);
	});

	it('property: a value of n items decodes with a budget of n and is refused (MALFORMED) with n - 1, building and checking alike', () => {
		fc.assert(
			fc.property(value, (v) => {
				const bytes = encodeCanonical(v);
				const n = itemsIn(v);
				expect(decodeCanonical(bytes, { maxItems: n })).toEqual(v);
				expect(() => decodeCanonical(bytes, { maxItems: n - 1 })).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
				const wrapped = encodeCanonical({ v });
				expect(() => scanCanonicalMap(wrapped, { maxItems: n + 2, maxEntries: 1 })).not.toThrow();
				expect(() => scanCanonicalMap(wrapped, { maxItems: n + 1, maxEntries: 1 })).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
			}),
			{ numRuns: 1_000 }
		);
	});

	it('refuses a declared length beyond the input or the budget at its head, before allocating', () => {
		// 2^53 - 1 elements declared, four bytes given: far more than memory could hold.
		for (const hex of [
			'9b001fffffffffffff00000000',
			'bb001fffffffffffff00000000',
			'5b001fffffffffffff00000000',
			'7b001fffffffffffff00000000'
		]) {
			expect(() => decodeCanonical(fromHex(hex), { maxItems: 1e9 })).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }));
		}
		// A million empty maps declared and present, a budget of a thousand: refused at the head.
		const many = new Uint8Array(5 + 1_000_000).fill(0xa0);
		many.set([0x9a, 0x00, 0x0f, 0x42, 0x40]);
		expect(() => decodeCanonical(many, { maxItems: 1_000 })).toThrow(
			expect.objectContaining({ code: 'MALFORMED', detail: 'more than 1000 items' })
		);
		expect((decodeCanonical(many) as CborValue[]).length).toBe(1_000_000);
	});

	it('property: the in-place UTF-8 check agrees with a fatal TextDecoder', () => {
		const fatal = new TextDecoder('utf-8', { fatal: true });
		const accepts = (bytes: Uint8Array) => {
			try {
				fatal.decode(bytes);
				return true;
			} catch {
				return false;
			}
		};
		// Bytes drawn around the boundaries that matter: ASCII, continuation bytes, every lead.
		const utf8ish = fc
			.uint8Array({ maxLength: 12 })
			.chain((seed) =>
				fc
					.array(
						fc.oneof(
							fc.constantFrom(
								0x00,
								0x7f,
								0x80,
								0x8f,
								0x90,
								0x9f,
								0xa0,
								0xbf,
								0xc0,
								0xc1,
								0xc2,
								0xdf,
								0xe0,
								0xed,
								0xee,
								0xef,
								0xf0,
								0xf4,
								0xf5,
								0xff
							),
							fc.integer({ min: 0, max: 255 })
						),
						{ maxLength: 12 }
					)
					.map((tail) => Uint8Array.from([...seed, ...tail]))
			);
		const mutatedText = fc
			.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
			.map(([s, at, byte]) => {
				const bytes = new TextEncoder().encode(s);
				bytes[at % bytes.length] = byte;
				return bytes;
			});
		fc.assert(
			fc.property(fc.oneof(utf8ish, mutatedText), (bytes) => {
				expect(isWellFormedUtf8(bytes, 0, bytes.length)).toBe(accepts(bytes));
			}),
			{ numRuns: 20_000 }
		);
	});
});
