// The access fold keyed by patient (access.ts `keyed`): blocks of grants and revocations
// that land late re-apply only their patients' grants and epochs, and after every late
// batch the state equals a fold in ledger order: grants whose ids collide across patients
// (the first in ledger order wins: such a batch rewinds), revocations before their grant, of
// another patient's grant, twice. Driven by hand as the fold engine does (support/keyed-by-hand.ts).
import { describe, expect, it } from 'vitest';
import { generateSecretKey, publicKeyOf, toHex, type Block, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { prng } from '$lib/core/testing/prng.js';
import { accessFold } from '$lib/domain/privacy/access.js';
import { grantMessage, grantTx, revokeGrantTx, type Grant } from '$lib/domain/privacy/consent.js';
import { CATEGORIES } from '$lib/domain/privacy/envelope.js';
import { folded, inOrder, lateArrivals, unsignedBlock } from '../../support/keyed-by-hand.js';

const people = Array.from({ length: 5 }, () => {
	const seed = generateSecretKey();
	return { seed, id: toHex(publicKeyOf(seed)) };
});
const NOW = 1_720_000_000_000;

/** Blocks of grants (ids from a small space, so they collide across patients) and revocations, at random clocks. */
function consentLedger(seed: number): Block[] {
	const random = prng(seed);
	const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
	const blocks: Block[] = [];
	for (let n = 0; n < 60; n++) {
		const patient = pick(people);
		const id = Math.floor(random() * 12)
			.toString(16)
			.padStart(32, '0');
		const txs: Tx[] = [];
		if (random() < 0.6) {
			const grant: Grant = {
				id,
				patient: patient.id,
				grantee: pick(people).id,
				categories: [pick(CATEGORIES), pick(CATEGORIES)].filter((c, i, all) => all.indexOf(c) === i),
				purpose: 'treatment',
				expires: NOW + 86_400_000,
				issued: NOW
			};
			txs.push(grantTx(grant, signNoble(patient.seed, grantMessage(grant))));
		}
		// The fold trusts the rule's signature check on a revocation: any 64 bytes do here.
		if (random() < 0.5) txs.push(revokeGrantTx(random() < 0.8 ? patient.id : pick(people).id, id, NOW, new Uint8Array(64)));
		if (txs.length === 0) txs.push({ t: 'note', text: `n${n}` });
		blocks.push(
			unsignedBlock(`consent/${seed}/${n}`, { author: patient.id, seq: n, clock: 1 + Math.floor(random() * 40), time: NOW, txs })
		);
	}
	return inOrder(blocks);
}

describe('the access fold keyed by patient', () => {
	it('re-applying the late batches’ patients gives, after every batch, the state of a fold in ledger order', () => {
		let reapplied = 0;
		let rewound = 0;
		for (let seed = 1; seed <= 5; seed++) {
			const all = consentLedger(seed);
			const counts = lateArrivals(accessFold, all, prng(100 + seed), 4, 0.3);
			reapplied += counts.reapplied;
			rewound += counts.rewound;
		}
		expect(reapplied).toBeGreaterThan(10);
		// Grant ids colliding across patients did come late, and rewound.
		expect(rewound).toBeGreaterThan(0);
		// The ledgers do hold what the keys must get right: revocations that moved epochs, ids two patients used.
		const state = folded(accessFold, consentLedger(1));
		expect(Object.values(state.epochs).some((e) => e > 0)).toBe(true);
	});
});
