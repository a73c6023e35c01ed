/**
 * Canonical CBOR (RFC 8949 §4.2.1 core deterministic encoding) restricted to the value
 * types a ledger needs: unsigned/negative safe integers, byte strings, UTF-8 text,
 * arrays, maps with text keys, booleans and null. No floats, tags, undefined, bigints or
 * indefinite lengths.
 *
 * Encoding is our own single-pass writer (canonical-writer.ts), which checks that the
 * value is inside the subset as it writes; cborg's encoder after a check pass, which it
 * replaced, is kept as `encodeCanonicalReference` and property tests assert both give the
 * same bytes and refuse the same values. Decoding is our own single-pass strict reader:
 * every deterministic-encoding rule is checked on the bytes, with no recursion or argument list that grows with the input,
 * an optional budget of items, and a mode that checks without building anything
 * (`scanCanonicalMap`), so what a hostile input costs is bounded by its length. The cborg
 * decode + re-encode check it replaced is kept as `decodeCanonicalReference`, and property
 * tests assert both accept and refuse the same inputs. One value has exactly one accepted
 * encoding, and the encoder and decoder accept the same values.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { bytesEqual } from './bytes.js';
import { LedgerError } from './errors.js';
import { MAX_DEPTH, StrictReader } from './canonical-reader.js';
import { writeCanonical } from './canonical-writer.js';

export type { CborValue } from './cbor-value.js';
import type { CborValue } from './cbor-value.js';

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

export { MAX_DEPTH } from './canonical-reader.js';

/**
 * A lone surrogate has no UTF-8 encoding: an encoder would write U+FFFD in its place and
 * the decoded value would differ from the one signed, so it is refused instead.
 */
function checkText(text: string, path: string): void {
	if (!text.isWellFormed()) throw new LedgerError('NON_CANONICAL', `${path}: text with a lone surrogate has no UTF-8 encoding`);
}

function checkValue(value: unknown, depth: number, path: string): void {
	if (depth > MAX_DEPTH) throw new LedgerError('MALFORMED', `${path}: nested deeper than ${MAX_DEPTH}`);
	switch (typeof value) {
		case 'string':
			checkText(value, path);
			return;
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
				// Every index, holes too: a hole is undefined, which has no encoding here.
				for (let i = 0; i < value.length; i++) checkValue(value[i], depth + 1, `${path}[${i}]`);
				return;
			}
			if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
				throw new LedgerError('MALFORMED', `${path}: unsupported object type`);
			}
			for (const [key, item] of Object.entries(value)) {
				if (key === '__proto__') throw new LedgerError('MALFORMED', `${path}: key __proto__ is not allowed`);
				checkText(key, `${path} key`);
				checkValue(item, depth + 1, `${path}.${key}`);
			}
			return;
		default:
			throw new LedgerError('NON_CANONICAL', `${path}: ${typeof value} has no canonical encoding`);
	}
}

/** The canonical encoding of `value`; throws a {@link LedgerError} for values outside the subset. */
export function encodeCanonical(value: CborValue): Uint8Array {
	return writeCanonical(value);
}

/** The previous encoder (a check pass, then cborg), kept as the reference in tests and benchmarks. */
export function encodeCanonicalReference(value: CborValue): Uint8Array {
	checkValue(value, 0, '$');
	const out = encode(value, rfc8949EncodeOptions);
	// cborg may hand back a Node Buffer; callers get a plain Uint8Array everywhere.
	return Object.getPrototypeOf(out) === Uint8Array.prototype ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Limits on one decode. */
export interface DecodeLimits {
	/**
	 * Most items the input may hold, counting every value and every map key. An input
	 * with more is refused (`MALFORMED`) as soon as a head declares them, so no more than
	 * this many values are ever built, whatever the input claims.
	 */
	readonly maxItems?: number;
	/**
	 * Byte strings as views of `bytes` (`subarray`) instead of copies. Only for input this
	 * node wrote and keeps unchanged, read by code that neither keeps the views past the
	 * input's life nor writes into them: a checkpoint's fold states (fold-engine.ts), not a
	 * peer's block. Saves copying tens of MB at a start or a rewind.
	 */
	readonly views?: boolean;
}

/**
 * Decodes `bytes`, accepting only the canonical encoding of the decoded value.
 * Throws a {@link LedgerError} with code `NON_CANONICAL` otherwise (`MALFORMED` for
 * nesting deeper than {@link MAX_DEPTH}, a `__proto__` key, or more items than
 * `limits.maxItems`).
 */
export function decodeCanonical(bytes: Uint8Array, limits: DecodeLimits = {}): CborValue {
	const reader = new StrictReader(bytes, limits.maxItems, limits.views);
	const value = reader.item(0);
	reader.end();
	return value;
}

/**
 * Checks that `bytes` is the canonical encoding of one map without building any of its
 * values, and returns each key with a view of its value's encoding (decode one with
 * {@link decodeCanonical} when it is needed). Costs one pass over the bytes and no
 * allocation beyond the returned keys and views, whatever the input holds. Throws like
 * {@link decodeCanonical}, and `MALFORMED` when the input is canonical but not a map or
 * has more than `maxEntries` keys.
 */
export function scanCanonicalMap(bytes: Uint8Array, limits: { maxItems: number; maxEntries: number }): Map<string, Uint8Array> {
	const reader = new StrictReader(bytes, limits.maxItems);
	const fields = reader.fields(limits.maxEntries);
	reader.end();
	if (fields === null) throw new LedgerError('MALFORMED', 'expected a map');
	return fields;
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
