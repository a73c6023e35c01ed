/**
 * Block format v1. Wire form: canonical CBOR array `[id, body, signature]` where
 * `body` is the canonical CBOR map below, `id = sha256(DOMAIN || body)` and
 * `signature = ed25519(author, id)`. Carrying the id lets a node drop a replay before
 * hashing and tells a tampered body (BAD_HASH) apart from a forged signature.
 *
 * Body keys: v, net (absent in genesis), author, seq, prev (absent at seq 0), deps,
 * clock, time, txs. See docs/block-format.md for the byte layout.
 *
 * Decoding is in two steps so that an unsigned input costs little whatever it holds:
 * {@link openBlock} checks the bytes (canonical, a bounded number of items, the author)
 * building no value of the body, which is enough to check the hash and the signature;
 * {@link readBlock} then builds the values and checks the block's shape.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import { decodeCanonical, encodeCanonical, scanCanonicalMap, type CborValue, type DecodeLimits } from './codec.js';
import type { Signer } from './crypto/verifier.js';
import { LedgerError } from './errors.js';
import type { AuthorId, Block, BlockId, Tx } from './types.js';

export const BLOCK_VERSION = 1;
/** Domain separation for block ids: no other hash in the system starts with these bytes. */
export const BLOCK_DOMAIN = utf8('clinic-ledger/block/v1');
/**
 * Largest accepted wire block: room for one 5 MB clinical attachment plus encryption and
 * framing overhead. Sync splits blocks into ≤ 64 KiB frames.
 */
export const MAX_BLOCK_BYTES = 6 * 1024 * 1024;
export const MAX_DEPS = 16;
export const MAX_TXS = 1000;
/**
 * Most items (values and map keys, at any depth) in one body. Building a value costs far
 * more than its bytes (an empty map is 1 byte on the wire, about 60 in memory), so the
 * count is bounded, not only the size: 1000 transactions of 260 items each, several times
 * the largest written so far (a contract deployment, about 250).
 */
export const MAX_BODY_ITEMS = 262_144;
/** Type names: lower case, dotted, so they sort and display predictably. */
const TX_TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)*$/;

/** The id of a body: sha256 over the domain tag and the body bytes. */
export function hashBody(body: Uint8Array): Uint8Array {
	// Incremental: a 6 MiB body is hashed without a second copy of it.
	return sha256.create().update(BLOCK_DOMAIN).update(body).digest();
}

/** What a caller provides to make a block; the author comes from the signer. */
export interface BlockInput {
	net: BlockId | null;
	seq: number;
	prev: BlockId | null;
	deps: readonly BlockId[];
	clock: number;
	time: number;
	txs: readonly Tx[];
}

/** Sorted, de-duplicated deps as the format requires. */
export function normalizeDeps(deps: Iterable<BlockId>): BlockId[] {
	return [...new Set(deps)].sort();
}

function bodyValue(author: Uint8Array, input: BlockInput): { [key: string]: CborValue } {
	const body: { [key: string]: CborValue } = {
		v: BLOCK_VERSION,
		author,
		seq: input.seq,
		deps: input.deps.map((d) => fromHex(d, 'deps')),
		clock: input.clock,
		time: input.time,
		txs: [...input.txs]
	};
	if (input.net !== null) body.net = fromHex(input.net, 'net');
	if (input.prev !== null) body.prev = fromHex(input.prev, 'prev');
	return body;
}

/**
 * A block encoded, hashed and checked, waiting for its signature: what the ledger needs
 * to judge and stage it (everything but the signature), so a batch's signatures can be
 * made elsewhere (a signing worker) while the next blocks are built ({@link sealBlock}).
 */
export interface DraftBlock {
	/** The id to sign. */
	readonly idBytes: Uint8Array;
	/** The block as it will read once sealed; its signature is 64 zero bytes until then. */
	readonly block: Block;
}

/**
 * Encodes and hashes a block of `author` and checks it exactly as {@link decodeBlock}
 * checks a received one (size, item count, canonical form, shape), so a caller can never
 * produce a block that other nodes would refuse as malformed. The body is decoded back
 * once: the transactions the ledger folds are the values every other node decodes, not the
 * caller's objects.
 */
