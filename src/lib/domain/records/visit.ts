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
	// Conditions indexed once by patient and first block, and by the visit their `encounter` names: linear in the chart.
	const conditions: { patient: string; block: string | undefined; ref: string | undefined; code: string | null; at: number }[] = [];
	chart.forEach((other, at) => {
		const condition = currentOf<Condition>(other, 'Condition');
		if (condition)
			conditions.push({
				patient: other.patient,
				block: other.versions[0]?.block,
				ref: condition.encounter?.reference,
				code: icd10Of(condition),
				at
			});
	});
	const byBlock = new Map<string, typeof conditions>();
	const byRef = new Map<string, typeof conditions>();
	const file = (index: Map<string, typeof conditions>, key: string, c: (typeof conditions)[number]) => {
		const list = index.get(key);
		if (list) list.push(c);
		else index.set(key, [c]);
	};
	for (const c of conditions) {
		if (c.block !== undefined) file(byBlock, `${c.patient}/${c.block}`, c);
		if (c.ref !== undefined) file(byRef, `${c.patient}/${c.ref}`, c);
	}
	const visits: Visit[] = [];
	for (const record of chart) {
		const encounter = currentOf<Encounter>(record, 'Encounter');
		const first = record.versions[0];
		if (!encounter || !first) continue;
		const ref = `Encounter/${first.block}-${record.rid}`;
		// Chart order, each condition once (one may match by block and by reference).
		const matched = new Set([...(byBlock.get(`${record.patient}/${first.block}`) ?? []), ...(byRef.get(`${record.patient}/${ref}`) ?? [])]);
		const diagnoses: string[] = [];
		for (const c of [...matched].sort((a, b) => a.at - b.at)) if (c.code && !diagnoses.includes(c.code)) diagnoses.push(c.code);
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
