// The access fold's per-patient grant index (byPatient) is derived state: whatever grants
// and revocations were folded, and through a checkpoint, it lists exactly each patient's
// grants, sorted by id; the lookups that use it answer as a scan of every grant would.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, generateSecretKey, publicKeyOf, toHex, type Block } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { accessFold, accessState, grantsOf, mayRead, sealingReaders } from '$lib/domain/privacy/access.js';
import { grantMessage, grantsFor, grantTx, readersFor, revokeGrantTx, type Grant } from '$lib/domain/privacy/consent.js';
import { CATEGORIES } from '$lib/domain/privacy/envelope.js';

const people = Array.from({ length: 4 }, () => {
	const seed = generateSecretKey();
	return { seed, id: toHex(publicKeyOf(seed)) };
});
const NOW = 1_720_000_000_000;

describe('access fold: grants by patient', () => {
	it('indexes every grant under its patient, the same as a scan, live and after a checkpoint', () => {
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						patient: fc.nat(3),
						grantee: fc.nat(3),
						category: fc.constantFrom(...CATEGORIES),
						id: fc.nat(9),
						revoke: fc.boolean(),
						expiresIn: fc.integer({ min: -2, max: 5 })
					}),
					{ maxLength: 25 }
				),
				(steps) => {
					let state = accessFold.init();
					steps.forEach((s, i) => {
						const patient = people[s.patient]!;
						const grant: Grant = {
							id: s.id.toString(16).padStart(32, '0'),
							patient: patient.id,
							grantee: people[s.grantee]!.id,
							categories: [s.category],
							purpose: 'treatment',
							expires: NOW + s.expiresIn * 86_400_000,
							issued: NOW - 1000
						};
						const txs = [grantTx(grant, signNoble(patient.seed, grantMessage(grant)))];
						if (s.revoke) txs.push(revokeGrantTx(patient.id, grant.id, NOW, new Uint8Array(64))); // the fold trusts the rule's signature check
						state = accessFold.apply(state, { id: `b${i}`, txs } as unknown as Block);
					});
					const all = Object.values(state.grants);
					for (const state2 of [state, accessFold.decode(decodeCanonical(encodeCanonical(accessFold.encode(state))))]) {
						expect(state2.byPatient).toEqual(accessState(state.grants, state.epochs).byPatient);
						for (const patient of people) {
							const ids = grantsOf(state2, patient.id).map((g) => g.id);
							expect(ids).toEqual(
								all
									.filter((g) => g.patient === patient.id)
									.map((g) => g.id)
									.sort()
							);
							for (const category of CATEGORIES) {
								expect(sealingReaders(state2, patient.id, category, NOW)).toEqual(readersFor(all, patient.id, category, NOW));
								for (const reader of people)
									expect(mayRead(state2, reader.id, patient.id, category, NOW)).toBe(
										reader.id === patient.id || grantsFor(all, reader.id, patient.id, category, NOW).length > 0
									);
							}
						}
					}
				}
			),
			{ numRuns: 60 }
		);
	});
});