export function draftBlock(author: Uint8Array, input: BlockInput): DraftBlock {
	const authorKey = hash32(author, 'author');
	const body = encodeCanonical(bodyValue(authorKey, input));
	const idBytes = hashBody(body);
	const signature = new Uint8Array(64);
	// [id, body, signature]: the signature is the last 64 bytes (sealBlock writes it there).
	const bytes = encodeCanonical([idBytes, body, signature]);
	if (bytes.length > MAX_BLOCK_BYTES) fail('TOO_LARGE', `${bytes.length} bytes > ${MAX_BLOCK_BYTES}`);
	const block = readBlock({ id: idBytes, body, signature, author: authorKey, bytes }, { maxItems: MAX_BODY_ITEMS });
	return { idBytes, block };
}

/**
 * The signed block: `signature` (of `draft.idBytes`) written into the draft's bytes in
 * place (they are the draft's own, made by {@link draftBlock}): the draft is used up.
 */
export function sealBlock(draft: DraftBlock, signature: Uint8Array): Block {
	if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new TypeError('sealBlock: expected a 64-byte signature');
	const { bytes } = draft.block;
	bytes.set(signature, bytes.length - 64);
	return { ...draft.block, signature: bytes.subarray(bytes.length - 64) };
}

/** Signs a block (see {@link draftBlock} for the checks it passes first). */
export async function createBlock(signer: Signer, input: BlockInput): Promise<{ id: BlockId; bytes: Uint8Array; block: Block }> {
	const draft = draftBlock(signer.publicKey, input);
	const block = sealBlock(draft, await signer.sign(draft.idBytes));
	return { id: block.id, bytes: block.bytes, block };
}

/** Fields of a network's founding transaction. */
export interface GenesisOptions {
	/** Human name of the network, e.g. the founding clinic's name. */
	name: string;
	/** Wall-clock time in ms; defaults to now. Advisory only. */
	time?: number;
	/** Other fields of the genesis transaction (founding members, rules). */
	[field: string]: CborValue | undefined;
}

/** Creates the genesis block; its id is the network id. The signer is the founding admin. */
export async function createGenesis(signer: Signer, options: GenesisOptions) {
	if (typeof options.name !== 'string' || options.name.trim() === '') {
		throw new TypeError('createGenesis: name must be a non-empty string');
	}
	const { time = Date.now(), ...fields } = options;
	const tx: Record<string, CborValue> = { t: 'genesis' };
	for (const [k, v] of Object.entries(fields)) if (v !== undefined) tx[k] = v;
	return createBlock(signer, { net: null, seq: 0, prev: null, deps: [], clock: 0, time, txs: [tx as Tx] });
}

function fail(code: 'MALFORMED' | 'TOO_LARGE', detail: string): never {
	throw new LedgerError(code, detail);
}

function uint(value: CborValue | undefined, field: string): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail('MALFORMED', `${field}: expected unsigned integer`);
	return value;
}

function hash32(value: CborValue | undefined, field: string): Uint8Array {
	if (!(value instanceof Uint8Array) || value.length !== 32) fail('MALFORMED', `${field}: expected 32 bytes`);
	return value;
}

const BODY_KEYS = new Set(['v', 'net', 'author', 'seq', 'prev', 'deps', 'clock', 'time', 'txs']);

/**
 * A wire block checked as far as the bytes allow without building the body's values:
 * what the hash and signature checks need.
 */
export interface OpenedBlock {
	/** The id the block claims (not yet checked against the body). */
	readonly id: Uint8Array;
	readonly body: Uint8Array;
	readonly signature: Uint8Array;
	/** The author's public key, from the body. */
	readonly author: Uint8Array;
	readonly bytes: Uint8Array;
}

/**
 * The checks on a wire block that build nothing of its body: size, canonical CBOR
 * (outer and body, with at most {@link MAX_BODY_ITEMS} items), the outer shape, known
 * body fields and a 32-byte author. One pass over the bytes, one copy of the body, no
 * allocation that grows with the number of items. Throws {@link LedgerError}.
 */
