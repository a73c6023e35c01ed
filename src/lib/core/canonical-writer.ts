/**
 * The single-pass writer behind `encodeCanonical` (codec.ts): it checks that a value is
 * inside the subset and writes its deterministic encoding (RFC 8949 §4.2.1) in the same
 * walk, into one growing buffer. It replaced a check pass followed by cborg's encoder,
 * which builds a token per item before writing any byte; cborg stays the reference its
 * property tests compare every byte with (tests/unit/core/codec-writer.test.ts).
 *
 * Refused, with the codes the check pass gave: nesting deeper than {@link MAX_DEPTH}, a
 * `__proto__` key, an object that is not plain (`MALFORMED`); a number that is not a safe
 * integer, text with a lone surrogate, undefined (an array's hole included), bigints,
 * functions and symbols (`NON_CANONICAL`). The path of the offending value is built only
 * when one is refused.
 */
import { LedgerError } from './errors.js';
import { MAX_DEPTH } from './canonical-reader.js';
import type { CborValue } from './cbor-value.js';

const TWO_32 = 2 ** 32;
/** The buffer kept between calls; one that grew past this is dropped after its call. */
const KEEP_BYTES = 1 << 20;
/** Text up to this many UTF-16 units is checked for ASCII and copied in JavaScript (`Writer.text`). */
const SHORT_TEXT = 64;
const utf8 = new TextEncoder();

/** Where the walk is: the container steps from the top, for an error's path. */
type Step = number | string;

class Writer {
	buf: Uint8Array;
	pos = 0;
	readonly path: Step[] = [];

	constructor(size: number) {
		this.buf = new Uint8Array(size);
	}

	fail(code: 'MALFORMED' | 'NON_CANONICAL', what: string, key = false): never {
		// A key's own path is its map's: the key is the last step.
		const steps = key ? this.path.slice(0, -1) : this.path;
		let at = '$';
		for (const step of steps) at += typeof step === 'number' ? `[${step}]` : `.${step}`;
		throw new LedgerError(code, `${at}${key ? ' key' : ''}: ${what}`);
	}

	room(n: number): void {
		if (this.pos + n <= this.buf.length) return;
		let size = this.buf.length * 2;
		while (size < this.pos + n) size *= 2;
		const grown = new Uint8Array(size);
		grown.set(this.buf.subarray(0, this.pos));
		this.buf = grown;
	}

	/** A head: major type (0-7) and argument, in its shortest form. */
	head(major: number, arg: number): void {
		this.room(9);
		const b = this.buf;
		const m = major << 5;
		if (arg < 24) b[this.pos++] = m | arg;
		else if (arg < 0x100) {
			b[this.pos++] = m | 24;
			b[this.pos++] = arg;
		} else if (arg < 0x10000) {
			b[this.pos++] = m | 25;
			b[this.pos++] = arg >>> 8;
			b[this.pos++] = arg & 0xff;
		} else if (arg < TWO_32) {
			b[this.pos++] = m | 26;
			this.#u32(arg);
		} else {
			b[this.pos++] = m | 27;
			this.#u32(Math.floor(arg / TWO_32));
			this.#u32(arg >>> 0);
		}
	}

