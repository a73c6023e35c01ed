import fc from 'fast-check';
import { auditPage } from '$lib/domain/records/audit-index.js';
import { describe, expect, it } from 'vitest';
import { decodeBlock } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto } from '$lib/core/testing/fixtures.js';
import type { Grant, Purpose } from '$lib/domain/privacy/consent.js';
import { CATEGORIES, EnvelopeError } from '$lib/domain/privacy/envelope.js';
import { accessLogTx, accessRequestTx, RecordBook, RecordInputError, recordsView } from '$lib/domain/records/book.js';
import { PatientAccess, readAccess } from '$lib/domain/privacy/access.js';
import { validateResource, type ClinicalResource } from '$lib/domain/records/fhir.js';
import { KeySlots } from '$lib/domain/records/key-index.js';
import { NoAccessError, readersOf } from '$lib/domain/records/keyring.js';
import { readRecord } from '$lib/domain/records/record-index.js';
import {
	bookFor,
	clinics,
	DAY,
	diagnosis,
	grant,
	labResult,
	NOW,
	options,
	patientKey,
	patientResource,
	revoke,
	slotOf
} from './records-support.js';

const contains = (haystack: Uint8Array, needle: string) => Buffer.from(haystack).includes(Buffer.from(needle));
const shown = (chart: Awaited<ReturnType<RecordBook['chart']>>) =>
	chart.records.flatMap((r) => r.versions.filter((v) => v.resource).map((v) => JSON.stringify(v.resource)));

