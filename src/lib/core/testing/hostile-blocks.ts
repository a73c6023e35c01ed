/**
 * Wire inputs that cost a block decoder the most per byte, up to the block size limit:
 * millions of one-byte items, nesting past the limit, huge declared lengths, texts of
 * megabytes. Each comes forged (any id), hashed (the right id, a forged signature) and
 * signed (a valid signature over a body that is still refused), so every check before
 * and after the signature meets it. Shared by tests/unit/core/decode-fuzz.test.ts and
 * bench/decode.js.
 */
import { hashBody, MAX_BLOCK_BYTES } from '../block.js';
import { concatBytes, utf8 } from '../bytes.js';
import type { Signer } from '../crypto/verifier.js';

/** One hostile input and the codes it may fairly be refused with. */
export interface HostileInput {
	readonly name: string;
	/** How far its id and signature hold: only a signed input reaches the checks after the signature. */
	readonly variant: 'forged id' | 'forged signature' | 'signed' | 'not a block';
	readonly bytes: Uint8Array;
	/** Accepted refusal codes; an empty list means the input is a valid block. */
	readonly codes: readonly string[];
}

/** A CBOR head (major type, argument) in its shortest form. */
export function cborHead(major: number, argument: number): Uint8Array {
	const m = major << 5;
	if (argument < 24) return Uint8Array.of(m | argument);
	if (argument < 0x100) return Uint8Array.of(m | 24, argument);
	if (argument < 0x10000) return Uint8Array.of(m | 25, argument >> 8, argument & 0xff);
	if (argument < 2 ** 32) return Uint8Array.of(m | 26, argument >>> 24, (argument >> 16) & 0xff, (argument >> 8) & 0xff, argument & 0xff);
	const hi = Math.floor(argument / 2 ** 32);
	const lo = argument >>> 0;
	return Uint8Array.of(
		m | 27,
		hi >>> 24,
		(hi >> 16) & 0xff,
		(hi >> 8) & 0xff,
		hi & 0xff,
		lo >>> 24,
		(lo >> 16) & 0xff,
		(lo >> 8) & 0xff,
		lo & 0xff
	);
}

const TXS_KEY = Uint8Array.of(0x63, ...utf8('txs'));
const AUTHOR_KEY = Uint8Array.of(0x66, ...utf8('author'));
/** Bytes of the wire envelope and body around the payload: heads, keys, id, key, signature. */
const OVERHEAD = 1 + 34 + 5 + 1 + 4 + 7 + 34 + 66;

/** A body `{txs: payload, author}` written by hand, so it can hold what no encoder would write. */
function body(payload: Uint8Array, author: Uint8Array): Uint8Array {
	return concatBytes(Uint8Array.of(0xa2), TXS_KEY, payload, AUTHOR_KEY, Uint8Array.of(0x58, 32), author);
}

/** The canonical wire array `[id, body, signature]`, written by hand. */
function wire(id: Uint8Array, body: Uint8Array, signature: Uint8Array): Uint8Array {
	return concatBytes(Uint8Array.of(0x83, 0x58, 32), id, cborHead(2, body.length), body, Uint8Array.of(0x58, 64), signature);
}

/** `count` copies of one item after an array head. */
function runOf(item: number, count: number): Uint8Array {
	const head = cborHead(4, count);
	const out = new Uint8Array(head.length + count).fill(item);
	out.set(head);
	return out;
}

/** `pattern` written `count` times in a row. */
function repeated(pattern: Uint8Array, count: number): Uint8Array {
	const out = new Uint8Array(pattern.length * count);
	for (let i = 0; i < out.length; i += pattern.length) out.set(pattern, i);
	return out;
}

/** A map of `count` distinct four-character keys in canonical order, each mapped to 0. */
function manyKeys(count: number): Uint8Array {
	const head = cborHead(5, count);
	const out = new Uint8Array(head.length + count * 6);
	out.set(head);
	let at = head.length;
	for (let i = 0; i < count; i++) {
		out[at++] = 0x64;
		// Base-64 digits over '0'…'o': increasing numbers give increasing keys.
		for (let d = 3; d >= 0; d--) out[at++] = 0x30 + ((i >> (6 * d)) & 63);
		out[at++] = 0x00;
	}
	return out;
}

