/**
 * Seeded synthetic claims data for tests and benchmarks: one payer on the sample policy,
 * clinics writing encounter records and billing them, patients with coverage, payments
 * and remittances; optionally one instance of every fraud pattern. Blocks are built as
 * decoded `Block` objects in total order (clock, id), unsigned: they feed folds directly.
 * Each block depends on the one before it, except those written concurrently with it
 * (same clock), which depend on what that one depended on.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, type AuthorId, type Block, type BlockId, type Tx } from '../../src/lib/core/index.js';
import { prng } from '../../src/lib/core/testing/prng.js';
import { claimResource, type ClaimForm } from '../../src/lib/domain/contracts/claim.js';
import { dateOfDay, dayOf } from '../../src/lib/domain/contracts/dates.js';
import { samplePolicy } from '../../src/lib/domain/contracts/sample.js';

const DAY_MS = 86_400_000;
const te = new TextEncoder();
const keyOf = (label: string) => sha256(te.encode(`clinic-ledger/synthetic/${label}`));
const hexOf = (label: string) => toHex(keyOf(label));

export interface SyntheticOptions {
	readonly seed?: number;
	readonly clinics?: number;
	readonly patients?: number;
	readonly claims?: number;
	readonly linesPerClaim?: number;
	/** Add one instance of each fraud pattern. */
	readonly fraud?: boolean;
	/** Pad with note blocks up to this many blocks in all. */
	readonly totalBlocks?: number;
}

export interface SyntheticData {
	readonly blocks: Block[];
	readonly payer: string;
	readonly clinics: string[];
	readonly patients: string[];
	/** What the fraud patterns were seeded as, by kind: the claim ids (or clinic key) expected to be flagged. */
	readonly seeded: Record<string, string[]>;
}

/** Visit levels 99211-99215: the shares every clean clinic draws from. */
const VISIT_MIX: readonly [string, number][] = [
	['99211', 0.05],
	['99212', 0.2],
	['99213', 0.45],
	['99214', 0.25],
	['99215', 0.05]
];
const EXTRA_CODES = ['36415', '85025', '71046', '93000', '90471', '80053'];

