/**
 * The ledgers the sync benchmarks start from, made the same way in every Chromium
 * process: fixed test keys (testing/fixtures), a fixed clock and Ed25519's deterministic
 * signatures give identical wire bytes wherever they are generated: every run syncs the
 * same bytes.
 */
import {
	Ledger,
	createSigner,
	detectVerifier,
	publicKeyOf,
	type LedgerStore,
	type Tx,
	type Verifier
} from '../../../src/lib/core/index.js';
import { fixedNow, testSecret } from '../../../src/lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '../../../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../../../src/lib/domain/rule-registry.js';

/** Rules and folds of the app: a clinic node validates and folds exactly this. */
export const APP_LEDGER = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES } as const;

export const FOUNDER = 'founder';

/** The note of entry `i`: a short clinical text, as in bench/lib/workload.ts. */
export const noteTxs = (i: number): Tx[] => [{ t: 'note', text: `visit ${i}: blood pressure 120/80, pulse 72, follow-up in two weeks` }];

/** `bytes` of deterministic, incompressible-looking data (an attachment's file). */
export function fileBytes(bytes: number, seed = 1): Uint8Array {
	const out = new Uint8Array(bytes);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < bytes; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		out[i] = x & 0xff;
	}
	return out;
}

export interface FounderOptions {
	store: LedgerStore;
	/** Total blocks, genesis and the member.add block included. */
	count: number;
	/** Test identities added as members (clinician) in the block after the genesis. */
	members: readonly string[];
	/** Blocks per appendBatch. */
	batch?: number;
	verifier?: Verifier;
	onProgress?: (size: number) => void;
}

/** A founder's ledger of `count` blocks (genesis, one member.add block, then notes) and their wire size. */
export async function buildFounderLedger(options: FounderOptions): Promise<{ ledger: Ledger; bytes: number }> {
	const ledger = await Ledger.create({
		...APP_LEDGER,
		store: options.store,
		signer: await createSigner(testSecret(FOUNDER)),
		verifier: options.verifier ?? (await detectVerifier()),
		now: fixedNow,
		genesis: { name: 'Sync Bench Clinic' }
	});
	await ledger.append(options.members.map((label) => ({ t: 'member.add', key: publicKeyOf(testSecret(label)), role: 'clinician' })));
	let bytes = 0;
	for await (const b of ledger.blocksSince({})) bytes += b.length;
	const batch = options.batch ?? 1000;
	let entry = 0;
	while (ledger.size < options.count) {
		const n = Math.min(batch, options.count - ledger.size);
		for (const block of await ledger.appendBatch(Array.from({ length: n }, () => noteTxs(entry++)))) bytes += block.bytes.length;
		options.onProgress?.(ledger.size);
	}
	return { ledger, bytes };
}

/** Wire bytes of every block of `ledger`, in the order a peer streams them. */
export async function wireBlocks(ledger: Ledger): Promise<Uint8Array[]> {
	const out: Uint8Array[] = [];
	for await (const bytes of ledger.blocksSince({})) out.push(new Uint8Array(bytes));
	return out;
}
