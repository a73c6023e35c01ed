/**
 * Sync protocol v2 messages. Each frame is one canonical CBOR map `{m: type, ...}` of at
 * most {@link MAX_FRAME_BYTES}. Decoding checks every field; a frame that fails is a
 * protocol error counted against the sender, never an exception that reaches the app.
 * See docs/protocol.md.
 */
import { decodeCanonical, encodeCanonical, type CborValue } from '../codec.js';
import { fromHex, toHex } from '../bytes.js';
import { CodedError } from '../errors.js';
import type { AuthorId, BlockId, VersionVector } from '../types.js';

/** 2: the handshake signature binds both nonces, both keys and the link (docs/protocol.md). */
export const PROTOCOL_VERSION = 2;
/** Frames never exceed 64 KiB: the size every WebRTC implementation delivers whole. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Room left in a frame for the message around a payload. */
export const FRAME_OVERHEAD = 256;
export const MAX_WANT_IDS = 256;
/** Most items in one `blocks` frame: a valid block is at least ~200 bytes, so an honest frame holds ~330. */
export const MAX_FRAME_ITEMS = 1024;
/** Largest `join` / `join-reply` payload. */
export const MAX_JOIN_BYTES = 16 * 1024;

export type Message =
	| { m: 'hello'; v: number; net: BlockId; author: AuthorId; nonce: Uint8Array }
	| { m: 'auth'; sig: Uint8Array }
	/**
	 * `heads`: the first 8 bytes of the sender's head id per author (where it sent them), so
	 * two nodes at the same seq holding different versions (equivocation) notice it.
	 */
	| { m: 'vv'; vv: VersionVector; heads?: Record<AuthorId, Uint8Array> }
	/** How many blocks the sender is about to stream, for progress. */
	| { m: 'offer'; count: number }
	| { m: 'blocks'; items: Uint8Array[] }
	/** One piece of a block larger than a frame. */
	| { m: 'part'; id: BlockId; index: number; total: number; data: Uint8Array }
	/** End of the catch-up stream that followed an offer. */
	| { m: 'end' }
	/** Flow control: the receiver has processed this many streamed blocks. */
	| { m: 'ack'; n: number }
	| { m: 'want'; ids: BlockId[] }
	/** The sender refuses to sync with the receiver (e.g. NOT_A_MEMBER) but keeps the link: it may admit it later. */
	| { m: 'denied'; reason: string }
	/** Application data from a node not (yet) admitted, e.g. a signed join request. */
	| { m: 'join'; data: Uint8Array }
	/** Application answer to a `join` (e.g. "this invite was already used"). */
	| { m: 'join-reply'; data: Uint8Array }
	| { m: 'bye'; reason: string };

/** Bytes of a head id carried in a vector entry: enough to tell two versions apart. */
export const HEAD_PREFIX_BYTES = 8;

/** A frame that breaks the sync protocol (malformed, unknown, over a limit): code `PROTOCOL_VIOLATION`. */
export class ProtocolError extends CodedError {
	override readonly name = 'ProtocolError';
	constructor(message: string) {
		super('PROTOCOL_VIOLATION', message);
	}
}

function toWire(msg: Message): CborValue {
	switch (msg.m) {
		case 'hello':
			return { m: msg.m, v: msg.v, net: fromHex(msg.net), author: fromHex(msg.author), nonce: msg.nonce };
		case 'vv':
			return {
				m: msg.m,
				vv: Object.entries(msg.vv).map(([a, s]) =>
					msg.heads?.[a as AuthorId] ? [fromHex(a), s, msg.heads[a as AuthorId]!] : [fromHex(a), s]
				)
			};
		case 'part':
			return { m: msg.m, id: fromHex(msg.id), index: msg.index, total: msg.total, data: msg.data };
		case 'want':
			return { m: msg.m, ids: msg.ids.map((id) => fromHex(id)) };
		default:
			return msg as unknown as CborValue;
	}
}

