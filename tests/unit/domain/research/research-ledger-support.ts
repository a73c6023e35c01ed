/** Shared fixtures of the research ledger tests: a study, two clinics and a researcher on one network, synthetic patients and their study consents. */
import { generateSecretKey, publicKeyOf, toHex, type Ledger, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { allAccess } from '../../support/access.js';
import { grantMessage, grantTx, type Grant } from '$lib/domain/privacy/consent.js';
import { encryptionSecretKey, unwrapKey, type Category } from '$lib/domain/privacy/envelope.js';
import type { StudyInput } from '$lib/domain/research/study.js';
import { studyConsentMessage, studyConsentTx } from '$lib/domain/privacy/study-consent.js';
import { readResearch } from '$lib/domain/research/pages.js';
import { seededRng } from '$lib/demo/seeded-rng.js';
import { syntheticPatient } from '$lib/demo/synthetic-patients.js';
import type { PatientRecords } from '$lib/domain/research/facts.js';

export const T0 = 1_700_000_000_000; // fixtures' fixed clock
export const DAY = 86_400_000;
export const study = (over: Partial<StudyInput> = {}): StudyInput => ({
	title: 'HbA1c in the community',
	protocol: 'Retrospective cohort of adults with diabetes.',
	ethics: 'IRB-2026-014',
	categories: ['labs', 'encounters'],
	criteria: 'Adults with a diabetes diagnosis',
	ends: T0 + 365 * DAY,
	budget: 0,
	k: 5,
	rows: false,
	...over
});
export const idOf = (tx: Tx) => toHex(tx.id as Uint8Array);
/** The studies and queries on `l`, read from the research fold's pages. */
export const researchOf = (l: Ledger) => readResearch(l);
export const accessOf = (l: Ledger) => allAccess(l);
/** What a node's keyring does for `label`: open keys wrapped for it. */
export const unwrapAs = (label: string) => (wrap: Parameters<typeof unwrapKey>[0], context: Parameters<typeof unwrapKey>[3]) =>
	unwrapKey(wrap, authorOf(label), encryptionSecretKey(testSecret(label)), context);

export async function sync(...ledgers: Ledger[]) {
	for (let round = 0; round < 2; round++) for (const a of ledgers) for (const b of ledgers) if (a !== b) await syncInto(a, b);
}

/** Two clinics (each an admin node), a researcher, on one network. */
export async function network() {
	const clinicA = await foundNetwork({
		rules: APP_RULES,
		folds: APP_FOLDS,
		indexes: APP_INDEXES,
		founder: 'clinic-a',
		members: { 'clinic-b': 'admin', researcher: 'researcher', payer: 'payer' }
	});
	const clinicB = await joinNetwork(clinicA.net, 'clinic-b', { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES });
	const researcher = await joinNetwork(clinicA.net, 'researcher', { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES });
	await sync(clinicA, clinicB, researcher);
	return { clinicA, clinicB, researcher };
}

export interface TestPatient {
	seed: Uint8Array;
	id: string;
	records: PatientRecords;
}
export function patient(rng: ReturnType<typeof seededRng>): TestPatient {
	const seed = generateSecretKey();
	const id = toHex(publicKeyOf(seed));
	const r = syntheticPatient(rng, 20);
	return { seed, id, records: { patient: id, resources: r.resources } };
}

/** The patient grants research use to `grantee` and links the grant to `studyId`; the txs a clinic writes for them. */
export function consent(
	p: TestPatient,
	grantee: string,
	studyId: string,
	categories: Category[] = ['labs', 'encounters']
): { grant: Grant; txs: Tx[] } {
	const grant: Grant = {
		id: toHex(crypto.getRandomValues(new Uint8Array(16))),
		patient: p.id,
		grantee,
		categories,
		purpose: 'research',
		expires: T0 + 300 * DAY,
		issued: T0
	};
	return {
		grant,
		txs: [
			grantTx(grant, signNoble(p.seed, grantMessage(grant))),
			studyConsentTx(studyId, grant.id, p.id, signNoble(p.seed, studyConsentMessage(studyId, grant.id, p.id)))
		]
	};
}