/** A text of about `bytes` bytes of `piece` repeated, as one CBOR text item. */
function longText(piece: string, bytes: number): Uint8Array {
	const unit = utf8(piece);
	const content = repeated(unit, Math.floor(bytes / unit.length));
	return concatBytes(cborHead(3, content.length), content);
}

/**
 * The payloads, each sized so the whole wire block stays within `size` bytes, by name.
 * `size` defaults to the block limit.
 */
export function hostilePayloads(size = MAX_BLOCK_BYTES): { name: string; payload: Uint8Array; codes: string[] }[] {
	const room = size - OVERHEAD - 9;
	return [
		{ name: 'empty maps', payload: runOf(0xa0, room), codes: ['MALFORMED'] },
		{ name: 'empty byte strings', payload: runOf(0x40, room), codes: ['MALFORMED'] },
		{ name: 'empty arrays', payload: runOf(0x80, room), codes: ['MALFORMED'] },
		{ name: 'empty texts', payload: runOf(0x60, room), codes: ['MALFORMED'] },
		{ name: 'small integers', payload: runOf(0x00, room), codes: ['MALFORMED'] },
		{ name: 'distinct map keys', payload: manyKeys(Math.floor(room / 6)), codes: ['MALFORMED'] },
		{ name: 'deep nesting', payload: new Uint8Array(room).fill(0x81), codes: ['MALFORMED', 'NON_CANONICAL'] },
		{ name: 'deep maps', payload: repeated(Uint8Array.of(0xa1, 0x61, 0x61), Math.floor(room / 3)), codes: ['MALFORMED', 'NON_CANONICAL'] },
		{
			name: 'huge declared array',
			payload: concatBytes(cborHead(4, Number.MAX_SAFE_INTEGER), new Uint8Array(room - 9)),
			codes: ['NON_CANONICAL', 'MALFORMED']
		},
		{
			name: 'huge declared map',
			payload: concatBytes(cborHead(5, 2 ** 32 - 1), new Uint8Array(room - 5)),
			codes: ['NON_CANONICAL', 'MALFORMED']
		},
		{
			name: 'huge declared bytes',
			payload: concatBytes(cborHead(2, Number.MAX_SAFE_INTEGER), new Uint8Array(room - 9)),
			codes: ['NON_CANONICAL']
		},
		{ name: 'long ASCII text', payload: longText('a', room - 5), codes: ['MALFORMED'] },
		{ name: 'long non-ASCII text', payload: longText('\u00e9\u6c34\u{1f600}', room - 5), codes: ['MALFORMED'] }
	];
}

/**
 * Every payload of {@link hostilePayloads} as a wire block three ways: forged id,
 * right id with a forged signature, and signed by `signer`. A hostile payload sits where
 * the transactions go, so even the signed ones are refused.
 */
export async function hostileBlocks(signer: Signer, size = MAX_BLOCK_BYTES): Promise<HostileInput[]> {
	const out: HostileInput[] = [];
	for (const { name, payload, codes } of hostilePayloads(size)) {
		const b = body(payload, signer.publicKey);
		const id = hashBody(b);
		const forged = new Uint8Array(32).fill(7);
		out.push({
			name: `${name}, forged id`,
			variant: 'forged id',
			bytes: wire(forged, b, new Uint8Array(64)),
			codes: [...codes, 'BAD_HASH']
		});
		out.push({
			name: `${name}, forged signature`,
			variant: 'forged signature',
			bytes: wire(id, b, new Uint8Array(64).fill(1)),
			codes: [...codes, 'BAD_SIGNATURE']
		});
		out.push({ name: `${name}, signed`, variant: 'signed', bytes: wire(id, b, await signer.sign(id)), codes });
	}
	// Not a block at all: the whole input a run of empty maps.
	out.push({ name: 'outer run of empty maps', variant: 'not a block', bytes: runOf(0xa0, size - 9), codes: ['MALFORMED'] });
	return out;
}
