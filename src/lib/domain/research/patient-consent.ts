/**
 * A patient present with their key card and PIN consents to a study, or withdraws: the
 * use case the Research screen, the headless peer and the tests call the same way. The
 * card is opened, the transactions are signed by the patient's key (consent.ts) and
 * written in ONE block; the patient's key is wiped afterwards whatever happened.
 */
import { describeError, type Block, type Ledger } from '$lib/core/index.js';
import { readAccess } from '../privacy/access.js';
import { CardError, openCard } from '../records/card.js';
import { PatientSession } from '../records/patient.js';
import { consentTxs, withdrawTxs } from './consent.js';
import { ResearchRefusal, studyOn } from './study-writes.js';

/** Consent (or, with `withdraw`, revoke every consent in force) of the card's patient to `studyId`. */
export async function patientStudyConsent(
	ledger: Ledger,
	studyId: string,
	card: { code: string; pin: string },
	withdraw: boolean,
	now: number = Date.now()
): Promise<Block> {
	const study = await studyOn(ledger, studyId);
	let seed: Uint8Array;
	try {
		seed = (await openCard(card.code, card.pin)).seed;
	} catch (error) {
		throw new ResearchRefusal(
			'CARD_UNREADABLE',
			error instanceof CardError ? error.message : `The card could not be opened: ${describeError(error)}`,
			{ cause: error }
		);
	}
	const session = new PatientSession(seed);
	try {
		const txs = withdraw ? withdrawTxs(session, study, await readAccess(ledger, [session.patient]), now) : consentTxs(session, study, now);
		if (txs.length === 0) throw new ResearchRefusal('NO_CONSENT_IN_FORCE', 'This patient has no consent in force for this study.');
		return await ledger.append(txs);
	} finally {
		session.close();
	}
}