describe('records on the ledger', () => {
	it('a clinic without a grant holds the blocks but not the plaintext; a grant shares the keys; a revocation keeps new data from the revoked reader', async () => {
		const { a, b, A, B } = await clinics();
		const p = patientKey();
		const toA = grant(p, authorOf('clinic-a'), ['demographics', 'labs', 'encounters']);
		await a.append([toA.tx]);
		await A.write(patientResource(p.id), { now: NOW });
		const first = await A.write(labResult(p.id, 'MARKER-first-4411'), { now: NOW });
		await syncInto(b, a);

		// B holds every block, none carries the marker in clear, and B's chart shows nothing.
		for (const stored of await b.store.ordered(null, 1000)) expect(contains(stored.bytes, 'MARKER-first-4411')).toBe(false);
		let chart = await B.chart(p.id, NOW);
		expect(chart.records.map((r) => r.category).sort()).toEqual(['demographics', 'labs']);
		expect(chart.records.every((r) => r.versions.every((v) => v.sealed === 'no-access' && v.resource === null))).toBe(true);
		expect(chart.reads).toEqual([]);
		// And not only the view refuses: B has no wrapped key to open it.
		const firstBytes = (await b.store.get(first.block))!.bytes;
		const firstRecord = (await readRecord(b, first.rid))!;
		const viewB = await B.viewFor([p.id]);
		expect(() => B.keyring.openVersion(viewB, first.rid, firstRecord, firstRecord.versions[0]!, firstBytes)).toThrow(NoAccessError);

		// The patient grants B labs; A (holding the keys) shares them; B reads the lab result, not the demographics.
		const toB = grant(p, authorOf('clinic-b'), ['labs']);
		await a.append([toB.tx]);
		expect(await A.shareKeys(NOW)).toBe(1);
		expect(await A.shareKeys(NOW)).toBe(0); // nothing owed twice
		await syncInto(b, a);
		chart = await B.chart(p.id, NOW);
		expect(shown(chart).join()).toContain('MARKER-first-4411');
		expect(chart.records.find((r) => r.category === 'demographics')!.versions[0]!.sealed).toBe('no-access');
		expect(chart.reads).toEqual([{ patient: p.id, category: 'labs', rid: first.rid, action: 'read', at: NOW }]);

		// Revoked: B's chart hides the category, and data written after it uses a key B never had.
		await a.append([revoke(p, toB.grant.id)]);
		const after = await A.write(labResult(p.id, 'MARKER-after-revoke'), { now: NOW + 10 });
		await syncInto(b, a);
		const newSlot = await slotOf(b, after.rid);
		const view = await B.viewFor([p.id]);
		expect(view.keys.get(newSlot)!.readers[authorOf('clinic-b')]).toBeUndefined();
		expect(B.keyring.dataKey(view, newSlot)).toBeNull();
		expect(shown(await B.chart(p.id, NOW + 10))).toEqual([]);
		// A still reads both.
		expect(shown(await A.chart(p.id, NOW + 10)).join()).toContain('MARKER-after-revoke');
	});

	it('an expired grant gives no key to data written after it, and hides older data', async () => {
		const { a, b, A, B } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['labs']).tx, grant(p, authorOf('clinic-b'), ['labs'], { expires: NOW + DAY }).tx]);
		await A.write(labResult(p.id, 'MARKER-before-expiry'), { now: NOW });
		const late = await A.write(labResult(p.id, 'MARKER-after-expiry'), { now: NOW + 2 * DAY });
		await syncInto(b, a);
		expect(shown(await B.chart(p.id, NOW)).join()).toContain('MARKER-before-expiry');
		expect(B.keyring.dataKey(await B.viewFor([p.id]), await slotOf(b, late.rid))).toBeNull();
		expect(shown(await B.chart(p.id, NOW + 2 * DAY))).toEqual([]);
	});

	it('break-glass: a clinician without a grant records why, receives the keys, reads, and the patient sees it all', async () => {
		const { a, c, A, C } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['labs', 'encounters']).tx]);
		await A.write(labResult(p.id, 'MARKER-emergency'), { now: NOW });
		await syncInto(c, a);
		await expect(C.write(labResult(p.id, 'x'), { now: NOW })).rejects.toBeInstanceOf(NoAccessError);
		await c.append([accessRequestTx('break-glass', p.id, ['labs'], 'Unconscious on arrival, needs recent labs')]);
		await syncInto(a, c);
		expect(await A.shareKeys(NOW + 1000)).toBe(1);
		await syncInto(c, a);
		const chart = await C.chart(p.id, NOW + 1000);
		expect(shown(chart).join()).toContain('MARKER-emergency');
		await c.append([accessLogTx(chart.reads)]);
		await syncInto(a, c);
		const audit = (await auditPage(a, p.id, 1000)).events;
		const kinds = audit.map((e) => `${e.kind}:${e.by === authorOf('clinic-c') || e.subject === authorOf('clinic-c') ? 'C' : '-'}`);
		expect(kinds).toEqual(expect.arrayContaining(['grant:-', 'write:-', 'break-glass:C', 'key-share:C', 'read:C']));
		expect(audit.find((e) => e.kind === 'break-glass')!.detail).toBe('Unconscious on arrival, needs recent labs');
		// The emergency lasts a day: a day later C gets no key to new data.
		const later = await A.write(labResult(p.id, 'later'), { now: NOW + 2 * DAY });
		expect((await A.viewFor([p.id])).keys.get(await slotOf(a, later.rid))!.readers[authorOf('clinic-c')]).toBeUndefined();
	});

	it('a changed ciphertext in a stored block is reported as damaged, never shown', async () => {
		const { a, A } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['labs']).tx]);
		const written = await A.write(labResult(p.id, 'MARKER-tamper'), { now: NOW });
		const record = (await readRecord(a, written.rid))!;
		const version = record.versions[0]!;
		const bytes = (await a.store.get(written.block))!.bytes;
		// Flip one byte in the middle of the ciphertext (the block's signature no longer matches either, but a stored copy can rot).
		const ct = findCiphertext(bytes);
		const viewA = await A.viewFor([p.id]);
		for (const offset of [ct.start, ct.start + 7, ct.end - 1]) {
			const changed = bytes.slice();
			changed[offset]! ^= 0x40;
			expect(() => A.keyring.openVersion(viewA, written.rid, record, version, changed)).toThrow(EnvelopeError);
		}
		expect(new TextDecoder().decode(A.keyring.openVersion(viewA, written.rid, record, version, bytes))).toContain('MARKER-tamper');
	});

	it('amendments append a version to the same record; the chart keeps every version', async () => {
		const { a, A } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['labs']).tx]);
		const first = await A.write(labResult(p.id, 'v1'), { now: NOW });
		await A.write(labResult(p.id, 'v2'), { now: NOW, rid: first.rid, prev: first.block });
		const chart = await A.chart(p.id, NOW);
		expect(chart.records).toHaveLength(1);
		expect(chart.records[0]!.versions.map((v) => (v.resource as { code: { text: string } }).code.text)).toEqual(['v1', 'v2']);
		expect(chart.records[0]!.versions[1]!.prev).toBe(first.block);
		// A record's id commits to its patient and category: an amendment cannot move it, and says so before writing.
		await a.append([grant(p, authorOf('clinic-a'), ['encounters']).tx]);
		const before = a.versionVector();
		await expect(A.sealTxs(diagnosis(p.id, 'I10', 'moved'), { rid: first.rid, prev: first.block })).rejects.toBeInstanceOf(
			RecordInputError
		);
		await expect(A.write(diagnosis(p.id, 'I10', 'moved'), { now: NOW, rid: first.rid, prev: first.block })).rejects.toBeInstanceOf(
			RecordInputError
		);
		expect(a.versionVector()).toEqual(before);
	});

	it('sensitive diagnoses go to their own category, which a general grant does not open', async () => {
		const { a, b, A, B } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['encounters', 'mental-health']).tx, grant(p, authorOf('clinic-b'), ['encounters']).tx]);
		await A.write(diagnosis(p.id, 'J06.9', 'MARKER-cold'), { now: NOW });
		await A.write(diagnosis(p.id, 'F32.1', 'MARKER-depression'), { now: NOW });
		await syncInto(b, a);
		const text = shown(await B.chart(p.id, NOW)).join();
		expect(text).toContain('MARKER-cold');
		expect(text).not.toContain('MARKER-depression');
	});

	it('front desk writes demographics only; a patient cannot write records; research grants give no keys', async () => {
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'desk-a': 'front-desk', pat: 'patient' } });
		const desk = await joinNetwork(a.net, 'desk-a', options);
		await syncInto(desk, a);
		const p = patientKey();
		await desk.append([grant(p, authorOf('desk-a'), ['demographics', 'labs']).tx]);
		const D = bookFor(desk, 'desk-a');
		await D.write(patientResource(p.id), { now: NOW });
		await expect(D.write(labResult(p.id, 'x'), { now: NOW })).rejects.toMatchObject({ code: 'TX_INVALID' });
		const researcher = authorOf('pat');
		await desk.append([grant(p, researcher, ['labs'], { purpose: 'research' }).tx]);
		expect(readersOf(recordsView(desk, KeySlots.none, await readAccess(desk, [p.id])), p.id, 'labs', NOW)).toEqual(
			[authorOf('desk-a'), p.id].sort()
		);
	});

	it('invalid resources are refused with the JSON path of each error, and nothing is written', async () => {
		const { a, A } = await clinics();
		const p = patientKey();
		await a.append([grant(p, authorOf('clinic-a'), ['labs']).tx]);
		const size = a.size;
		const bad = {
			...labResult(p.id, 'x'),
			valueQuantity: { value: 6.1, system: 'http://unitsofmeasure.org' },
			effectiveDateTime: '26/11/2026'
		} as unknown as ClinicalResource;
		const error = await A.write(bad, { now: NOW }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RecordInputError);
		expect((error as RecordInputError).issues.map((i) => i.path).sort()).toEqual(['$.effectiveDateTime', '$.valueQuantity.code']);
		expect(a.size).toBe(size);
		expect(
			validateResource({
				resourceType: 'Observation',
				status: 'final',
				code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
				subject: { reference: `Patient/${p.id}` },
				effectiveDateTime: '2026-11-20',
				valueQuantity: { value: 400, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }
			})
		).toEqual([{ path: '$.valueQuantity.value', message: 'Systolic blood pressure of 400 mm[Hg] is outside 40-300' }]);
	});
});