export function openBlock(bytes: Uint8Array): OpenedBlock {
	if (!(bytes instanceof Uint8Array)) fail('MALFORMED', 'block must be a Uint8Array');
	if (bytes.length > MAX_BLOCK_BYTES) fail('TOO_LARGE', `${bytes.length} bytes > ${MAX_BLOCK_BYTES}`);
	const outer = decodeCanonical(bytes, { maxItems: 4 });
	if (!Array.isArray(outer) || outer.length !== 3) fail('MALFORMED', 'block must be [id, body, signature]');
	const [idBytes, body, signature] = outer;
	const id = hash32(idBytes, 'id');
	if (!(body instanceof Uint8Array)) fail('MALFORMED', 'body must be a byte string');
	if (!(signature instanceof Uint8Array) || signature.length !== 64) fail('MALFORMED', 'signature: expected 64 bytes');
	let fields: Map<string, Uint8Array>;
	try {
		fields = scanCanonicalMap(body, { maxItems: MAX_BODY_ITEMS, maxEntries: BODY_KEYS.size });
	} catch (error) {
		if (error instanceof LedgerError && error.code === 'MALFORMED') fail('MALFORMED', `body: ${error.detail}`);
		throw error;
	}
	for (const key of fields.keys()) if (!BODY_KEYS.has(key)) fail('MALFORMED', `body: unknown field ${key}`);
	const authorBytes = fields.get('author');
	const author = hash32(authorBytes === undefined ? undefined : decodeCanonical(authorBytes), 'author');
	return { id, body, signature, author, bytes };
}

/** Encoded keys the peek below expects: text head, then the ASCII name. */
const KEY_V = [0x61, 0x76];
const KEY_NET = [0x63, 0x6e, 0x65, 0x74];
const KEY_SEQ = [0x63, 0x73, 0x65, 0x71];
/** `"author"` and the head of its 32-byte value: the last 41 bytes of every body but the key. */
const AUTHOR_TAIL = [0x66, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x58, 0x20];

function hasAt(bytes: Uint8Array, pos: number, expected: readonly number[]): boolean {
	for (let i = 0; i < expected.length; i++) if (bytes[pos + i] !== expected[i]) return false;
	return true;
}

/** Bytes of the CBOR head at `pos` (arguments of up to 4 bytes). */
function headSize(bytes: Uint8Array, pos: number): number {
	const info = bytes[pos]! & 31;
	return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : 5;
}

/** Argument of the head of major type `major` at `pos`; -1 for another type, an 8-byte argument or the end. */
function argumentAt(bytes: Uint8Array, pos: number, major: number): number {
	const head = bytes[pos];
	if (head === undefined || head >> 5 !== major) return -1;
	const info = head & 31;
	if (info < 24) return info;
	const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
	if (size === 0 || pos + size >= bytes.length) return -1;
	let value = 0;
	for (let i = 1; i <= size; i++) value = value * 256 + bytes[pos + i]!;
	return value;
}

/**
 * The author and seq a wire block claims, read at their fixed places without checking
 * anything else (no hash, no signature, no canonical form): the body's keys come in
 * canonical order `v`, `net` (absent in genesis), `seq`, ..., `author` last, so `seq`
 * is near the start of the body and the author is its last 32 bytes. Costs the same
 * whatever the block holds. Null when the bytes do not have this layout. Unverified: good
 * only for a decision that is safe whatever it returns (see `Pipeline.receive`).
 */
export function peekAuthorSeq(bytes: Uint8Array): { author: AuthorId; seq: number } | null {
	if (!(bytes instanceof Uint8Array) || bytes.length < 35 || bytes[0] !== 0x83 || bytes[1] !== 0x58 || bytes[2] !== 0x20) return null;
	const bodyLength = argumentAt(bytes, 35, 2);
	if (bodyLength < AUTHOR_TAIL.length + 32) return null;
	const start = 35 + headSize(bytes, 35);
	const end = start + bodyLength;
	// [id, body, signature]: the 64-byte signature ends the block.
	if (bytes.length !== end + 66 || bytes[end] !== 0x58 || bytes[end + 1] !== 0x40) return null;
	let pos = start;
	if (argumentAt(bytes, pos, 5) < 0) return null;
	pos += headSize(bytes, pos);
	if (!hasAt(bytes, pos, KEY_V)) return null;
	pos += KEY_V.length;
	if (argumentAt(bytes, pos, 0) < 0) return null;
	pos += headSize(bytes, pos);
	if (hasAt(bytes, pos, KEY_NET)) {
		pos += KEY_NET.length;
		if (argumentAt(bytes, pos, 2) !== 32) return null;
		pos += 2 + 32;
	}
	if (!hasAt(bytes, pos, KEY_SEQ)) return null;
	pos += KEY_SEQ.length;
	const seq = argumentAt(bytes, pos, 0);
	const authorKey = end - 32 - AUTHOR_TAIL.length;
	if (seq < 0 || pos + headSize(bytes, pos) > authorKey || !hasAt(bytes, authorKey, AUTHOR_TAIL)) return null;
	return { author: toHex(bytes.subarray(end - 32, end)) as AuthorId, seq };
}

