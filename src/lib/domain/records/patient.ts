/**
 * A patient present with their key (card + PIN, or the patient's own device): signs
 * grants and revocations, and opens the patient's own records. The seed lives only in
 * this object and is wiped by {@link PatientSession.close}.
 */
import { publicKeyOf, signNoble, toHex, type Tx } from '$lib/core/index.js';
import { grantMessage, grantTx, revokeGrantTx, revokeMessage, type Grant, type Purpose } from '../privacy/consent.js';
import { encryptionSecretKey, type Category } from '../privacy/envelope.js';
import { Keyring } from './keyring.js';
import { studyConsentMessage, studyConsentTx } from '../privacy/study-consent.js';

const DAY = 86_400_000;
export const MAX_GRANT_DAYS = 5 * 365;

export class PatientSession {
	readonly patient: string;
	readonly keyring: Keyring;
	readonly #seed: Uint8Array;

	constructor(seed: Uint8Array) {
		this.#seed = seed;
		this.patient = toHex(publicKeyOf(seed));
		this.keyring = new Keyring(this.patient, encryptionSecretKey(seed));
	}

	/** A `consent.grant` signed by this patient. */
	grant(input: { grantee: string; categories: readonly Category[]; purpose: Purpose; days: number; now?: number; request?: string }): {
		grant: Grant;
		tx: Tx;
	} {
		if (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_GRANT_DAYS)
			throw new RangeError(`A grant lasts 1 to ${MAX_GRANT_DAYS} days.`);
		if (input.categories.length === 0) throw new RangeError('Choose at least one category.');
		const now = input.now ?? Date.now();
		const grant: Grant = {
			id: toHex(crypto.getRandomValues(new Uint8Array(16))),
			patient: this.patient,
			grantee: input.grantee,
			categories: [...input.categories].sort(),
			purpose: input.purpose,
			expires: now + input.days * DAY,
			issued: now,
			...(input.request ? { request: input.request } : {})
		};
		return { grant, tx: grantTx(grant, signNoble(this.#seed, grantMessage(grant))) };
	}

	/** A `consent.revoke` of grant `id` signed by this patient. */
	revoke(id: string, now = Date.now()): Tx {
		return revokeGrantTx(this.patient, id, now, signNoble(this.#seed, revokeMessage(this.patient, id, now)));
	}

	/** A `study.consent` putting this patient's research grant `grant` towards study `study` (research/study.ts). */
	studyConsent(study: string, grant: string): Tx {
		return studyConsentTx(study, grant, this.patient, signNoble(this.#seed, studyConsentMessage(study, grant, this.patient)));
	}

	close(): void {
		this.keyring.clear();
		this.#seed.fill(0);
	}
}
