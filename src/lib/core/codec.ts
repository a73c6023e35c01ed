/**
 * Canonical CBOR (RFC 8949 §4.2.1 core deterministic encoding) restricted to the value
 * types a ledger needs: unsigned/negative safe integers, byte strings, UTF-8 text,
 * arrays, maps with text keys, booleans and null. No floats, tags, undefined, bigints or
 * indefinite lengths.
 *
 * Encoding is cborg's (RFC 8949 options). Decoding is our own single-pass strict reader:
 * every deterministic-encoding rule is checked on the bytes. The cborg decode +
 * re-encode check it replaced is kept as `decodeCanonicalReference`, and property tests
 * assert both accept and refuse the same inputs. One value has exactly one accepted
 * encoding.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { bytesEqual } from './bytes.js';
import { LedgerError } from './errors.js';

/** A value that has a canonical encoding. */
export type CborValue =
	| number
	| string
	| boolean
	| null
	| Uint8Array
	| CborValue[]
	| { [key: string]: CborValue };

const DECODE_OPTIONS = {
	strict: true,
	allowIndefinite: false,
	allowUndefined: false,
	allowNaN: false,
	allowInfinity: false,
	allowBigInt: false,
	rejectDuplicateMapKeys: true,
	useMaps: false
} as const;

/** Nesting deeper than this is refused: no legitimate ledger value needs it. */
export const MAX_DEPTH = 32;

function checkValue(value: unknown, depth: number, path: string): void {
	if (depth > MAX_DEPTH) throw new LedgerError('MALFORMED', `${path}: nested deeper than ${MAX_DEPTH}`);
	switch (typeof value) {
		case 'string':
		case 'boolean':
			return;
		case 'number':
			if (!Number.isSafeInteger(value)) {
				throw new LedgerError('NON_CANONICAL', `${path}: only safe integers are allowed, got ${value}`);
			}
			return;
		case 'object':
			if (value === null || value instanceof Uint8Array) return;
			if (Array.isArray(value)) {
				value.forEach((item, i) => checkValue(item, depth + 1, `${path}[${i}]`));
				return;
			}
			if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
				throw new LedgerError('MALFORMED', `${path}: unsupported object type`);
			}
			for (const [key, item] of Object.entries(value)) {
				if (key === '__proto__') throw new LedgerError('MALFORMED', `${path}: key __proto__ is not allowed`);
				checkValue(item, depth + 1, `${path}.${key}`);
			}
			return;
		default:
			throw new LedgerError('NON_CANONICAL', `${path}: ${typeof value} has no canonical encoding`);
	}
}

