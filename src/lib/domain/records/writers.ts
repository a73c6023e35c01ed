/**
 * Who may write a version of a patient's record of some category, as the chart judges it
 * (book.ts): a member the patient ever gave that category's key to — the grantee of a
 * treatment, payment or operations grant, a device of a granted clinic — or a clinician
 * who recorded an emergency access to it. The ledger's rule lets any clinician write
 * `record.put` for any patient (it cannot see consent), so a version by anyone else is
 * set aside, never the record's current version.
 *
 * Grants count whatever their state now: a revoked or expired grant was in force when its
 * holder wrote, and the ledger does not say when that was, so taking it back must not hide
 * what was written under it. The judgement depends on the set of grants and accesses
 * only, never on the order blocks arrived or sorted in.
 */
import type { Category } from '../privacy/envelope.js';
import type { RecordsView } from './keyring.js';

/** Grant purposes that give keys (research grants give none: studies are answered at the clinic). */
const WRITING_PURPOSES = new Set(['treatment', 'payment', 'operations']);

/** True when `author` (hex member key) may write versions of `patient`'s `category` records. */
export type MayWrite = (patient: string, author: string, category: Category) => boolean;

/** The {@link MayWrite} judge for the ledger state in `view`, made in one pass over its grants (those of the patients it was read for) and accesses. */
export function recordWriters(view: RecordsView): MayWrite {
	const given = new Map<string, Set<string>>();
	const add = (patient: string, category: Category, member: string) => {
		const slot = `${patient}/${category}`;
		let set = given.get(slot);
		if (!set) given.set(slot, (set = new Set()));
		set.add(member);
	};
	for (const g of view.access.all()) if (WRITING_PURPOSES.has(g.purpose)) for (const c of g.categories) add(g.patient, c, g.grantee);
	for (const r of Object.values(view.records.requests)) if (r.kind === 'break-glass') for (const c of r.categories) add(r.patient, c, r.by);
	return (patient, author, category) => {
		const set = given.get(`${patient}/${category}`);
		if (!set) return false;
		const clinic = view.clinics[author];
		return set.has(author) || (clinic !== undefined && set.has(clinic));
	};
}
