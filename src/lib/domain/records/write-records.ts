/**
 * Writing a patient's records: an encounter and what was recorded in it, or an amendment
 * of one record. Every resource is checked and sealed first; all of them go into ONE
 * block, so a refused resource (or a refused append) leaves nothing on the ledger.
 */
import type { BlockId } from '$lib/core/index.js';
import { RecordInputError, type RecordBook } from './book.js';
import type { ClinicalResource, FhirIssue } from './fhir.js';

/** The record a new version amends: its id and the block of its current version. */
export interface Amendment {
	readonly rid: string;
	readonly prev: string;
}

/**
 * Seals `resources` (each a new record, or with `amend` a new version of that record) and
 * appends them in one block. Throws {@link RecordInputError} listing every problem, each
 * path prefixed by the resource's place in the list (`$[1] Observation.value`), a
 * `NoAccessError` when this node may not write a category, or the ledger's refusal.
 */
export async function writeRecords(book: RecordBook, resources: readonly ClinicalResource[], amend?: Amendment): Promise<BlockId> {
	const txs = [];
	const issues: FhirIssue[] = [];
	for (const [i, resource] of resources.entries()) {
		try {
			txs.push(...(await book.sealTxs(resource, amend ? { rid: amend.rid, prev: amend.prev } : {})).txs);
		} catch (error) {
			if (!(error instanceof RecordInputError)) throw error;
			issues.push(...error.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^\$/, `$[${i}] ${resource.resourceType}`) })));
		}
	}
	if (issues.length) throw new RecordInputError(issues);
	return (await book.ledger.append(txs)).id;
}