/** The canonical encoding of `value`; throws a {@link LedgerError} for values outside the subset. */
export function encodeCanonical(value: CborValue): Uint8Array {
	checkValue(value, 0, '$');
	const out = encode(value, rfc8949EncodeOptions);
	// cborg may hand back a Node Buffer; callers get a plain Uint8Array everywhere.
	return Object.getPrototypeOf(out) === Uint8Array.prototype ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO_32 = 2 ** 32;

/**
 * A single-pass strict decoder for the subset: every rule of the deterministic encoding is
 * checked on the bytes themselves (shortest heads, definite lengths, map keys as text in
 * strictly increasing encoded order, valid UTF-8, no floats, tags or undefined), so no
 * second encoding pass is needed. Measured against cborg decode + re-encode in
 * docs/benchmarks.md; the encoder stays cborg's.
 */
class StrictReader {
	pos = 0;
	constructor(private readonly bytes: Uint8Array) {}

	#fail(detail: string): never {
		throw new LedgerError('NON_CANONICAL', `at byte ${this.pos}: ${detail}`);
	}

	#need(n: number): void {
		if (this.pos + n > this.bytes.length) this.#fail('truncated');
	}

	/** The argument of a head, checked to be in its shortest form. */
	#argument(info: number): number {
		const b = this.bytes;
		if (info < 24) return info;
		if (info === 24) {
			this.#need(1);
			const v = b[this.pos++]!;
			if (v < 24) this.#fail('non-minimal argument');
			return v;
		}
		if (info === 25) {
			this.#need(2);
			const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
			this.pos += 2;
			if (v < 0x100) this.#fail('non-minimal argument');
			return v;
		}
		if (info === 26) {
			this.#need(4);
			const v = ((b[this.pos]! << 24) >>> 0) + (b[this.pos + 1]! << 16) + (b[this.pos + 2]! << 8) + b[this.pos + 3]!;
			this.pos += 4;
			if (v < 0x10000) this.#fail('non-minimal argument');
			return v;
		}
		if (info === 27) {
			this.#need(8);
			const hi = ((b[this.pos]! << 24) >>> 0) + (b[this.pos + 1]! << 16) + (b[this.pos + 2]! << 8) + b[this.pos + 3]!;
			const lo = ((b[this.pos + 4]! << 24) >>> 0) + (b[this.pos + 5]! << 16) + (b[this.pos + 6]! << 8) + b[this.pos + 7]!;
			this.pos += 8;
			if (hi === 0) this.#fail('non-minimal argument');
			if (hi > 0x1fffff) this.#fail('integer beyond 2^53');
			return hi * TWO_32 + lo;
		}
		if (info === 31) this.#fail('indefinite length');
		this.#fail(`reserved additional information ${info}`);
	}

	item(depth: number): CborValue {
		if (depth > MAX_DEPTH) throw new LedgerError('MALFORMED', `nested deeper than ${MAX_DEPTH}`);
		this.#need(1);
		const head = this.bytes[this.pos++]!;
		const major = head >> 5;
		const info = head & 31;
		if (major === 7) {
			if (info === 20) return false;
			if (info === 21) return true;
			if (info === 22) return null;
			this.#fail(info === 23 ? 'undefined' : info >= 25 && info <= 27 ? 'floats are not allowed' : 'unsupported simple value');
		}
		if (major === 6) this.#fail('tags are not allowed');
		const arg = this.#argument(info);
		switch (major) {
			case 0:
				return arg;
			case 1:
				if (arg >= Number.MAX_SAFE_INTEGER) this.#fail('integer beyond -2^53');
				return -1 - arg;
			case 2: {
				this.#need(arg);
				// A plain copy: the input may be a Node Buffer, whose slice is a view.
				const out = new Uint8Array(arg);
				out.set(this.bytes.subarray(this.pos, this.pos + arg));
				this.pos += arg;
				return out;
			}
			case 3:
				return this.#text(arg);
			case 4: {
				// Each item needs at least one byte: refuse absurd lengths before allocating.
				this.#need(arg);
				const out: CborValue[] = new Array(arg);
				for (let i = 0; i < arg; i++) out[i] = this.item(depth + 1);
				return out;
			}
			default: {
				this.#need(arg * 2);
				const out: { [key: string]: CborValue } = {};
				let previousStart = -1;
				let previousEnd = -1;
				for (let i = 0; i < arg; i++) {
					const keyStart = this.pos;
					this.#need(1);
					const keyHead = this.bytes[this.pos++]!;
					if (keyHead >> 5 !== 3) this.#fail('map keys must be text');
					const key = this.#text(this.#argument(keyHead & 31));
					const keyEnd = this.pos;
					if (previousStart >= 0 && compareRanges(this.bytes, previousStart, previousEnd, keyStart, keyEnd) >= 0) {
						this.#fail('map keys out of order or repeated');
					}
					if (key === '__proto__') throw new LedgerError('MALFORMED', 'key __proto__ is not allowed');
					previousStart = keyStart;
					previousEnd = keyEnd;
					out[key] = this.item(depth + 1);
				}
				return out;
			}
		}
	}

	#text(length: number): string {
		this.#need(length);
		const start = this.pos;
		this.pos += length;
		// ASCII fast path: most keys and many values.
		let ascii = true;
		for (let i = start; i < this.pos; i++) {
			if (this.bytes[i]! > 0x7f) {
				ascii = false;
				break;
			}
		}
		if (ascii) return String.fromCharCode.apply(null, this.bytes.subarray(start, this.pos) as unknown as number[]);
		try {
			return utf8Fatal.decode(this.bytes.subarray(start, this.pos));
		} catch {
			this.pos = start;
			this.#fail('invalid UTF-8 in text');
		}
	}
}

/** Bytewise comparison of two ranges of one buffer. */
function compareRanges(b: Uint8Array, aStart: number, aEnd: number, cStart: number, cEnd: number): number {
	const n = Math.min(aEnd - aStart, cEnd - cStart);
	for (let i = 0; i < n; i++) {
		const d = b[aStart + i]! - b[cStart + i]!;
		if (d !== 0) return d;
	}
	return aEnd - aStart - (cEnd - cStart);
}

/**
 * Decodes `bytes`, accepting only the canonical encoding of the decoded value.
 * Throws a {@link LedgerError} with code `NON_CANONICAL` otherwise (`MALFORMED` for
 * nesting deeper than {@link MAX_DEPTH} or a `__proto__` key).
 */
export function decodeCanonical(bytes: Uint8Array): CborValue {
	const reader = new StrictReader(bytes);
	const value = reader.item(0);
	if (reader.pos !== bytes.length) throw new LedgerError('NON_CANONICAL', `${bytes.length - reader.pos} trailing bytes`);
	return value;
}

/** The previous decoder (cborg strict decode + re-encode check), kept as the reference in tests and benchmarks. */
export function decodeCanonicalReference(bytes: Uint8Array): CborValue {
	let value: unknown;
	try {
		value = decode(bytes, DECODE_OPTIONS);
	} catch (error) {
		throw new LedgerError('NON_CANONICAL', `not strict CBOR: ${(error as Error).message}`);
	}
	checkValue(value, 0, '$');
	let again: Uint8Array;
	try {
		again = encode(value, rfc8949EncodeOptions);
	} catch (error) {
		throw new LedgerError('NON_CANONICAL', `value cannot be re-encoded: ${(error as Error).message}`);
	}
	if (!bytesEqual(again, bytes)) throw new LedgerError('NON_CANONICAL', 'not the canonical encoding of its value');
	return value as CborValue;
}
