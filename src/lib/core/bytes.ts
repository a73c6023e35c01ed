/** Byte helpers shared by every core module. Inputs are checked; errors name the argument. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Char codes of each byte's two hex digits. */
const HEX_HIGH = HEX.map((h) => h.charCodeAt(0));
const HEX_LOW = HEX.map((h) => h.charCodeAt(1));
/** Bytes turned into text by one `String.fromCharCode` call (its arguments are limited in number). */
const HEX_PART = 2048;
/** Char-code arrays of up to this length are reused (ids, keys, nonces, short text). */
const REUSED_CODES = 128;
const reusedCodes: number[][] = [];

/**
 * An array of `n` char codes to fill whole and hand to {@link flatText} before the next
 * call: the same array for every call of one length up to {@link REUSED_CODES}.
 */
export function charCodes(n: number): number[] {
	return n <= REUSED_CODES ? (reusedCodes[n] ??= new Array<number>(n).fill(0)) : new Array<number>(n);
}

/**
 * One flat string of `codes` (at most a few thousand). Text built by `+=` is a tree of
 * pieces (one per append past the 12th character) that V8 keeps as it is in whatever holds
 * it: about ten times the memory of the flat string.
 */
export function flatText(codes: number[]): string {
	return String.fromCharCode.apply(null, codes);
}

/** The hex of `bytes[from, to)` as one flat string. */
function hexPart(bytes: Uint8Array, from: number, to: number): string {
	const codes = charCodes(2 * (to - from));
	for (let i = from, j = 0; i < to; i++, j += 2) {
		const b = bytes[i]!;
		codes[j] = HEX_HIGH[b]!;
		codes[j + 1] = HEX_LOW[b]!;
	}
	return flatText(codes);
}

/**
 * Lower-case hex of `bytes`, as one flat string. Built with `+=`, a 32-byte key was a tree
 * of about 26 string pieces that V8 keeps as it is until something flattens it: about 870
 * bytes instead of 88 for every key held in state (3 million pieces, 60 MB, in a page that
 * had imported 100,000 records); in Node also 15 times slower to make.
 */
export function toHex(bytes: Uint8Array): string {
	const n = bytes.length;
	if (n <= HEX_PART) return hexPart(bytes, 0, n);
	const parts: string[] = [];
	for (let from = 0; from < n; from += HEX_PART) parts.push(hexPart(bytes, from, Math.min(n, from + HEX_PART)));
	return parts.join('');
}

/** Nibble value of each char code, -1 for non-hex: decoding is on the hot path of validation. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
	NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
	NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Bytes of an even-length hex string; throws on any other character. */
export function fromHex(hex: string, label = 'hex'): Uint8Array {
	if (typeof hex !== 'string' || hex.length % 2 !== 0) throw new TypeError(`${label}: expected an even-length hex string`);
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) {
		const a = hex.charCodeAt(2 * i);
		const b = hex.charCodeAt(2 * i + 1);
		const hi = a < 128 ? NIBBLE[a]! : -1;
		const lo = b < 128 ? NIBBLE[b]! : -1;
		if (hi < 0 || lo < 0) throw new TypeError(`${label}: expected an even-length hex string`);
		out[i] = (hi << 4) | lo;
	}
	return out;
}

/** Concatenation of byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
	let length = 0;
	for (const p of parts) length += p.length;
	const out = new Uint8Array(length);
	let offset = 0;
	for (const p of parts) {
		out.set(p, offset);
		offset += p.length;
	}
	return out;
}

/** Byte-wise equality (not constant time: use only on public data). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

/** Lexicographic byte order, shorter first on a common prefix. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
	return a.length - b.length;
}

/** Throws a labelled TypeError unless `value` is a Uint8Array of `length` bytes (any length when omitted). */
export function assertBytes(value: unknown, label: string, length?: number): asserts value is Uint8Array {
	if (!(value instanceof Uint8Array)) throw new TypeError(`${label}: expected Uint8Array`);
	if (length !== undefined && value.length !== length) {
		throw new TypeError(`${label}: expected ${length} bytes, got ${value.length}`);
	}
}

/** UTF-8 encoding of a string. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
