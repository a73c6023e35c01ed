/**
 * Building blocks for tests, simulations and benchmarks: deterministic keys, nodes on
 * in-memory stores, and hand-made blocks (valid or deliberately broken).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBlock, type BlockInput } from '../block.js';
import { toHex, utf8 } from '../bytes.js';
import { publicKeyOf } from '../crypto/ed25519.js';
import { nobleSigner, nobleVerifier, type Signer, type Verifier } from '../crypto/verifier.js';
import { Ledger, type LedgerOptions } from '../ledger.js';
import { MemoryStore } from '../storage/memory.js';
import type { AuthorId, BlockId, Tx } from '../types.js';

/** A deterministic secret key for test identity `label`. */
export function testSecret(label: string): Uint8Array {
	return sha256(utf8(`clinic-ledger/test-key/${label}`));
}

/** A signer for test identity `label` (noble: deterministic and available everywhere). */
export function testSigner(label: string): Signer {
	return nobleSigner(testSecret(label));
}

export const authorOf = (label: string) => toHex(publicKeyOf(testSecret(label))) as AuthorId;

/** Fixed clock so block bytes are reproducible. */
export const fixedNow = () => 1_700_000_000_000;

/** A founded network on a memory store, with `members` added by the founder in one block. */
export async function foundNetwork(
	options: { founder?: string; members?: Record<string, string>; verifier?: Verifier } & Partial<LedgerOptions> = {}
): Promise<Ledger> {
	const founder = options.founder ?? 'founder';
	const ledger = await Ledger.create({
		store: new MemoryStore(),
		verifier: options.verifier ?? nobleVerifier,
		now: fixedNow,
		...options,
		signer: testSigner(founder),
		genesis: { name: 'Test Clinic' }
	});
	const members = Object.entries(options.members ?? {});
	if (members.length > 0) {
		await ledger.append(members.map(([label, role]) => ({ t: 'member.add', key: publicKeyOf(testSecret(label)), role })));
	}
	return ledger;
}

/** A second node of `net` for identity `label`, empty until it receives blocks. */
export function joinNetwork(net: BlockId, label: string, options: Partial<LedgerOptions> = {}): Promise<Ledger> {
	return Ledger.open({ store: new MemoryStore(), verifier: nobleVerifier, now: fixedNow, ...options, signer: testSigner(label), net });
}

/** Copies every block `from` holds that `to` lacks. */
export async function syncInto(to: Ledger, from: Ledger) {
	const blocks: Uint8Array[] = [];
	for await (const b of from.blocksSince(to.versionVector())) blocks.push(b);
	return to.receive(blocks);
}

/** A hand-made block, e.g. with a wrong clock or by a stranger, signed by `signer`. */
export function makeBlock(signer: Signer, input: Partial<BlockInput> & { net: BlockId }) {
	const txs: Tx[] = input.txs ? [...input.txs] : [{ t: 'note', text: 'hand-made' }];
	return createBlock(signer, { seq: 0, prev: null, deps: [], clock: 0, time: fixedNow(), ...input, txs });
}
