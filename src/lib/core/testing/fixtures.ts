/**
 * Building blocks for tests, simulations and benchmarks: deterministic keys, nodes on
 * in-memory stores, and hand-made blocks (valid or deliberately broken).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBlock, type BlockInput } from '../block.js';
import { toHex, utf8 } from '../bytes.js';
import { nobleSigner, nobleVerifier, type Signer, type Verifier } from '../crypto/verifier.js';
import { Ledger, type LedgerOptions } from '../ledger.js';
import { MemoryStore } from '../storage/memory.js';
import type { AuthorId, BlockId, Tx } from '../types.js';

/** A deterministic secret key for test identity `label`. */
export function testSecret(label: string): Uint8Array {
	return sha256(utf8(`clinic-ledger/test-key/${label}`));
}

/**
 * The Ed25519 engines the fixtures sign and verify with: noble (deterministic and available
 * everywhere) unless a test setup names others. The Node test projects name Node's OpenSSL
 * (tests/unit/support/node-engines.ts: the headless peer's engines, the same strict rule
 * through `precheckSignature`, byte-identical signatures, about 20 times faster); the
 * engines' agreement is tested on its own (tests/unit/core/crypto/ed25519.test.ts, and in
 * Chromium). A test that passes its own `verifier` or signer is not affected.
 */
export interface TestEngines {
	signer: (secret: Uint8Array) => Signer;
	verifier: Verifier;
}
const engines: TestEngines = { signer: nobleSigner, verifier: nobleVerifier };

/** Sets the engines the fixtures use from now on (a test setup calls it once). */
export function useTestEngines(next: TestEngines): void {
	engines.signer = next.signer;
	engines.verifier = next.verifier;
	signers.clear();
}

/** Signers by label: a signer holds no state but its key, whose import costs as much as a signature. */
const signers = new Map<string, Signer>();

/** The verifier the fixtures use ({@link useTestEngines}). */
export const testVerifier = (): Verifier => engines.verifier;

/** A signer for test identity `label`, on the fixtures' engine ({@link useTestEngines}). */
export function testSigner(label: string): Signer {
	let signer = signers.get(label);
	if (!signer) signers.set(label, (signer = engines.signer(testSecret(label))));
	return signer;
}

export const authorOf = (label: string) => toHex(testSigner(label).publicKey) as AuthorId;

/** Fixed clock so block bytes are reproducible. */
export const fixedNow = () => 1_700_000_000_000;

/** A founded network on a memory store, with `members` added by the founder in one block. */
export async function foundNetwork(
	options: { founder?: string; members?: Record<string, string>; verifier?: Verifier } & Partial<LedgerOptions> = {}
): Promise<Ledger> {
	const founder = options.founder ?? 'founder';
	const ledger = await Ledger.create({
		store: new MemoryStore(),
		verifier: options.verifier ?? engines.verifier,
		now: fixedNow,
		...options,
		signer: testSigner(founder),
		genesis: { name: 'Test Clinic' }
	});
	const members = Object.entries(options.members ?? {});
	if (members.length > 0) {
		await ledger.append(members.map(([label, role]) => ({ t: 'member.add', key: testSigner(label).publicKey.slice(), role })));
	}
	return ledger;
}

/** A second node of `net` for identity `label`, empty until it receives blocks. */
export function joinNetwork(net: BlockId, label: string, options: Partial<LedgerOptions> = {}): Promise<Ledger> {
	return Ledger.open({ store: new MemoryStore(), verifier: engines.verifier, now: fixedNow, ...options, signer: testSigner(label), net });
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
