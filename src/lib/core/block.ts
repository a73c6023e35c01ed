/**
 * Block format v1. Wire form: canonical CBOR array `[id, body, signature]` where
 * `body` is the canonical CBOR map below, `id = sha256(DOMAIN || body)` and
 * `signature = ed25519(author, id)`. Carrying the id lets a node drop a replay before
 * hashing and tells a tampered body (BAD_HASH) apart from a forged signature.
 *
 * Body keys: v, net (absent in genesis), author, seq, prev (absent at seq 0), deps,
 * clock, time, txs. See docs/block-format.md for the byte layout.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { decodeCanonical, encodeCanonical, type CborValue } from './codec.js';
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
/** Type names: lower case, dotted, so they sort and display predictably. */
const TX_TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)*$/;

/** The id of a body: sha256 over the domain tag and the body bytes. */
export function hashBody(body: Uint8Array): Uint8Array {
	return sha256(concatBytes(BLOCK_DOMAIN, body));
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
 * Signs a block. The result is checked by {@link decodeBlock} before it is returned, so a
 * caller can never produce a block that other nodes would refuse as malformed.
 */
export async function createBlock(signer: Signer, input: BlockInput): Promise<{ id: BlockId; bytes: Uint8Array; block: Block }> {
	const body = encodeCanonical(bodyValue(signer.publicKey, input));
	const idBytes = hashBody(body);
	const signature = await signer.sign(idBytes);
	const bytes = encodeCanonical([idBytes, body, signature]);
	const block = decodeBlock(bytes);
	return { id: block.id, bytes, block };
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
 * Strictly decodes a wire block: size, canonical CBOR (outer and body), and shape.
 * Does not check the hash or signature (see `validateBlock`). Throws {@link LedgerError}.
 */
export function decodeBlock(bytes: Uint8Array): Block {
	if (!(bytes instanceof Uint8Array)) fail('MALFORMED', 'block must be a Uint8Array');
	if (bytes.length > MAX_BLOCK_BYTES) fail('TOO_LARGE', `${bytes.length} bytes > ${MAX_BLOCK_BYTES}`);
	const outer = decodeCanonical(bytes);
	if (!Array.isArray(outer) || outer.length !== 3) fail('MALFORMED', 'block must be [id, body, signature]');
	const [idBytes, body, signature] = outer;
	const id = hash32(idBytes, 'id');
	if (!(body instanceof Uint8Array)) fail('MALFORMED', 'body must be a byte string');
	if (!(signature instanceof Uint8Array) || signature.length !== 64) fail('MALFORMED', 'signature: expected 64 bytes');
	const value = decodeCanonical(body);
	if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
		fail('MALFORMED', 'body must be a map');
	}
	for (const key of Object.keys(value)) if (!BODY_KEYS.has(key)) fail('MALFORMED', `body: unknown field ${key}`);
	if (value.v !== BLOCK_VERSION) fail('MALFORMED', `v: unsupported version ${String(value.v)}`);
	const author = hash32(value.author, 'author');
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
		if (tx === null || typeof tx !== 'object' || Array.isArray(tx) || tx instanceof Uint8Array) fail('MALFORMED', `txs[${i}]: expected map`);
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

/** True when the id carried by the block is the hash of its body. */
export function hashMatches(block: Block): boolean {
	return toHex(hashBody(block.body)) === block.id;
}