/** Seeded synthetic claims blocks, in fold order. */
export function syntheticClaims(options: SyntheticOptions = {}): SyntheticData {
	const random = prng(options.seed ?? 1);
	const clinicCount = options.clinics ?? 4;
	const patientCount = options.patients ?? 40;
	const claimCount = options.claims ?? 200;
	const linesPerClaim = Math.min(options.linesPerClaim ?? 5, 1 + EXTRA_CODES.length);
	const payer = hexOf('payer');
	const clinics = Array.from({ length: clinicCount }, (_, i) => hexOf(`clinic-${i}`));
	const patients = Array.from({ length: patientCount }, (_, i) => hexOf(`patient-${i}`));
	const blocks: Block[] = [];
	const seqs = new Map<string, number>();
	let clock = 0;
	const start = dayOf('2025-01-06')!;
	let deps: BlockId[] = [];
	let lastId: BlockId | null = null;
	const push = (author: string, day: number, txs: Tx[], sameClock = false) => {
		if (!sameClock) {
			clock++;
			deps = lastId ? [lastId] : [];
		}
		const seq = seqs.get(author) ?? 0;
		seqs.set(author, seq + 1);
		const id = toHex(sha256(te.encode(`${author}/${seq}/${clock}`))) as BlockId;
		const block: Block = {
			id,
			net: '00'.repeat(32) as BlockId,
			author: author as AuthorId,
			seq,
			prev: null,
			deps,
			clock,
			time: day * DAY_MS + 3_600_000,
			txs,
			body: new Uint8Array(),
			signature: new Uint8Array(),
			bytes: new Uint8Array()
		};
		blocks.push(block);
		lastId = id;
		return block;
	};
	const seeded: Record<string, string[]> = {};
	const seed = (kind: string, id: string) => (seeded[kind] ??= []).push(id);

	push(payer, start - 10, [{ t: 'contract.deploy', plan: 'sample-ppo', version: 1, policy: samplePolicy() }]);
	push(
		payer,
		start - 9,
		patients.map((p, i) => ({
			t: 'coverage.enroll',
			id: `cov-${i}`,
			plan: 'sample-ppo',
			patient: keyOf(`patient-${i}`),
			start: '2025-01-01'
		}))
	);

	const pick = (): string => {
		let r = random();
		for (const [code, share] of VISIT_MIX) if ((r -= share) < 0) return code;
		return '99213';
	};
	/** Writes an encounter record for `clinic` (a `record.put` of the records work's shape, dummy ciphertext) and returns its reference. */
	const encounter = (clinic: number, day: number, n: number) => {
		const rid = toHex(sha256(te.encode(`rid/${clinic}/${n}`)).slice(0, 16));
		const block = push(clinics[clinic]!, day, [
			{
				t: 'record.put',
				patient: keyOf(`patient-${n % patientCount}`),
				category: 'encounters',
				epoch: 0,
				kid: new Uint8Array(16),
				rid: sha256(te.encode(`rid/${clinic}/${n}`)).slice(0, 16),
				nonce: new Uint8Array(24),
				ct: new Uint8Array(32)
			}
		]);
		return { block: block.id as string, rid };
	};
	const submit = (clinic: number, form: ClaimForm, day: number) => {
		const block = push(clinics[clinic]!, day, [{ t: 'claim.submit', claim: JSON.stringify(claimResource(form)) }]);
		return `${block.id}-0`;
	};
	const formFor = (
		clinic: number,
		patient: number,
		dos: number,
		codes: string[],
		enc: { block: string; rid: string },
		units = 1
	): ClaimForm => ({
		patient: patients[patient]!,
		provider: clinics[clinic]!,
		coverage: `cov-${patient}`,
		diagnoses: ['E11.9', 'I10'],
		created: dateOfDay(dos + 3),
		lines: codes.map((code) => ({ code, units, unitPrice: 20_000, date: dateOfDay(dos), encounter: enc }))
	});

	const claimIds: { id: string; clinic: number; form: ClaimForm; dos: number }[] = [];
	for (let n = 0; n < claimCount; n++) {
		const clinic = n % clinicCount;
		const patient = Math.floor(random() * patientCount);
		// One visit per clinic, patient and day: day = a distinct slot for each claim.
		const dos = start + (Math.floor(n / clinicCount) % 300);
		const enc = encounter(clinic, dos, n);
		const codes = [pick(), ...EXTRA_CODES.slice(0, linesPerClaim - 1)];
		const form = formFor(clinic, patient, dos, codes, enc);
		const id = submit(clinic, form, dos + 3);
		claimIds.push({ id, clinic, form, dos });
		if (n % 5 === 0) push(payer, dos + 20, [{ t: 'remittance.record', claim: id, amount: 5_000 }]);
		if (n % 7 === 0)
			push(
				clinics[clinic]!,
				dos + 25,
				[{ t: 'payment.record', patient: keyOf(`patient-${patient}`), amount: 2_500, claim: id }],
				random() < 0.5
			); // concurrent with the block before it
	}

	if (options.fraud) {
		const day = start + 310;
		// Duplicate: a claim resubmitted as it was.
		const first = claimIds[0]!;
		seed('duplicate', submit(first.clinic, first.form, first.dos + 4));
		// Unbundling: a panel and one of its components billed on two claims, same patient and day.
		const encA = encounter(0, day, 90_001);
		submit(0, formFor(0, 1, day, ['80053'], encA), day + 1);
		seed('unbundling', submit(0, formFor(0, 1, day, ['82947'], encA), day + 2));
		// Excessive units.
		seed(
			'excessive-units',
			submit(1 % clinicCount, formFor(1 % clinicCount, 2, day, ['97110'], encounter(1 % clinicCount, day, 90_002), 10), day + 1)
		);
		// A service after the patient's recorded death.
		push(clinics[0]!, day, [{ t: 'patient.deceased', patient: keyOf('patient-3'), date: dateOfDay(day - 5) }]);
		seed('after-death', submit(0, formFor(0, 3, day, ['99213'], encounter(0, day, 90_003)), day + 1));
		// An encounter block that does not exist, and one written by another clinic.
		seed('encounter-missing', submit(0, formFor(0, 4, day, ['99212'], { block: 'ab'.repeat(32), rid: 'cd'.repeat(16) }), day + 1));
		seed('encounter-other-clinic', submit(0, formFor(0, 5, day, ['99212'], encounter(1 % clinicCount, day, 90_004)), day + 1));
		// A provider billing the highest visit level far more than its peers.
		const upcoder = clinicCount - 1;
		for (let n = 0; n < 40; n++) {
			const dos = day + 2 + n;
			submit(
				upcoder,
				formFor(upcoder, n % patientCount, dos, [n % 4 === 0 ? '99214' : '99215'], encounter(upcoder, dos, 91_000 + n)),
				dos + 1
			);
		}
		seed('provider-outlier', clinics[upcoder]!);
	}
	for (let i = blocks.length; i < (options.totalBlocks ?? 0); i++) push(payer, start + 400, [{ t: 'note', text: `padding ${i}` }]);
	blocks.sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
	return { blocks, payer, clinics, patients, seeded };
}
