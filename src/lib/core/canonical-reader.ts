/**
 * The strict single-pass reader behind `decodeCanonical` and `scanCanonicalMap`
 * (codec.ts): it checks the canonical encoding rules on the bytes themselves while it
 * reads. See docs/block-format.md.
 */
import type { CborValue } from './cbor-value.js';
import { charCodes, flatText } from './bytes.js';
import { LedgerError } from './errors.js';
import { isWellFormedUtf8 } from './utf8.js';

/** Nesting deeper than this is refused: no legitimate ledger value needs it. */
export const MAX_DEPTH = 32;
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO_32 = 2 ** 32;
/** Texts up to this many ASCII bytes are built by hand: cheaper than a TextDecoder call for short keys. */
const SHORT_ASCII = 32;
/** The encoded key `__proto__` (head 0x69: text of 9 bytes), refused: it would set the prototype. */
const PROTO_KEY = Uint8Array.of(0x69, ...new TextEncoder().encode('__proto__'));

/**
 * A single-pass strict reader for the subset: every rule of the deterministic encoding is
 * checked on the bytes themselves (shortest heads, definite lengths, map keys as text in
 * strictly increasing encoded order, valid UTF-8, no floats, tags or undefined), so no
 * second encoding pass is needed. `item` builds the value; `skip` checks the same rules
 * and builds nothing, so checking an input costs no allocation whatever it holds.
 */
export class StrictReader {
	pos = 0;
	/** The argument of the head last read by {@link #head}. */
	#arg = 0;
	#itemsLeft: number;

	constructor(
		private readonly bytes: Uint8Array,
		private readonly maxItems = Infinity,
		/** Byte strings as views of `bytes` instead of copies (codec.ts `DecodeLimits.views`). */
		private readonly views = false
	) {
		// The top-level item is the first spent.
		this.#itemsLeft = maxItems - 1;
		if (this.#itemsLeft < 0) throw new LedgerError('MALFORMED', `more than ${maxItems} items`);
	}

	#fail(detail: string): never {
		throw new LedgerError('NON_CANONICAL', `at byte ${this.pos}: ${detail}`);
	}

