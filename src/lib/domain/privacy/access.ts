/**
 * Consent as the ledger knows it, kept in the store by patient (core index-fold.ts), not
 * in memory (issue 19, item 3): grants (checked patient signatures), their revocations,
 * and per (patient, category) the current key epoch: a revocation moves every category of
 * the grant to a new epoch, so data sealed after it uses a key the revoked reader was
 * never given.
 *
 * Each consent transaction is one row under its patient, in ledger order whatever order
 * the blocks arrived in. A patient's access is the fold of the patient's rows, made when
 * read ({@link readAccess}): a late consent block inserts its rows in place, with no
 * rewind and no checkpoint, and a node holds the access of the patients a decision is
 * about, never the network's (tests/unit/domain/privacy/access-index.test.ts compares it,
 * over random ledgers in every arrival order, with a fold of the whole ledger in order).
 *
 * - A grant is its patient's: an id counts once per patient, for the patient's first grant
 *   in ledger order naming it. The in-memory fold this replaced kept one grant per id across
 *   the network, so a grant another patient key signed with a patient's grant id, in a block
 *   ordered before it (a block's clock follows the parents its author picks), took that
 *   patient's grant away on every node. Nothing reads a grant by id alone: revocations,
 *   key-share reasons and study consents name the patient too.
 * - A revocation counts when it names a grant of its own patient that counts, is not yet
 *   revoked, and comes after it in ledger order.
 */
import { CodedError, toHex, type Block, type CborValue, type Fact, type FactRow, type IndexFold, type Ledger } from '$lib/core/index.js';
import { grantOf, grantsFor, readersFor, type Grant, type Purpose } from './consent.js';
import type { Category } from './envelope.js';

/** A grant as the ledger holds it: whether its patient revoked it, and the block that made it. */
export type HeldGrant = Grant & { revoked: boolean; block: string };

export const CONSENTS = 'consents';

/** A patient row: a grant (its tx index and fields), or a revocation (its tx index and the id it names). */
type GrantRow = ['g', number, string, string, Category[], Purpose, number, number, string | null];
type RevokeRow = ['r', number, string];

export const consentsIndex: IndexFold = {
	name: CONSENTS,
	version: 1,
	facts(block: Block): Fact[] {
		const out: Fact[] = [];
		block.txs.forEach((tx, n) => {
			if (tx.t === 'consent.grant') {
				let g: Grant;
				try {
					g = grantOf(tx); // checked by the rule already; a grant that does not parse counts for nothing
				} catch {
					return;
				}
				const row: GrantRow = ['g', n, g.id, g.grantee, [...g.categories], g.purpose, g.expires, g.issued, g.request ?? null];
				out.push([g.patient, row as CborValue]);
			} else if (tx.t === 'consent.revoke' && tx.id instanceof Uint8Array && tx.patient instanceof Uint8Array) {
				// Only the grant's own patient can revoke it: the rule checked the signature is by `patient`.
				out.push([toHex(tx.patient), ['r', n, toHex(tx.id)] satisfies RevokeRow]);
			}
		});
		return out;
	}
};

export const epochKey = (patient: string, category: Category) => `${patient}/${category}`;

/**
 * The access of some patients, read from the store: it answers for those patients only,
 * and throws for any other, so a grant is never taken as absent because it was not read.
 */
export class PatientAccess {
	readonly #grants: ReadonlyMap<string, readonly HeldGrant[]>;
	readonly #epochs: ReadonlyMap<string, number>;

	constructor(grants: ReadonlyMap<string, readonly HeldGrant[]>, epochs: ReadonlyMap<string, number> = new Map()) {
		this.#grants = grants;
		this.#epochs = epochs;
	}

	/** Access read for no patient: the view of a decision about none. */
	static readonly none = new PatientAccess(new Map());

	/** The access of the patient of `grant` made just now: that grant alone, nothing revoked (an import, a registration). */
	static ofNewGrant(grant: Grant): PatientAccess {
		return new PatientAccess(new Map([[grant.patient, [{ ...grant, revoked: false, block: '' }]]]));
	}