/**
 * Builds the block from an opened one and checks its shape: field types, `prev` iff
 * `seq > 0`, deps, transactions, the genesis form. Throws {@link LedgerError}.
 */
export function readBlock(opened: OpenedBlock, limits: DecodeLimits = {}): Block {
	const { id, body, signature, author, bytes } = opened;
	// One building pass over the whole body: openBlock checked it is a map of known fields.
	const value = decodeCanonical(body, limits) as { [key: string]: CborValue };
	if (value.v !== BLOCK_VERSION) fail('MALFORMED', `v: unsupported version ${String(value.v)}`);
	const seq = uint(value.seq, 'seq');
	const clock = uint(value.clock, 'clock');
	const time = uint(value.time, 'time');
	const net = value.net === undefined ? null : hash32(value.net, 'net');
	const prev = value.prev === undefined ? null : hash32(value.prev, 'prev');
	if ((seq === 0) !== (prev === null)) fail('MALFORMED', seq === 0 ? 'prev must be absent at seq 0' : 'prev is required after seq 0');
	if (!Array.isArray(value.deps)) fail('MALFORMED', 'deps: expected array');
	if (value.deps.length > MAX_DEPS) fail('MALFORMED', `deps: more than ${MAX_DEPS}`);
	const deps = value.deps.map((d, i) => toHex(hash32(d, `deps[${i}]`)) as BlockId);
	for (let i = 1; i < deps.length; i++) if (!(deps[i - 1]! < deps[i]!)) fail('MALFORMED', 'deps: must be sorted and unique');
	if (!Array.isArray(value.txs)) fail('MALFORMED', 'txs: expected array');
	if (value.txs.length > MAX_TXS) fail('MALFORMED', `txs: more than ${MAX_TXS}`);
	const txs = value.txs.map((tx, i) => {
		if (tx === null || typeof tx !== 'object' || Array.isArray(tx) || tx instanceof Uint8Array)
			fail('MALFORMED', `txs[${i}]: expected map`);
		if (typeof tx.t !== 'string' || !TX_TYPE.test(tx.t)) fail('MALFORMED', `txs[${i}].t: expected a type name`);
		return tx as Tx;
	});
	if (net === null) {
		// Genesis: the one block without a network field; everything else about it is fixed.
		if (seq !== 0 || deps.length !== 0 || clock !== 0) fail('MALFORMED', 'genesis must have seq 0, no deps, clock 0');
		if (txs.length !== 1 || txs[0]!.t !== 'genesis') fail('MALFORMED', 'genesis must hold exactly one genesis transaction');
	} else if (txs.length === 0) {
		fail('MALFORMED', 'txs: a block must carry at least one transaction');
	}
	return {
		id: toHex(id) as BlockId,
		net: net === null ? null : (toHex(net) as BlockId),
		author: toHex(author) as AuthorId,
		seq,
		prev: prev === null ? null : (toHex(prev) as BlockId),
		deps,
		clock,
		time,
		txs,
		body,
		signature,
		bytes
	};
}

/**
 * Strictly decodes a wire block: size, canonical CBOR (outer and body), and shape.
 * Does not check the hash or signature (see `checkIntrinsic`). Throws {@link LedgerError}.
 */
export function decodeBlock(bytes: Uint8Array): Block {
	return readBlock(openBlock(bytes));
}