/** Encodes a message; throws if it would not fit a frame (a bug in the sender). */
export function encodeMessage(msg: Message): Uint8Array {
	const bytes = encodeCanonical(toWire(msg));
	if (bytes.length > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}`);
	return bytes;
}

type Fields = { [key: string]: CborValue };
const isBytes = (v: CborValue | undefined, len?: number): v is Uint8Array =>
	v instanceof Uint8Array && (len === undefined || v.length === len);
const isUint = (v: CborValue | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function expectKeys(f: Fields, keys: string[]): void {
	for (const k of Object.keys(f)) if (k !== 'm' && !keys.includes(k)) throw new ProtocolError(`${String(f.m)}: unexpected field ${k}`);
	for (const k of keys) if (!(k in f)) throw new ProtocolError(`${String(f.m)}: missing field ${k}`);
}

function bytes32(v: CborValue | undefined, field: string): Uint8Array {
	if (!isBytes(v, 32)) throw new ProtocolError(`${field}: expected 32 bytes`);
	return v;
}

function uint(v: CborValue | undefined, field: string): number {
	if (!isUint(v)) throw new ProtocolError(`${field}: expected unsigned integer`);
	return v;
}

/** Decodes and checks one frame. Throws {@link ProtocolError} on anything unexpected. */
export function decodeMessage(frame: Uint8Array): Message {
	if (frame.length > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`);
	let value: CborValue;
	try {
		value = decodeCanonical(frame);
	} catch (error) {
		throw new ProtocolError(`undecodable frame: ${(error as Error).message}`);
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
		throw new ProtocolError('frame is not a map');
	const f = value as Fields;
	switch (f.m) {
		case 'hello':
			expectKeys(f, ['v', 'net', 'author', 'nonce']);
			return {
				m: 'hello',
				v: uint(f.v, 'v'),
				net: toHex(bytes32(f.net, 'net')) as BlockId,
				author: toHex(bytes32(f.author, 'author')) as AuthorId,
				nonce: bytes32(f.nonce, 'nonce')
			};
		case 'auth':
			expectKeys(f, ['sig']);
			if (!isBytes(f.sig, 64)) throw new ProtocolError('sig: expected 64 bytes');
			return { m: 'auth', sig: f.sig };
		case 'vv': {
			expectKeys(f, ['vv']);
			if (!Array.isArray(f.vv)) throw new ProtocolError('vv: expected array');
			const vv: VersionVector = {};
			const heads: Record<AuthorId, Uint8Array> = {};
			for (const entry of f.vv) {
				if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3))
					throw new ProtocolError('vv: expected [author, seq] or [author, seq, head] entries');
				const author = toHex(bytes32(entry[0], 'vv author')) as AuthorId;
				vv[author] = uint(entry[1], 'vv seq');
				if (entry.length === 3) {
					if (!isBytes(entry[2], HEAD_PREFIX_BYTES)) throw new ProtocolError(`vv head: expected ${HEAD_PREFIX_BYTES} bytes`);
					heads[author] = entry[2];
				}
			}
			return Object.keys(heads).length > 0 ? { m: 'vv', vv, heads } : { m: 'vv', vv };
		}
		case 'offer':
			expectKeys(f, ['count']);
			return { m: 'offer', count: uint(f.count, 'count') };
		case 'blocks':
			expectKeys(f, ['items']);
			if (!Array.isArray(f.items) || !f.items.every((i) => isBytes(i))) throw new ProtocolError('items: expected byte strings');
			if (f.items.length > MAX_FRAME_ITEMS) throw new ProtocolError(`items: ${f.items.length} in one frame, at most ${MAX_FRAME_ITEMS}`);
			return { m: 'blocks', items: f.items as Uint8Array[] };
		case 'part': {
			expectKeys(f, ['id', 'index', 'total', 'data']);
			const index = uint(f.index, 'index');
			const total = uint(f.total, 'total');
			if (total < 2 || index >= total) throw new ProtocolError('part: index out of range');
			if (!isBytes(f.data)) throw new ProtocolError('data: expected bytes');
			return { m: 'part', id: toHex(bytes32(f.id, 'id')) as BlockId, index, total, data: f.data };
		}
		case 'end':
			expectKeys(f, []);
			return { m: 'end' };
		case 'ack':
			expectKeys(f, ['n']);
			return { m: 'ack', n: uint(f.n, 'n') };
		case 'want':
			expectKeys(f, ['ids']);
			if (!Array.isArray(f.ids) || f.ids.length > MAX_WANT_IDS) throw new ProtocolError(`ids: expected at most ${MAX_WANT_IDS}`);
			return { m: 'want', ids: f.ids.map((id) => toHex(bytes32(id, 'id')) as BlockId) };
		case 'denied':
			expectKeys(f, ['reason']);
			if (typeof f.reason !== 'string' || f.reason.length > 200) throw new ProtocolError('reason: expected text');
			return { m: 'denied', reason: f.reason };
		case 'join':
		case 'join-reply':
			expectKeys(f, ['data']);
			if (!isBytes(f.data) || f.data.length > MAX_JOIN_BYTES) throw new ProtocolError(`data: expected at most ${MAX_JOIN_BYTES} bytes`);
			return { m: f.m, data: f.data };
		case 'bye':
			expectKeys(f, ['reason']);
			if (typeof f.reason !== 'string' || f.reason.length > 200) throw new ProtocolError('reason: expected text');
			return { m: 'bye', reason: f.reason };
		default:
			throw new ProtocolError(`unknown message type ${String(f.m)}`);
	}
}