	#need(n: number): void {
		if (this.pos + n > this.bytes.length) this.#fail('truncated');
	}

	/** Takes `n` items from the budget before any of them is read or allocated. */
	#spend(n: number): void {
		this.#itemsLeft -= n;
		if (this.#itemsLeft < 0) throw new LedgerError('MALFORMED', `more than ${this.maxItems} items`);
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

	/**
	 * Reads one head at nesting `depth` and returns its major type, leaving its argument in
	 * {@link #arg}. The simple values false, true and null come back as major 7 with their
	 * additional information (20, 21, 22) as the argument; every other simple value, float
	 * and tag is refused here.
	 */
	#head(depth: number): number {
		if (depth > MAX_DEPTH) throw new LedgerError('MALFORMED', `nested deeper than ${MAX_DEPTH}`);
		this.#need(1);
		const head = this.bytes[this.pos++]!;
		const major = head >> 5;
		const info = head & 31;
		if (major === 7) {
			if (info < 20 || info > 22)
				this.#fail(info === 23 ? 'undefined' : info >= 25 && info <= 27 ? 'floats are not allowed' : 'unsupported simple value');
			this.#arg = info;
			return 7;
		}
		if (major === 6) this.#fail('tags are not allowed');
		this.#arg = this.#argument(info);
		if (major === 1 && this.#arg >= Number.MAX_SAFE_INTEGER) this.#fail('integer beyond -2^53');
		return major;
	}

	/** Reads and builds one item. */
	item(depth: number): CborValue {
		const major = this.#head(depth);
		const arg = this.#arg;
		switch (major) {
			case 0:
				return arg;
			case 1:
				return -1 - arg;
			case 2: {
				this.#need(arg);
				if (this.views) {
					const view = this.bytes.subarray(this.pos, this.pos + arg);
					this.pos += arg;
					return view;
				}
				// A plain copy: the input may be a Node Buffer, whose slice is a view.
				const out = new Uint8Array(arg);
				out.set(this.bytes.subarray(this.pos, this.pos + arg));
				this.pos += arg;
				return out;
			}
			case 3:
				return this.#text(arg, true);
			case 4: {
				// Each item needs at least one byte: refuse absurd lengths before allocating.
				this.#need(arg);
				this.#spend(arg);
				const out: CborValue[] = new Array(arg);
				for (let i = 0; i < arg; i++) out[i] = this.item(depth + 1);
				return out;
			}
			case 5: {
				this.#need(arg * 2);
				this.#spend(arg * 2);
				const out: { [key: string]: CborValue } = {};
				let previousStart = -1;
				let previousEnd = -1;
				for (let i = 0; i < arg; i++) {
					const keyStart = this.pos;
					const key = this.#key(previousStart, previousEnd, true);
					previousStart = keyStart;
					previousEnd = this.pos;
					out[key] = this.item(depth + 1);
				}
				return out;
			}
			default:
				return arg === 20 ? false : arg === 21 ? true : null;
		}
	}

	/** Refuses input left over after the item. */
	end(): void {
		if (this.pos !== this.bytes.length) throw new LedgerError('NON_CANONICAL', `${this.bytes.length - this.pos} trailing bytes`);
	}

	/**
	 * Reads a map at the top level, checking each value with {@link skip}, and returns its
	 * keys with views of their values' bytes; null, once the item is checked, when it is not
	 * a map.
	 */
	fields(maxEntries: number): Map<string, Uint8Array> | null {
		this.#need(1);
		if (this.bytes[this.pos]! >> 5 !== 5) {
			this.skip(0);
			return null;
		}
		this.#head(0);
		const entries = this.#arg;
		this.#need(entries * 2);
		this.#spend(entries * 2);
		if (entries > maxEntries) throw new LedgerError('MALFORMED', `more than ${maxEntries} fields`);
		const out = new Map<string, Uint8Array>();
		let previousStart = -1;
		let previousEnd = -1;
		for (let i = 0; i < entries; i++) {
			const keyStart = this.pos;
			const key = this.#key(previousStart, previousEnd, true);
			previousStart = keyStart;
			previousEnd = this.pos;
			this.skip(1);
			out.set(key, this.bytes.subarray(previousEnd, this.pos));
		}
		return out;
	}

	/** Checks one item like {@link item} does, building nothing. */
	skip(depth: number): void {
		const major = this.#head(depth);
		const arg = this.#arg;
		if (major === 2) {
			this.#need(arg);
			this.pos += arg;
		} else if (major === 3) {
			this.#text(arg, false);
		} else if (major === 4) {
			this.#need(arg);
			this.#spend(arg);
			for (let i = 0; i < arg; i++) this.skip(depth + 1);
		} else if (major === 5) {
			this.#need(arg * 2);
			this.#spend(arg * 2);
			let previousStart = -1;
			let previousEnd = -1;
			for (let i = 0; i < arg; i++) {
				const keyStart = this.pos;
				this.#key(previousStart, previousEnd, false);
				previousStart = keyStart;
				previousEnd = this.pos;
				this.skip(depth + 1);
			}
		}
	}

	/**
	 * Reads one map key: text, strictly after the previous key (encoded bytes
	 * `[previousStart, previousEnd)`, none when -1) in bytewise order, and not `__proto__`.
	 * Returns the key's text when `build`, else an empty string.
	 */
	#key(previousStart: number, previousEnd: number, build: boolean): string {
		const keyStart = this.pos;
		this.#need(1);
		const keyHead = this.bytes[this.pos++]!;
		if (keyHead >> 5 !== 3) this.#fail('map keys must be text');
		const key = this.#text(this.#argument(keyHead & 31), build);
		if (previousStart >= 0 && compareRanges(this.bytes, previousStart, previousEnd, keyStart, this.pos) >= 0) {
			this.#fail('map keys out of order or repeated');
		}
		if (rangeEquals(this.bytes, keyStart, this.pos, PROTO_KEY)) throw new LedgerError('MALFORMED', 'key __proto__ is not allowed');
		return key;
	}

	/** Reads `length` bytes of text, checked to be UTF-8; the string itself only when `build`. */
	#text(length: number, build: boolean): string {
		this.#need(length);
		const b = this.bytes;
		const start = this.pos;
		const end = start + length;
		this.pos = end;
		if (length <= SHORT_ASCII) {
			// One flat string (bytes.ts `flatText`): built by `+=`, text of 13 characters or
			// more was a tree of pieces that V8 keeps as it is in state.
			const codes = charCodes(length);
			let ascii = true;
			for (let i = 0; i < length; i++) {
				const c = b[start + i]!;
				if (c > 0x7f) {
					ascii = false;
					break;
				}
				codes[i] = c;
			}
			if (ascii) return build ? flatText(codes) : '';
		}
		if (!build) {
			if (isWellFormedUtf8(b, start, end)) return '';
		} else {
			// Long or non-ASCII text: the platform decoder, never an argument spread whose
			// limit depends on the caller's stack.
			try {
				return utf8Fatal.decode(b.subarray(start, end));
			} catch {
				// Refused below, pointing at the text.
			}
		}
		this.pos = start;
		this.#fail('invalid UTF-8 in text');
	}
}

/** True when `b[start, end)` holds exactly the bytes of `other`. */
function rangeEquals(b: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
	if (end - start !== other.length) return false;
	for (let i = 0; i < other.length; i++) if (b[start + i] !== other[i]) return false;
	return true;
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
