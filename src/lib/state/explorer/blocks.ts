/**
 * What the explorer shows of a block: the little the canvas draws ({@link ExplorerBlock},
 * the wire bytes are not kept), and a selected block decoded, its transactions in words
 * and its hash and signature re-verified now ({@link readBlockDetail}).
 */
import {
	decodeBlock,
	fromHex,
	hashBody,
	toHex,
	type AuthorId,
	type BlockId,
	type Ledger,
	type StoredBlock,
	type Tx
} from '$lib/core/index.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';

/** What the canvas needs of a block; the wire bytes are not kept. */
export interface ExplorerBlock {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	readonly prev: BlockId | null;
	readonly deps: readonly BlockId[];
	readonly types: readonly string[];
}

export interface TxView {
	readonly type: string;
	readonly text: string;
	/** Every field, bytes shown as their size and first bytes. */
	readonly fields: readonly [string, string][];
}

/** One block, decoded and re-verified when it was selected. */
export interface BlockDetail {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly authorName: string | null;
	readonly seq: number;
	readonly clock: number;
	readonly time: number;
	readonly net: BlockId | null;
	readonly prev: BlockId | null;
	readonly deps: readonly BlockId[];
	readonly size: number;
	readonly signature: string;
	/** sha256 of the body equals the id. */
	readonly hashOk: boolean;
	/** The author's ed25519 signature over the id verifies. */
	readonly signatureOk: boolean;
	readonly verifyMs: number;
	readonly txs: readonly TxView[];
}

function fieldText(value: unknown): string {
	if (value instanceof Uint8Array) return `${value.length} bytes: ${toHex(value.subarray(0, 16))}${value.length > 16 ? '…' : ''}`;
	if (Array.isArray(value)) return `[${value.map(fieldText).join(', ')}]`;
	if (value !== null && typeof value === 'object')
		return `{${Object.entries(value)
			.map(([k, v]) => `${k}: ${fieldText(v)}`)
			.join(', ')}}`;
	return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function txView(tx: Tx): TxView {
	const { type, text } = summarizeTx(tx);
	return {
		type,
		text,
		fields: Object.entries(tx)
			.filter(([k]) => k !== 't')
			.map(([k, v]) => [k, fieldText(v)] as [string, string])
	};
}

export function toExplorerBlock(stored: StoredBlock): ExplorerBlock {
	const block = decodeBlock(stored.bytes);
	return {
		id: block.id,
		author: block.author,
		seq: block.seq,
		clock: block.clock,
		prev: block.prev,
		deps: block.deps,
		types: [...new Set(block.txs.map((t) => t.t))]
	};
}

/** Reads, decodes and re-verifies block `id` (hash and signature, now, with the ledger's verifier); null when this copy lacks it. */
export async function readBlockDetail(
	ledger: Ledger,
	id: BlockId,
	nameOf: (author: AuthorId) => string | null
): Promise<BlockDetail | null> {
	const stored = await ledger.store.get(id);
	if (!stored) return null;
	const started = performance.now();
	const block = decodeBlock(stored.bytes);
	const hashOk = toHex(hashBody(block.body)) === block.id;
	const signatureOk = await ledger.verifySignature(block.signature, fromHex(block.id), fromHex(block.author));
	const verifyMs = performance.now() - started;
	return {
		id: block.id,
		author: block.author,
		authorName: nameOf(block.author),
		seq: block.seq,
		clock: block.clock,
		time: block.time,
		net: block.net,
		prev: block.prev,
		deps: block.deps,
		size: block.bytes.length,
		signature: toHex(block.signature),
		hashOk,
		signatureOk,
		verifyMs,
		txs: block.txs.map(txView)
	};
}