describe('who receives a data key (property)', () => {
	it('never anyone but the patient, grantees in force with a key-giving purpose and their clinics’ devices, and emergency clinicians of the day', async () => {
		const members = ['m0', 'm1', 'm2', 'm3', 'm4'].map(authorOf);
		const p = patientKey();
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.record({
						grantee: fc.nat(4),
						category: fc.constantFrom(...CATEGORIES),
						purpose: fc.constantFrom<Purpose>('treatment', 'payment', 'operations', 'research'),
						expiresIn: fc.integer({ min: -5, max: 5 }),
						revoked: fc.boolean()
					}),
					{ maxLength: 8 }
				),
				fc.constantFrom(...CATEGORIES),
				async (grants, category) => {
					const granted = {} as Record<string, Grant & { revoked: boolean; block: string }>;
					grants.forEach((g, i) => {
						granted[String(i)] = {
							id: String(i),
							patient: p.id,
							grantee: members[g.grantee]!,
							categories: [g.category],
							purpose: g.purpose,
							expires: NOW + g.expiresIn * DAY,
							issued: NOW - 10 * DAY,
							revoked: g.revoked,
							block: 'b'
						};
					});
					const access = new PatientAccess(new Map([[p.id, Object.values(granted)]]));
					const roster = new Map(members.map((m) => [m, 'clinician'])) as never;
					const view = {
						net: 'n',
						access,
						records: { requests: {}, requestsByPatient: {} },
						keys: KeySlots.none,
						clinics: {},
						roster
					};
					const readers = readersOf(view, p.id, category, NOW);
					const allowed = new Set([
						p.id,
						...grants
							.filter((g) => g.category === category && g.purpose !== 'research' && !g.revoked && g.expiresIn > 0)
							.map((g) => members[g.grantee]!)
					]);
					expect(new Set(readers)).toEqual(allowed);
				}
			),
			{ numRuns: 200 }
		);
	});
});

/** Where the record's ciphertext lies in the block's wire bytes. */
function findCiphertext(bytes: Uint8Array): { start: number; end: number } {
	const ct = decodeBlock(bytes).txs.find((tx) => tx.t === 'record.put')!.ct as Uint8Array;
	const start = Buffer.from(bytes).indexOf(Buffer.from(ct));
	if (start < 0) throw new Error('no ciphertext found');
	return { start, end: start + ct.length };
}
