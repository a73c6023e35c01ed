// The read log (state/records/read-log.svelte.ts) writes every read once, whoever asks it to
// flush and however many ask at once (the 10-second timer, and a patient opening their own
// view), keeps what a failed write could not put on the ledger, and writes the rest later.
import { describe, expect, it } from 'vitest';
import { toHex, type Tx } from '$lib/core/index.js';
import { foundNetwork } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import type { ReadEvent } from '$lib/domain/records/book.js';
import { ReadLog } from '$lib/state/records/read-log.svelte.js';
import { patientKey } from '../support/patients.js';

const PATIENT = patientKey().id;
const reads = (n: number, from = 0): ReadEvent[] =>
	Array.from({ length: n }, (_, i) => ({
		patient: PATIENT,
		category: 'labs',
		rid: (from + i).toString(16).padStart(32, '0'),
		action: 'read',
		at: 1_700_000_000_000 + from + i
	}));

async function scene() {
	const ledger = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, founder: 'clinic-a' });
	const written: Tx[] = [];
	const failures = { left: 0 };
	const append = ledger.append.bind(ledger);
	ledger.append = (async (txs: Tx[]) => {
		if (failures.left > 0) {
			failures.left--;
			throw new Error('disk full');
		}
		const result = await append(txs);
		written.push(...txs);
		return result;
	}) as typeof ledger.append;
	const log = new ReadLog();
	await log.attach(ledger);
	/** The rids written so far, in ledger order of their blocks. */
	const rids = () =>
		written.flatMap((tx) => (tx.t === 'access.log' ? (tx.entries as { rid?: Uint8Array }[]).map((e) => (e.rid ? toHex(e.rid) : '')) : []));
	return { ledger, log, rids, failures };
}

describe('ReadLog', () => {
	it('writes each read once when flushes are asked for at the same time, 500 to a block', async () => {
		const { log, rids, ledger } = await scene();
		const before = ledger.size;
		log.log(reads(1_200));
		expect(log.pending).toBe(1_200);
		await Promise.all([log.flush(), log.flush(), log.flush()]);
		expect(rids()).toEqual(reads(1_200).map((r) => r.rid));
		expect(ledger.size - before).toBe(3);
		expect(log.pending).toBe(0);
		// Reads logged while a flush is under way are written by the flush asked for after them.
		const first = log.flush();
		log.log(reads(10, 5_000));
		await Promise.all([first, log.flush()]);
		expect(rids().slice(1_200)).toEqual(reads(10, 5_000).map((r) => r.rid));
		log.detach();
	});

	it('keeps the reads a failed write could not put on the ledger, and writes them at the next flush', async () => {
		const { log, rids, failures } = await scene();
		log.log(reads(700));
		failures.left = 1;
		await log.flush();
		expect(rids()).toEqual([]);
		expect(log.pending).toBe(700);
		await log.flush();
		expect(rids()).toEqual(reads(700).map((r) => r.rid));
		expect(log.pending).toBe(0);
		log.detach();
	});
});
