/**
 * Encounter records as billing and the supply chain check them: a claim line or a dose
 * names a visit as `Encounter/<block id>-<record id>`, and the claims and supply folds ask
 * whether that block holds a `record.put` of category `encounters` under that id before the
 * referring transaction, and whose it is. They read it from the `record-versions` index
 * (`Fold.reads`, rows in the store by record id) instead of each keeping a map of every
 * encounter on the ledger in its state (issue 19: about 40% of both folds' checkpoint).
 */
import type { Block, FoldContext, FoldReads } from '$lib/core/index.js';
import { allRows, claimsOfRow, PATIENT_RECORDS, RECORD_VERSIONS, recordVersionsIndex, type FactReader } from './record-index.js';

/** A visit a claim line or a dose names. */
export interface EncounterRef {
	readonly block: string;
	readonly rid: string;
}

/** The `record-versions` rows a fold reads: under the record ids of the encounters `refsOf` finds in a block. */
export function encounterReads(refsOf: (block: Block) => readonly EncounterRef[]): FoldReads {
	return { index: recordVersionsIndex, keys: (block) => refsOf(block).map((r) => r.rid) };
}

/**
 * The encounter record `ref` names, as of transaction `index` of `block`: its author and
 * patient, from the last `record.put` of category `encounters` with that id in block
 * `ref.block` (in that block's transaction order) that comes before it in the ledger
 * order; null when there is none (no such block, another id or category, or later in the
 * order: a block cannot bill a visit recorded after it).
 */
export function encounterAt(
	context: FoldContext,
	ref: EncounterRef,
	block: Block,
	index: number
): { author: string; patient: string } | null {
	let found: { author: string; patient: string } | null = null;
	for (const row of context.facts(RECORD_VERSIONS, ref.rid)) {
		if (row.block !== ref.block) continue;
		for (const claim of claimsOfRow(row))
			if (claim.rid === ref.rid && claim.category === 'encounters' && (row.block !== block.id || claim.version.index < index))
				found = { author: claim.version.author, patient: claim.patient };
	}
	return found;
}

const PATIENT_KEY = /^[0-9a-f]{64}$/;

/** A visit of a patient a dose or a claim can be linked to. */
export interface PatientEncounter extends EncounterRef {
	readonly time: number;
}

/**
 * A patient's visits, newest first: per block naming the patient, its first `record.put`
 * of category `encounters` (the records layer writes a visit's Encounter resource first),
 * read from the patient's rows of the `patient-records` index. Text that is not a patient
 * key (64 hex: a key half typed into a form) has none, and reads nothing.
 */
export async function encountersOfPatient(ledger: FactReader, patient: string): Promise<PatientEncounter[]> {
	const out: PatientEncounter[] = [];
	if (!PATIENT_KEY.test(patient)) return out;
	for (const row of await allRows(ledger, PATIENT_RECORDS, patient)) {
		const first = claimsOfRow(row).find((c) => c.patient === patient && c.category === 'encounters');
		if (first) out.push({ block: row.block, rid: first.rid, time: first.version.time });
	}
	return out.sort((a, b) => b.time - a.time || a.block.localeCompare(b.block));
}
