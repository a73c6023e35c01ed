/**
 * Canonical CBOR (RFC 8949 §4.2.1 core deterministic encoding) restricted to the value
 * types a ledger needs: unsigned/negative safe integers, byte strings, UTF-8 text,
 * arrays, maps with text keys, booleans and null. No floats, tags, undefined, bigints or
 * indefinite lengths.
 *
 * Decoding is strict: cborg rejects non-minimal integers and lengths, indefinite
 * lengths, undefined, duplicate keys and tags; whatever else could vary (map key order,
 * float forms of integers, invalid UTF-8 replaced on decode, non-text keys) is caught by
 * re-encoding the decoded value and requiring the exact input bytes back. One value has
 * exactly one accepted encoding.
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
	return encode(value, rfc8949EncodeOptions);
}

/**
 * Decodes `bytes`, accepting only the canonical encoding of the decoded value.
 * Throws a {@link LedgerError} with code `NON_CANONICAL` otherwise.
 */
export function decodeCanonical(bytes: Uint8Array): CborValue {
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
