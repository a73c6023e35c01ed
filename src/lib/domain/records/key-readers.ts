/**
 * Who receives a data key, decided from ledger state only: the patient, members with a
 * grant in force for that category (treatment, payment, operations; research grants give
 * no keys: studies are answered at the clinic), the devices of a granted clinic, and
 * clinicians who recorded an emergency access. A revoked member never does. The keyring
 * (keyring.ts) seals and shares keys for these readers.
 */
import { fromHex, type CborValue, type Roster } from '$lib/core/index.js';
import { grantsFor, type Grant } from '../privacy/consent.js';
import { grantsOf, PatientAccess } from '../privacy/access.js';
import type { Category } from '../privacy/envelope.js';
import type { MemberClinics } from '../members.js';
import { requestsOf, type RecordsState } from './fold.js';
import { KeySlots, type KeyEntry } from './key-index.js';

/** Ledger state a keyring decision needs. */
export interface RecordsView {
	readonly net: string;
	/** The consent of the patients the decision is about, read from the store (privacy/access.ts). */
	readonly access: PatientAccess;
	readonly records: RecordsState;
	/** The wrapped keys of the patients the decision is about, read from the store (key-index.ts). */
	readonly keys: KeySlots;
	readonly clinics: MemberClinics;
	readonly roster: Roster;
}

/**
 * Readers of a key who hold a wrap that counts: one written by this node, or by a member
 * the patient lets read this category now. A wrap by anyone else may be bogus (nobody but
 * its reader can tell), so it never stops a holder from sharing the genuine key.
 */
export function servedReaders(entry: KeyEntry, self: string, readers: readonly string[]): Set<string> {
	const trusted = new Set([self, ...readers]);
	return new Set(
		Object.entries(entry.readers)
			.filter(([, wraps]) => wraps.some((w) => trusted.has(w.by)))
			.map(([reader]) => reader)
	);
}

/**
 * The view for sealing the first records of a patient key made just now (an import): the
 * only grant is the one being written with them, and no key of that patient exists yet.
 * Built in constant time, so an import of n patients does not scan every grant n times.
 */
export function newPatientView(view: RecordsView, grant: Grant): RecordsView {
	return {
		...view,
		access: PatientAccess.ofNewGrant(grant),
		keys: new KeySlots([grant.patient])
	};
}

const KEY_PURPOSES = new Set(['treatment', 'payment', 'operations']);
/** How long an emergency access lets its clinician receive keys of new data (from its block's time). */
export const BREAK_GLASS_MS = 24 * 60 * 60 * 1000;

function emergencies(view: RecordsView, patient: string, category: Category, now: number) {
	return requestsOf(view.records, patient).filter(
		([, r]) => r.kind === 'break-glass' && r.categories.includes(category) && now < r.at + BREAK_GLASS_MS
	);
}

/**
 * Readers of `patient`'s `category` at `now`: the patient, members with a key-giving
 * grant in force, every device of a granted clinic, and clinicians who broke the glass
 * for it in the last {@link BREAK_GLASS_MS}. Members no longer on the roster are left out.
 */
export function readersOf(view: RecordsView, patient: string, category: Category, now: number): string[] {
	const granted = new Set<string>();
	for (const g of grantsOf(view.access, patient)) {
		if (g.revoked || !g.categories.includes(category) || now >= g.expires || !KEY_PURPOSES.has(g.purpose)) continue;
		granted.add(g.grantee);
	}
	for (const [, r] of emergencies(view, patient, category, now)) granted.add(r.by);
	const readers = new Set<string>([patient]);
	for (const member of granted) if (view.roster.has(member as never)) readers.add(member);
	for (const [device, clinic] of Object.entries(view.clinics))
		if (granted.has(clinic) && view.roster.has(device as never)) readers.add(device);
	return [...readers].sort();
}

/** Why `reader` may read `patient`'s `category` now, or null: the patient, a grant in force (own or its clinic's), or an emergency access. */
export function accessBasis(
	view: RecordsView,
	reader: string,
	patient: string,
	category: Category,
	now: number
): 'patient' | 'grant' | 'emergency' | null {
	if (reader === patient) return 'patient';
	if (!view.roster.has(reader as never)) return null;
	const grants = grantsOf(view.access, patient).filter((g) => KEY_PURPOSES.has(g.purpose));
	const clinic = view.clinics[reader];
	if (
		grantsFor(grants, reader, patient, category, now).length > 0 ||
		(clinic && grantsFor(grants, clinic, patient, category, now).length > 0)
	)
		return 'grant';
	if (emergencies(view, patient, category, now).some(([, r]) => r.by === reader)) return 'emergency';
	return null;
}

/** What a `key.wrap` sharing a key with `missing` readers cites: the grant in force, or the emergency access. */
export function reasonFor(
	view: RecordsView,
	entry: Pick<KeyEntry, 'patient' | 'category'>,
	missing: string[],
	now: number
): Record<string, CborValue> {
	const grant = grantsOf(view.access, entry.patient).find(
		(g) => !g.revoked && now < g.expires && (missing.includes(g.grantee) || missing.some((m) => view.clinics[m] === g.grantee))
	);
	if (grant) return { grant: fromHex(grant.id) };
	const emergency = emergencies(view, entry.patient, entry.category, now).find(([, r]) => missing.includes(r.by));
	return emergency ? { breakglass: fromHex(emergency[0]) } : {};
}