	#check(patient: string): readonly HeldGrant[] {
		const grants = this.#grants.get(patient);
		if (!grants) throw new CodedError('ACCESS_NOT_READ', `the consent of patient ${patient.slice(0, 12)} was not read for this decision`);
		return grants;
	}

	/** `patient`'s grants (revoked ones included), sorted by id. */
	grantsOf(patient: string): readonly HeldGrant[] {
		return this.#check(patient);
	}

	/** The epoch new data of `patient`'s `category` is sealed under. */
	epoch(patient: string, category: Category): number {
		this.#check(patient);
		return this.#epochs.get(epochKey(patient, category)) ?? 0;
	}

	/** Whether `patient`'s consent was read. */
	has(patient: string): boolean {
		return this.#grants.has(patient);
	}

	/** The patients read. */
	patients(): IterableIterator<string> {
		return this.#grants.keys();
	}

	/** Every grant read, of every patient read. */
	*all(): Generator<HeldGrant> {
		for (const grants of this.#grants.values()) yield* grants;
	}
}

/** What {@link readAccess} needs of a ledger. */
export type ConsentReader = Pick<Ledger, 'factsOfKeys'>;

/** Patients whose rows are read together in one store read. */
const PATIENTS_PER_READ = 2000;

/** The access of `patients`, folded from their rows when read, 2,000 patients to a store read. */
export async function readAccess(ledger: ConsentReader, patients: Iterable<string>): Promise<PatientAccess> {
	const list = [...new Set(patients)];
	const grants = new Map<string, HeldGrant[]>();
	const epochs = new Map<string, number>();
	for (let i = 0; i < list.length; i += PATIENTS_PER_READ) {
		const chunk = list.slice(i, i + PATIENTS_PER_READ);
		const rows = await ledger.factsOfKeys(CONSENTS, chunk);
		chunk.forEach((patient, n) => grants.set(patient, foldPatient(patient, rows[n]!, epochs)));
	}
	return new PatientAccess(grants, epochs);
}

/** `patient`'s grants from its rows in ledger order; adds its epochs to `epochs`. */
function foldPatient(patient: string, rows: readonly FactRow[], epochs: Map<string, number>): HeldGrant[] {
	const held = new Map<string, HeldGrant>();
	for (const row of rows) {
		const value = row.value as GrantRow | RevokeRow;
		if (value[0] === 'g') {
			const [, , id, grantee, categories, purpose, expires, issued, request] = value;
			if (held.has(id)) continue; // the patient's first grant under an id counts
			held.set(id, {
				id,
				patient,
				grantee,
				categories: [...categories],
				purpose,
				expires,
				issued,
				...(request !== null ? { request } : {}),
				revoked: false,
				block: row.block
			});
		} else {
			const grant = held.get(value[2]);
			if (!grant || grant.revoked) continue;
			grant.revoked = true;
			for (const category of grant.categories) {
				const key = epochKey(patient, category);
				epochs.set(key, (epochs.get(key) ?? 0) + 1);
			}
		}
	}
	return [...held.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `patient`'s grants (revoked ones included), sorted by id. */
export const grantsOf = (access: PatientAccess, patient: string): readonly HeldGrant[] => access.grantsOf(patient);

/** The epoch new data of `patient`'s `category` is sealed under. */
export const currentEpoch = (access: PatientAccess, patient: string, category: Category): number => access.epoch(patient, category);

/** Who receives the data key when a record of `patient`'s `category` is sealed at `now`. */
export function sealingReaders(access: PatientAccess, patient: string, category: Category, now: number): string[] {
	return readersFor(access.grantsOf(patient), patient, category, now);
}

/** True when `reader` may read `patient`'s `category` at `now` (the patient always may). */
export function mayRead(access: PatientAccess, reader: string, patient: string, category: Category, now: number): boolean {
	return reader === patient || grantsFor(access.grantsOf(patient), reader, patient, category, now).length > 0;
}
