/**
 * Where a clinic node's answers come from: the record book (records/book.ts). Only the
 * study's consented patients are opened, and of their records only the categories the
 * study asked for; the current version of each record is used. The reads are returned
 * so the node logs them on the ledger (access.log), like any other read.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { RecordBook, ReadEvent } from '../records/book.js';
import type { Category } from '../privacy/envelope.js';
import type { PatientRecords } from './facts.js';

export async function readablePatients(
	book: RecordBook,
	patients: Iterable<string>,
	categories: readonly Category[],
	now: number
): Promise<{ patients: PatientRecords[]; reads: ReadEvent[] }> {
	const out: PatientRecords[] = [];
	const reads: ReadEvent[] = [];
	for (const patient of patients) {
		const chart = await book.chart(patient, now);
		const resources: Resource[] = [];
		for (const record of chart.records) {
			if (!categories.includes(record.category)) continue;
			const current = record.versions.at(-1);
			if (current?.resource) resources.push(current.resource);
		}
		if (resources.length === 0) continue;
		out.push({ patient, resources });
		reads.push(...chart.reads.filter((r) => categories.includes(r.category)));
	}
	return { patients: out, reads };
}