	#u32(n: number): void {
		const b = this.buf;
		b[this.pos++] = n >>> 24;
		b[this.pos++] = (n >>> 16) & 0xff;
		b[this.pos++] = (n >>> 8) & 0xff;
		b[this.pos++] = n & 0xff;
	}

	text(s: string, key: boolean): void {
		const n = s.length;
		// Short text (keys, ids) is copied here; longer text goes to the native encoder, which
		// is faster than a loop in JavaScript from a few dozen characters on.
		let ascii = n <= SHORT_TEXT;
		for (let i = 0; ascii && i < n; i++) {
			if (s.charCodeAt(i) > 0x7f) {
				ascii = false;
				break;
			}
		}
		if (ascii) {
			this.head(3, n);
			this.room(n);
			const b = this.buf;
			let p = this.pos;
			for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
			this.pos = p;
			return;
		}
		// A lone surrogate has no UTF-8 encoding: an encoder would write U+FFFD in its place and
		// the decoded value would differ from the one signed, so it is refused instead.
		if (!s.isWellFormed()) this.fail('NON_CANONICAL', 'text with a lone surrogate has no UTF-8 encoding', key);
		// At most 3 bytes per UTF-16 unit: written after the widest head, moved back if it is narrower.
		const most = n * 3;
		const wide = most < 24 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
		this.room(wide + most);
		const start = this.pos;
		const { written } = utf8.encodeInto(s, this.buf.subarray(start + wide));
		this.head(3, written);
		if (this.pos !== start + wide) this.buf.copyWithin(this.pos, start + wide, start + wide + written);
		this.pos += written;
	}

	value(v: unknown, depth: number): void {
		if (depth > MAX_DEPTH) this.fail('MALFORMED', `nested deeper than ${MAX_DEPTH}`);
		switch (typeof v) {
			case 'string':
				this.text(v, false);
				return;
			case 'number':
				if (!Number.isSafeInteger(v)) this.fail('NON_CANONICAL', `only safe integers are allowed, got ${v}`);
				if (v >= 0) this.head(0, v);
				else this.head(1, -1 - v);
				return;
			case 'boolean':
				this.room(1);
				this.buf[this.pos++] = v ? 0xf5 : 0xf4;
				return;
			case 'object':
				if (v === null) {
					this.room(1);
					this.buf[this.pos++] = 0xf6;
				} else if (v instanceof Uint8Array) {
					this.head(2, v.length);
					this.room(v.length);
					this.buf.set(v, this.pos);
					this.pos += v.length;
				} else if (Array.isArray(v)) this.#array(v, depth);
				else this.#map(v as Record<string, unknown>, depth);
				return;
			default:
				this.fail('NON_CANONICAL', `${typeof v} has no canonical encoding`);
		}
	}

	#array(v: readonly unknown[], depth: number): void {
		const n = v.length;
		this.head(4, n);
		this.path.push(0);
		const at = this.path.length - 1;
		for (let i = 0; i < n; i++) {
			this.path[at] = i;
			this.value(v[i], depth + 1);
		}
		this.path.pop();
	}

	#map(v: Record<string, unknown>, depth: number): void {
		const proto = Object.getPrototypeOf(v);
		if (proto !== Object.prototype && proto !== null) this.fail('MALFORMED', 'unsupported object type');
		const keys = Object.keys(v);
		let ascii = true;
		for (const k of keys) {
			if (k === '__proto__') this.fail('MALFORMED', 'key __proto__ is not allowed');
			if (ascii) {
				for (let i = 0; i < k.length; i++) {
					if (k.charCodeAt(i) > 0x7f) {
						ascii = false;
						break;
					}
				}
			}
		}
		this.head(5, keys.length);
		this.path.push('');
		const at = this.path.length - 1;
		if (ascii) {
			// Deterministic order is that of the encoded keys, bytewise: for text, shorter first,
			// then by UTF-8 bytes, which for ASCII is the order of the strings.
			keys.sort(byLengthThenText);
			for (const k of keys) {
				this.path[at] = k;
				this.text(k, true);
				this.value(v[k], depth + 1);
			}
		} else {
			const encoded = keys.map((k) => {
				this.path[at] = k;
				const from = this.pos;
				this.text(k, true);
				const bytes = this.buf.slice(from, this.pos);
				this.pos = from;
				return { k, bytes };
			});
			encoded.sort((a, b) => compareBytes(a.bytes, b.bytes));
			for (const { k, bytes } of encoded) {
				this.path[at] = k;
				this.room(bytes.length);
				this.buf.set(bytes, this.pos);
				this.pos += bytes.length;
				this.value(v[k], depth + 1);
			}
		}
		this.path.pop();
	}
}

function byLengthThenText(a: string, b: string): number {
	return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
	return a.length - b.length;
}

let spare: Writer | null = new Writer(4096);

/** The canonical encoding of `value`; throws a {@link LedgerError} for values outside the subset. */
export function writeCanonical(value: CborValue): Uint8Array {
	// A getter on the value could call back in here: the kept writer is lent to one call at a time.
	const w = spare ?? new Writer(256);
	spare = null;
	w.pos = 0;
	w.path.length = 0;
	try {
		w.value(value, 0);
		return w.buf.slice(0, w.pos);
	} finally {
		if (w.buf.length <= KEEP_BYTES) spare = w;
		else if (spare === null) spare = new Writer(4096);
	}
}
