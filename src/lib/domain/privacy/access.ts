/**
 * The access fold: consent as the ledger knows it, in ledger order. Grants (checked
 * patient signatures), their revocations, and per (patient, category) the current key
 * epoch: a revocation moves every category of the grant to a new epoch, so data sealed
 * after it uses a key the revoked reader was never given.
 */
import { decodeCanonical, keyPerTransaction, toHex, type Block, type CborValue, type Fold, type Tx } from '$lib/core/index.js';
import { grantOf, grantsFor, readersFor, type Grant } from './consent.js';
import type { Category } from './envelope.js';
import { idsByPatient, insertSorted } from '../sorted-ids.js';

export interface AccessState {
	/** Grants by id, with whether the patient revoked them. */
	grants: Record<string, Grant & { revoked: boolean; block: string }>;
	/** Current epoch by `${patient}/${category}` (absent: 0). */
	epochs: Record<string, number>;
	/**
	 * Grant ids by patient, each list sorted by id: who may read a patient is looked up
	 * without scanning every grant of the network. Derived from `grants`: rebuilt when a
	 * checkpoint is decoded, never stored in one.
	 */
	byPatient: Record<string, string[]>;
}

/** The access state holding `grants`, with its per-patient index built. */
export function accessState(grants: AccessState['grants'], epochs: AccessState['epochs']): AccessState {
	return { grants, epochs, byPatient: idsByPatient(grants) };
}

/** `patient`'s grants (revoked ones included), by id. */
export function grantsOf(state: AccessState, patient: string): (Grant & { revoked: boolean; block: string })[] {
	return (state.byPatient[patient] ?? []).map((id) => state.grants[id]!);
}

export const epochKey = (patient: string, category: Category) => `${patient}/${category}`;

/** The patient and id a `consent.grant` names, read without checking its signature (the fold checks it); null when it names none. */
function grantNames(tx: Tx): { patient: string; id: string } | null {
	try {
		const v = decodeCanonical(tx.grant as Uint8Array) as Record<string, CborValue>;
		return typeof v.patient === 'string' && typeof v.id === 'string' ? { patient: v.patient, id: v.id } : null;
	} catch {
		return null;
	}
}

/** The patient a consent transaction concerns (the grant's, or the one a revocation names), if any. */
function patientOf(tx: Tx): string | null {
	if (tx.t === 'consent.grant') return grantNames(tx)?.patient ?? null;
	return tx.t === 'consent.revoke' && tx.patient instanceof Uint8Array ? toHex(tx.patient) : null;
}

/** Applies `block`'s consent transactions: all of them, or those of patient `only`. */
function applyConsent(state: AccessState, block: Block, only?: string): void {
	for (const tx of block.txs) {
		if (only !== undefined && patientOf(tx) !== only) continue;
		if (tx.t === 'consent.grant') {
			let grant: Grant;
			try {
				grant = grantOf(tx); // checked by the rule already; never throws for an accepted block
			} catch {
				continue;
			}
			if (state.grants[grant.id]) continue;
			state.grants[grant.id] = { ...grant, revoked: false, block: block.id };
			insertSorted((state.byPatient[grant.patient] ??= []), grant.id);
		} else if (tx.t === 'consent.revoke' && tx.id instanceof Uint8Array && tx.patient instanceof Uint8Array) {
			const grant = state.grants[toHex(tx.id)];
			// Only the grant's own patient can revoke it (the rule checked the signature is by `patient`).
			if (!grant || grant.revoked || grant.patient !== toHex(tx.patient)) continue;
			grant.revoked = true;
			for (const category of grant.categories) {
				const key = epochKey(grant.patient, category);
				state.epochs[key] = (state.epochs[key] ?? 0) + 1;
			}
		}
	}
}

export const accessFold: Fold<AccessState> = {
	name: 'access',
	version: 1,
	init: () => ({ grants: {}, epochs: {}, byPatient: {} }),
	apply(state, block: Block) {
		applyConsent(state, block);
		return state;
	},
	// A patient's grants, revocations and epochs depend on that patient's consent blocks
	// alone (indexed under `access-patients`): a late one re-applies the patient's part, not
	// the whole fold. A grant reusing an id another patient's grant holds (the first in
	// ledger order wins) rewinds instead.
	keyed: keyPerTransaction<AccessState>({
		index: 'access-patients',
		keyOf: patientOf,
		conflict(state, tx, patient) {
			const id = tx.t === 'consent.grant' ? grantNames(tx)?.id : undefined;
			return id !== undefined && Object.hasOwn(state.grants, id) && state.grants[id]!.patient !== patient;
		},
		clear(state, patient) {
			for (const id of state.byPatient[patient] ?? []) delete state.grants[id];
			delete state.byPatient[patient];
			for (const key of Object.keys(state.epochs)) if (key.startsWith(`${patient}/`)) delete state.epochs[key];
		},
		apply: applyConsent
	}),
	encode: (state) => ({ grants: state.grants as unknown as CborValue, epochs: state.epochs }),
	decode: (value) => {
		const v = value as unknown as AccessState;
		return accessState(Object.fromEntries(Object.entries(v.grants).map(([k, g]) => [k, { ...g, categories: [...g.categories] }])), {
			...v.epochs
		});
	}
};

/** The epoch new data of `patient`'s `category` is sealed under. */
export function currentEpoch(state: AccessState, patient: string, category: Category): number {
	return state.epochs[epochKey(patient, category)] ?? 0;
}

/** Who receives the data key when a record of `patient`'s `category` is sealed at `now`. */
export function sealingReaders(state: AccessState, patient: string, category: Category, now: number): string[] {
	return readersFor(grantsOf(state, patient), patient, category, now);
}

/** True when `reader` may read `patient`'s `category` at `now` (the patient always may). */
export function mayRead(state: AccessState, reader: string, patient: string, category: Category, now: number): boolean {
	return reader === patient || grantsFor(grantsOf(state, patient), reader, patient, category, now).length > 0;
}

/** Each patient's consent blocks (grants and revocations): the access fold re-applies a patient's part from them after a late block. */
export const accessPatientsIndex = accessFold.keyed!.index;
