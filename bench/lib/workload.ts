/**
 * Deterministic benchmark workloads, shared by the Chromium page and the Node side so both
 * measure the same bytes: fixed keys (testing/fixtures), a fixed clock, and Ed25519's
 * deterministic signatures make every block identical wherever it is generated.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	Ledger,
	MemoryStore,
	createSigner,
	decodeBlock,
	orderKey,
	compareOrder,
	publicKeyOf,
	toHex,
	type BlockId,
	type Tx,
	type Verifier
} from '../../src/lib/core/index.js';
import { fixedNow, syncInto, testSecret } from '../../src/lib/core/testing/fixtures.js';

/** The free text of entry `i`: a short clinical note, the same in the ledger and in the Yjs baseline. */
export const noteText = (i: number): string => `visit ${i}: blood pressure 120/80, pulse 72, follow-up in two weeks`;

/** The transaction list of entry `i`. */
export const noteTxs = (i: number): Tx[] => [{ t: 'note', text: noteText(i) }];

/** The entry `i` as the Yjs baseline stores it: the same fields as the transaction. */
export const noteEntry = (i: number): { t: string; text: string } => ({ t: 'note', text: noteText(i) });

export const MEMBERS = ['member-1', 'member-2', 'member-3'] as const;

/** A set of valid blocks of one network, as a new node would receive them from a peer. */
export interface VerifyWorkload {
	readonly net: BlockId;
	/** Wire bytes in the order a peer streams them (per author, in chain order). */
	readonly blocks: Uint8Array[];
	/** The same blocks in total order (clock, id): every prefix is causally closed. */
	readonly ordered: Uint8Array[];
	readonly authors: number;
	/** Short hash of all the bytes, to show two environments generated the same workload. */
	readonly digest: string;
}

/**
 * `count` valid blocks from a founder and three members writing notes in turns of
 * `turn` blocks. Each writer first syncs from the previous one, so blocks carry deps on
 * the other authors' heads, as in a real network. Signs through {@link createSigner}
 * (WebCrypto where it has Ed25519): the bytes are those noble would produce, faster.
 */
export async function buildVerifyWorkload(
	count: number,
	verifier: Verifier,
	turn = 250,
	onProgress?: (done: number) => void
): Promise<VerifyWorkload> {
	const founder = await Ledger.create({
		store: new MemoryStore(),
		signer: await createSigner(testSecret('founder')),
		verifier,
		now: fixedNow,
		genesis: { name: 'Bench Clinic' }
	});
	await founder.append(MEMBERS.map((label) => ({ t: 'member.add', key: publicKeyOf(testSecret(label)), role: 'clinician' })));
	const nodes = [founder];
	for (const label of MEMBERS) {
		nodes.push(
			await Ledger.open({
				store: new MemoryStore(),
				signer: await createSigner(testSecret(label)),
				verifier,
				now: fixedNow,
				net: founder.net
			})
		);
	}
	let entry = 0;
	let writer = founder;
	for (let k = 0; writer.size < count; k++) {
		writer = nodes[k % nodes.length]!;
		if (k > 0) await syncInto(writer, nodes[(k - 1) % nodes.length]!);
		const n = Math.min(turn, count - writer.size);
		if (n > 0) await writer.appendBatch(Array.from({ length: n }, () => noteTxs(entry++)));
		onProgress?.(writer.size);
	}
	const blocks: Uint8Array[] = [];
	// A plain copy per block, as a transport delivers them: in Node, cborg encodes into
	// Buffers carved from Node's shared 8 KiB pool.
	for await (const bytes of writer.blocksSince({})) blocks.push(new Uint8Array(bytes));
	const decoded = blocks.map((bytes) => decodeBlock(bytes));
	const ordered = [...decoded].sort((a, b) => compareOrder(orderKey(a), orderKey(b))).map((b) => b.bytes);
	for (const b of blocks) if (b.byteLength !== b.buffer.byteLength) throw new Error('workload bytes must own their buffers');
	const hash = sha256.create();
	for (const bytes of blocks) hash.update(bytes);
	for (const node of nodes) await node.close();
	return { net: founder.net, blocks, ordered, authors: nodes.length, digest: toHex(hash.digest()).slice(0, 16) };
}
