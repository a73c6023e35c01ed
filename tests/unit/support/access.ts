/** Consent as a ledger holds it (privacy/access.ts), read for every patient with a consent row: for tests that compare nodes or look at all of it. */
import type { Ledger } from '$lib/core/index.js';
import { CONSENTS, readAccess, type PatientAccess } from '$lib/domain/privacy/access.js';
import { CATEGORIES } from '$lib/domain/privacy/envelope.js';

/** The access of every patient with a consent row on `ledger`. */
export async function allAccess(ledger: Pick<Ledger, 'factKeys' | 'factsOfKeys'>): Promise<PatientAccess> {
	const patients: string[] = [];
	let after: string | null = null;
	for (;;) {
		const keys: string[] = await ledger.factKeys(CONSENTS, after, 500);
		patients.push(...keys);
		if (keys.length < 500) return readAccess(ledger, patients);
		after = keys.at(-1)!;
	}
}

/** Every patient's grants and epochs on `ledger`, as plain data (to compare nodes). */
export async function accessSnapshot(ledger: Pick<Ledger, 'factKeys' | 'factsOfKeys'>) {
	const access = await allAccess(ledger);
	return Object.fromEntries(
		[...access.patients()].sort().map((p) => [p, { grants: access.grantsOf(p), epochs: CATEGORIES.map((c) => access.epoch(p, c)) }])
	);
}
