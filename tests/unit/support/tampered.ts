/**
 * A member whose stored copy of its own block was altered behind its ledger, as a tampered
 * disk would leave it: it keeps offering a block every other node refuses (`BAD_HASH`).
 */
import { Ledger, MemoryStore } from '../../../src/lib/core/index.js';
import { foundNetwork, syncInto, testSigner, testVerifier } from '../../../src/lib/core/testing/fixtures.js';

export async function tamperedHolder(): Promise<{ honest: Ledger; evil: Ledger }> {
	const honest = await foundNetwork({ members: { evil: 'clinician' } });
	const store = new MemoryStore();
	const evil = await Ledger.open({ store, signer: testSigner('evil'), verifier: testVerifier(), net: honest.net });
	await syncInto(evil, honest);
	const bad = await evil.append([{ t: 'note', text: 'amount 80.00' }]);
	const stored = (await store.get(bad.id))!;
	const bytes = stored.bytes.slice();
	bytes[bytes.length - 70]! ^= 1;
	Object.assign(stored, { bytes });
	return { honest, evil };
}
