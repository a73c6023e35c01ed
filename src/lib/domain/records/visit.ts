/**
 * A visit as the workflows from a chart see it: the Encounter record, where it is on the
 * ledger (the block of its first version and its record id, which is how claims and
 * doses point at it) and the Conditions diagnosed at it.
 */
import type { Condition, Encounter } from '@medplum/fhirtypes';
import type { RecordView } from './book.js';

export interface Visit {
	readonly patient: string;
	/** Block of the `record.put` that first wrote the Encounter. */
	readonly block: string;
	/** The Encounter's record id (hex). */
	readonly rid: string;
	/** When it began (`period.start`, ISO), or null when the Encounter does not say. */
	readonly start: string | null;
	readonly reason: string | null;
	/** ICD-10 codes of the visit's Conditions, in chart order, each once. */
	readonly diagnoses: readonly string[];
}

const ICD10_SYSTEM_SUFFIX = 'icd-10';

function currentOf<T>(record: RecordView, type: string): T | null {
	const resource = record.versions.at(-1)?.resource;
	return resource && resource.resourceType === type ? (resource as T) : null;
}

/** The ICD-10 code of a Condition (the first coding from an ICD-10 system, else the first code). */
function icd10Of(condition: Condition): string | null {
	const codings = condition.code?.coding ?? [];
	const coding = codings.find((c) => c.system?.toLowerCase().includes(ICD10_SYSTEM_SUFFIX) && c.code) ?? codings.find((c) => c.code);
	return coding?.code?.trim().toUpperCase() || null;
}

/**
 * The visits in a chart, newest first. A Condition belongs to a visit when it was written
 * in the same block as the Encounter (the encounter form writes them together) or when
 * its `encounter` reference names the visit.
 */
export function visitsOf(chart: readonly RecordView[]): Visit[] {
	const visits: Visit[] = [];
	for (const record of chart) {
		const encounter = currentOf<Encounter>(record, 'Encounter');
		const first = record.versions[0];
		if (!encounter || !first) continue;
		const ref = `Encounter/${first.block}-${record.rid}`;
		const diagnoses: string[] = [];
		for (const other of chart) {
			const condition = currentOf<Condition>(other, 'Condition');
			if (!condition || other.patient !== record.patient) continue;
			if (other.versions[0]?.block !== first.block && condition.encounter?.reference !== ref) continue;
			const code = icd10Of(condition);
			if (code && !diagnoses.includes(code)) diagnoses.push(code);
		}
		visits.push({
			patient: record.patient,
			block: first.block,
			rid: record.rid,
			start: encounter.period?.start ?? null,
			reason: encounter.reasonCode?.[0]?.text ?? null,
			diagnoses
		});
	}
	return visits.sort(
		(a, b) => (b.start ?? '').localeCompare(a.start ?? '') || a.block.localeCompare(b.block) || a.rid.localeCompare(b.rid)
	);
}
