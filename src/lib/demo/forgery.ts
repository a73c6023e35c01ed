/**
 * What the demo's hostile node does to blocks: forges an honest member's block (changed
 * text under the original signature) and signs a second block at its own newest position
 * (equivocation). The core refuses or flags both; nothing here is special-cased for it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	CodedError,
	createBlock,
	decodeBlock,
	encodeCanonical,
	fromHex,
	hashBody,
	toHex,
	type Block,
	type Ledger,
	type Signer
} from '$lib/core/index.js';
import { noteTx } from '$lib/domain/note.js';

/**
 * Two forgeries of `victim`'s block (a past block every node holds) with its text
 * changed: one keeps the original signature and claims an id that is not the hash of
 * the new body (BAD_HASH), one carries the honestly recomputed id, which the
 * original signature does not cover (BAD_SIGNATURE).
 */
export function forgeBlock(victim: Block, text: string): { badHash: Uint8Array; badSignature: Uint8Array } {
	const body = encodeCanonical({
		v: 1,
		author: fromHex(victim.author),
		seq: victim.seq,
		deps: victim.deps.map((d) => fromHex(d)),
		clock: victim.clock,
		time: victim.time,
		txs: [noteTx(text)],
		...(victim.net ? { net: fromHex(victim.net) } : {}),
		...(victim.prev ? { prev: fromHex(victim.prev) } : {})
	});
	// A claimed id nobody holds (so it is not dropped as a duplicate) and that is not the body's hash.
	const claimed = sha256(fromHex(victim.id));
	return {
		badHash: encodeCanonical([claimed, body, victim.signature]),
		badSignature: encodeCanonical([hashBody(body), body, victim.signature])
	};
}

/**
 * Signs a second block at the position of the newest block `signer` wrote to `ledger`
 * (`name` is the node, for the error when it has written nothing): same seq, prev, deps
 * and clock, other content.
 * Validly signed, so only the position gives it away.
 */
export async function twinOfHead(name: string, ledger: Ledger, signer: Signer, text: string): Promise<{ original: Block; twin: Block }> {
	const head = ledger.heads().find((h) => h.author === toHex(signer.publicKey));
	if (!head) throw new CodedError('DEMO_NOTHING_WRITTEN', `${name} has written nothing yet`);
	const original = (await ledger.store.get(head.id))!;
	const first = decodeBlock(original.bytes);
	const { block: twin } = await createBlock(signer, {
		net: first.net,
		seq: first.seq,
		prev: first.prev,
		deps: first.deps,
		clock: first.clock,
		time: first.time + 1,
		txs: [noteTx(text)]
	});
	return { original: first, twin };
}
