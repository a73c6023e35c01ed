/**
 * Writing a checked Bundle import plan (bundle-plan.ts) to the ledger: directory entries,
 * new patients' grants and the sealed records, batched into blocks, in one durable write.
 */
import { CodedError, type Tx } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';
import type { ImportPlan } from './bundle-plan.js';
import type { RecordBook } from './book.js';
import { directoryPutTx } from './directory.js';
import { encodeResource } from './fhir.js';
import { newPatientView, type RecordsView, type SealBatch } from './keyring.js';
import { PatientSession } from './patient.js';
import { readRecords } from './record-index.js';

/** Transactions and bytes per block when records are imported. */
const BLOCK_TXS = 800;
const BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * Imports a checked plan: directory entries, then per new patient a grant to `grantee`
 * for `categories` signed with the patient's new key, then the sealed records (records of
 * patients already on the ledger are sealed for their current readers); all blocks in
 * one durable write. Records in categories not granted are left with the source system
 * (counted by {@link notGranted}). `onProgress(done, total)` runs while sealing.
 */
export async function runImport(
	book: RecordBook,
	plan: ImportPlan,
	options: {
		grantee: string;
		categories: readonly Category[];
		now?: number;
		onProgress?: (done: number, total: number) => void | Promise<void>;
	}
): Promise<{ blocks: number; records: number; directory: number; patients: string[] }> {
	// Code `BUNDLE_INVALID`: the plan's issues say what to fix.
	if (plan.issues.length) throw new CodedError('BUNDLE_INVALID', `the Bundle has ${plan.issues.length} error(s); nothing was imported`);
	const now = options.now ?? Date.now();
	const base = await book.viewFor(plan.patients.map((p) => p.patient));
	// An amendment keeps its record's salt (the id's commitment), read for all of them at once.
	const amended = await readRecords(
		book.ledger,
		plan.patients.flatMap((p) => p.records.filter((r) => r.prev).map((r) => r.rid))
	);
	const batches: Tx[][] = [];
	let block: Tx[] = [];
	let bytes = 0;
	const add = (txs: Tx[]) => {
		const size = txs.reduce(
			(n, t) => n + (t.ct instanceof Uint8Array ? t.ct.length : typeof t.resource === 'string' ? t.resource.length : 200),
			0
		);
		if (block.length && (block.length + txs.length > BLOCK_TXS || bytes + size > BLOCK_BYTES)) {
			batches.push(block);
			block = [];
			bytes = 0;
		}
		block.push(...txs);
		bytes += size;
	};
	for (const resource of plan.directory) add([directoryPutTx(resource as { resourceType: string; id: string })]);
	let records = 0;
	let done = 0;
	for (const p of plan.patients) {
		const session = p.seed ? new PatientSession(p.seed.slice()) : null;
		try {
			let view: RecordsView = base;
			if (session) {
				const { grant, tx } = session.grant({
					grantee: options.grantee,
					categories: options.categories,
					purpose: 'treatment',
					days: 5 * 365,
					now
				});
				view = newPatientView(base, grant);
				add([tx]);
			}
			const seal: SealBatch = new Map();
			for (const record of p.records) {
				if (!options.categories.includes(record.category)) continue;
				const sealed = book.keyring.sealRecordTxs(
					view,
					{
						patient: p.patient,
						category: record.category,
						plaintext: encodeResource(record.resource),
						now,
						rid: record.rid,
						...(record.salt ? { salt: record.salt } : amended.get(record.rid)?.salt ? { salt: amended.get(record.rid)!.salt } : {}),
						...(record.prev ? { prev: record.prev } : {})
					},
					seal
				);
				add(sealed.txs);
				records++;
			}
		} finally {
			session?.close();
		}
		done++;
		if (done % 25 === 0 || done === plan.patients.length) await options.onProgress?.(done, plan.patients.length);
	}
	if (block.length) batches.push(block);
	if (batches.length) await book.ledger.appendBatch(batches);
	return { blocks: batches.length, records, directory: plan.directory.length, patients: plan.patients.map((p) => p.patient) };
}
