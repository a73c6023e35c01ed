/**
 * A synthetic cohort written through the record book, for demonstrations and the
 * end-to-end test: each patient gets a fresh key, grants this clinic treatment access,
 * optionally consents to a study (research grant to its researcher + study.consent),
 * and has synthetic records sealed onto the ledger like any other. Names are marked
 * "Synthetic" so nobody mistakes them for people.
 */
import type { Ledger, Tx } from '$lib/core/index.js';
import type { RecordBook } from '$lib/domain/records/book.js';
import { newPatientKey } from '$lib/domain/records/card.js';
import { categoryOf, type ClinicalResource } from '$lib/domain/records/fhir.js';
import { PatientSession } from '$lib/domain/records/patient.js';
import type { StudyRecord } from '$lib/domain/research/fold.js';
import { seededRng } from './seeded-rng.js';
import { syntheticPatient } from './synthetic-patients.js';

export async function writeSyntheticCohort(
	ledger: Ledger,
	book: RecordBook,
	input: { count: number; consenting: number; study: StudyRecord | null; seed: number; now?: number }
): Promise<{ patients: number; consented: number }> {
	const rng = seededRng(input.seed);
	const clinic = book.keyring.self;
	let consented = 0;
	for (let i = 0; i < input.count; i++) {
		const now = input.now ?? Date.now();
		const { seed, patient } = newPatientKey();
		const session = new PatientSession(seed);
		try {
			// Every category the synthetic records fall in: a depression diagnosis is mental health (records/sensitivity.ts).
			const txs = [
				session.grant({
					grantee: clinic,
					categories: ['demographics', 'encounters', 'labs', 'mental-health'],
					purpose: 'treatment',
					days: 365,
					now
				}).tx
			];
			if (input.study && i < input.consenting) {
				const research = session.grant({
					grantee: input.study.researcher,
					categories: input.study.categories,
					purpose: 'research',
					days: 365,
					now
				});
				txs.push(research.tx, session.studyConsent(input.study.id, research.grant.id));
				consented++;
			}
			await ledger.append(txs);
			const records = syntheticPatient(rng, 12, patient);
			const first = records.resources[0] as { name?: { family?: string; given?: string[] }[] };
			first.name = [{ family: `Synthetic ${i + 1}`, given: ['Test'] }];
			// One record per category first, so the rest reuse the data keys those create.
			const resources = records.resources as ClinicalResource[];
			const seen = new Set<string>();
			const firsts = resources.filter((r) => !seen.has(categoryOf(r)) && seen.add(categoryOf(r)));
			const rest = resources.filter((r) => !firsts.includes(r));
			for (const batch of [firsts, rest]) {
				if (batch.length === 0) continue;
				const txs: Tx[] = [];
				for (const r of batch) txs.push(...(await book.sealTxs(r, { now })).txs);
				await ledger.append(txs);
			}
		} finally {
			session.close();
		}
	}
	return { patients: input.count, consented };
}
