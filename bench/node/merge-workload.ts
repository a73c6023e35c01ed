/**
 * The clinic workload of bench/offline-merge.js: a network of three clinics and a payer
 * whose blocks carry the app's real transactions for `patients` patients, built in Node
 * with the app's own builders (block builder, envelope, consent, claims, supply) and
 * signed with node:crypto. Blocks are made by hand (seq, prev, deps, clock) so that many
 * authors need no syncing while the ledger is built; a ledger with the app's rules then
 * receives them, so every block is one a peer would accept.
 *
 * Per patient: a treatment grant signed by the patient's own key and the data keys of
 * four categories wrapped for its clinic (one block), coverage with the payer. Then visits
 * in cycles of ten blocks: sealed FHIR resources of the patient (`record.put`, XChaCha20-
 * Poly1305 under the patient's category key; the resources come from the app's synthetic
 * patient generator), a vaccine dose given at the visit (`supply.administer` linked to
 * the encounter record), a claim for the visit (`claim.submit`, a FHIR Claim), stock
 * received, clinical notes: about 6 records per 10 blocks.
 *
 * Deterministic except for the ciphertexts' random nonces (the app's `sealRecord` and
 * `wrapKey` draw them): every size, key, id of a patient, record and claim is fixed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	createBlock,
	fromHex,
	normalizeDeps,
	publicKeyOf,
	toHex,
	type AuthorId,
	type BlockId,
	type Signer,
	type Tx
} from '../../src/lib/core/index.js';
import { utf8 } from '../../src/lib/core/bytes.js';
import { signNoble } from '../../src/lib/core/crypto/ed25519.js';
import { nodeSigner } from '../../src/lib/core/crypto/node-signer.js';
import { testSecret } from '../../src/lib/core/testing/fixtures.js';
import { syntheticPatient } from '../../src/lib/demo/synthetic-patients.js';
import { seededRng } from '../../src/lib/demo/seeded-rng.js';
import { claimResource } from '../../src/lib/domain/contracts/claim.js';
import { dateOfDay, dayOfTime } from '../../src/lib/domain/contracts/dates.js';
import { samplePolicy } from '../../src/lib/domain/contracts/sample.js';
import { grantMessage, grantTx, type Grant } from '../../src/lib/domain/privacy/consent.js';
import { dataKeyId, sealRecord, wrapKey, type Category } from '../../src/lib/domain/privacy/envelope.js';
import { recordIdOf } from '../../src/lib/domain/records/record-id.js';
import { noteTx } from '../../src/lib/domain/note.js';
import { administerTx, receiveTx } from '../../src/lib/domain/supply/transactions.js';

export const T0 = Date.UTC(2025, 0, 6);
/** Block time: one minute per clock tick from T0. */
export const timeOf = (clock: number) => T0 + clock * 60_000;
const GTINS = ['09506000134352', '04006381333931'];
const CATEGORIES: readonly Category[] = ['demographics', 'encounters', 'labs', 'medications'];
const categoryOf = (resourceType: string): Category =>
	resourceType === 'Patient'
		? 'demographics'
		: resourceType === 'Observation' || resourceType === 'DiagnosticReport'
			? 'labs'
			: resourceType.startsWith('Medication')
				? 'medications'
				: 'encounters';
/** A patient's resources, and those a visit's encounter record is taken from (its Encounters; any resource of the category if none). */
function withEncounters(resources: readonly unknown[]): { resources: readonly unknown[]; encounters: readonly unknown[] } {
	const type = (r: unknown) => (r as { resourceType: string }).resourceType;
	const encounters = resources.filter((r) => type(r) === 'Encounter');
	return { resources, encounters: encounters.length > 0 ? encounters : resources.filter((r) => categoryOf(type(r)) === 'encounters') };
}
const bytesOf = (label: string, n: number) => sha256(utf8(`clinic-ledger/bench/merge/${label}`)).slice(0, n);

/** The network's identities: the founding clinic X (admin), clinics B and C (clinicians), the payer. */
export const LABELS = { x: 'merge-clinic-x', b: 'merge-clinic-b', c: 'merge-clinic-c', payer: 'merge-payer' } as const;
export const members = (): Tx[] => [
	{ t: 'member.add', key: publicKeyOf(testSecret(LABELS.b)), role: 'clinician' },
	{ t: 'member.add', key: publicKeyOf(testSecret(LABELS.c)), role: 'clinician' },
	{ t: 'member.add', key: publicKeyOf(testSecret(LABELS.payer)), role: 'payer' }
];

interface Author {
	readonly id: AuthorId;
	readonly signer: Signer;
	seq: number;
	head: { id: BlockId; clock: number } | null;
}

/** Makes the network's blocks one after another: per author chains, a global clock, deps on the last block of another author. */
export class WorkloadWriter {
	readonly net: BlockId;
	readonly authors: Record<keyof typeof LABELS, Author>;
	readonly #patients: {
		hex: string;
		key: Uint8Array;
		secret: Uint8Array;
		clinic: 'x' | 'b' | 'c';
		resources: readonly unknown[];
		next: number;
		/** The patient's Encounter resources, and the next one a visit writes. */
		encounters: readonly unknown[];
		nextEncounter: number;
	}[];
	#last: { id: BlockId; author: AuthorId; clock: number };
	#clock: number;
	#counter = 0;
	#lastEncounter = new Map<number, { block: string; rid: string }>();

	constructor(net: BlockId, genesisAndMembers: { id: BlockId; clock: number }, patients: number, seed = 2026) {
		this.net = net;
		const author = (label: string, seq: number, head: { id: BlockId; clock: number } | null): Author => ({
			id: toHex(publicKeyOf(testSecret(label))) as AuthorId,
			signer: nodeSigner(testSecret(label)),
			seq,
			head
		});
		// The founder wrote the genesis (seq 0) and the member block (seq 1).
		this.authors = {
			x: author(LABELS.x, 2, genesisAndMembers),
			b: author(LABELS.b, 0, null),
			c: author(LABELS.c, 0, null),
			payer: author(LABELS.payer, 0, null)
		};
		this.#last = { ...genesisAndMembers, author: this.authors.x.id };
		this.#clock = genesisAndMembers.clock;
		const rng = seededRng(seed);
		this.#patients = Array.from({ length: patients }, (_, p) => {
			const secret = testSecret(`merge-patient-${p}`);
			const key = publicKeyOf(secret);
			const hex = toHex(key);
			return {
				hex,
				key,
				secret,
				clinic: (['x', 'b', 'c'] as const)[p % 3]!,
				...withEncounters(syntheticPatient(rng, 50, hex).resources),
				next: 0,
				nextEncounter: 0
			};
		});
	}

	get patients(): number {
		return this.#patients.length;
	}

	/** The current clock (of the last block made). */
	get clock(): number {
		return this.#clock;
	}

	/** Signs the next block of `who` at `clock` (default: the next global clock). */
	async block(who: keyof typeof LABELS, txs: Tx[], clock = this.#clock + 1, depsOn: { id: BlockId; author: AuthorId } | null = this.#last) {
		const a = this.authors[who];
		const deps = depsOn && depsOn.author !== a.id ? [depsOn.id] : [];
		const made = await createBlock(a.signer, {
			net: this.net,
			seq: a.seq,
			prev: a.head?.id ?? null,
			deps: normalizeDeps(deps),
			clock,
			time: timeOf(clock),
			txs
		});
		a.seq++;
		a.head = { id: made.id, clock };
		this.#clock = Math.max(this.#clock, clock);
		this.#last = { id: made.id, author: a.id, clock };
		return made;
	}

	#dataKey(p: number, category: Category) {
		return bytesOf(`data-key/${p}/${category}`, 32);
	}

	/** The payer's plan, as `contract.deploy`. */
	deployTxs(): Tx[] {
		return [{ t: 'contract.deploy', plan: 'sample-ppo', version: 1, policy: samplePolicy() }];
	}

	/** Coverage of patients `from` .. `from + n - 1`. */
	enrollTxs(from: number, n: number): Tx[] {
		return this.#patients.slice(from, from + n).map((p, i) => ({
			t: 'coverage.enroll',
			id: `cov-${from + i}`,
			plan: 'sample-ppo',
			patient: p.key,
			start: '2025-01-01'
		}));
	}

	/** A patient's treatment grant to its clinic and its four data keys wrapped for the clinic. */
	setupTxs(p: number, time: number): { who: 'x' | 'b' | 'c'; txs: Tx[] } {
		const patient = this.#patients[p]!;
		const clinic = this.authors[patient.clinic];
		const grant: Grant = {
			id: toHex(bytesOf(`grant/${p}`, 16)),
			patient: patient.hex,
			grantee: clinic.id,
			categories: [...CATEGORIES],
			purpose: 'treatment',
			expires: time + 365 * 86_400_000,
			issued: time
		};
		const txs: Tx[] = [grantTx(grant, signNoble(patient.secret, grantMessage(grant)))];
		for (const category of CATEGORIES) {
			const context = { net: this.net, patient: patient.hex, category, epoch: 0 };
			const dataKey = this.#dataKey(p, category);
			const w = wrapKey(dataKey, clinic.id, fromHex(clinic.id), context);
			txs.push({
				t: 'key.wrap',
				patient: patient.key,
				category,
				epoch: 0,
				kid: dataKeyId(dataKey, context),
				grant: fromHex(grant.id),
				wraps: [{ reader: fromHex(clinic.id), eph: w.eph, nonce: w.nonce, wrapped: w.wrapped }]
			});
		}
		return { who: patient.clinic, txs };
	}

	/**
	 * The next FHIR resource of patient `p` (the next Encounter with `encounter`), sealed as
	 * `record.put`; returns the record id too.
	 */
	recordTx(p: number, encounter = false): { tx: Tx; rid: Uint8Array } {
		const patient = this.#patients[p]!;
		const resource = (
			encounter
				? patient.encounters[patient.nextEncounter++ % patient.encounters.length]
				: patient.resources[patient.next++ % patient.resources.length]
		) as { resourceType: string };
		const category = categoryOf(resource.resourceType);
		const salt = bytesOf(`salt/${this.#counter++}`, 16);
		const rid = recordIdOf(patient.hex, category, salt);
		const context = { net: this.net, patient: patient.hex, category, epoch: 0 };
		const dataKey = this.#dataKey(p, category);
		const sealed = sealRecord(dataKey, utf8(JSON.stringify(resource)), { ...context, rid: toHex(rid) });
		return {
			tx: {
				t: 'record.put',
				patient: patient.key,
				category,
				epoch: 0,
				kid: dataKeyId(dataKey, context),
				rid,
				salt,
				nonce: sealed.nonce,
				ct: sealed.ct
			},
			rid
		};
	}

	/**
	 * Block `k` of the visit cycle for patient `p` (`k` = 0..9), written by the patient's
	 * clinic, or the payer for a remittance: its author and transactions.
	 */
	visitBlock(k: number, p: number, clock: number): { who: keyof typeof LABELS; txs: Tx[]; encounter?: boolean } {
		const patient = this.#patients[p]!;
		const who = patient.clinic;
		const day = dayOfTime(timeOf(clock));
		switch (k) {
			case 0: {
				// The visit: the encounter and one more resource; the block id is known once signed (see noteEncounter).
				// The encounter a claim and a dose name is an Encounter record (billing checks it is).
				const first = this.recordTx(p, true);
				const second = this.recordTx(p);
				this.#pendingRid = toHex(first.rid);
				return { who, txs: [first.tx, second.tx], encounter: true };
			}
			case 3: {
				const enc = this.#lastEncounter.get(p);
				if (!enc) return { who, txs: [this.recordTx(p).tx] };
				return {
					who,
					txs: [
						this.recordTx(p).tx,
						administerTx({
							patient: patient.key,
							gtin: GTINS[p % GTINS.length]!,
							lot: `LOT-${Math.floor(clock / 20_000)}`,
							kind: 'immunization',
							encounter: { block: fromHex(enc.block), rid: fromHex(enc.rid) }
						})
					]
				};
			}
			case 6: {
				const enc = this.#lastEncounter.get(p);
				if (!enc) return { who, txs: [this.recordTx(p).tx] };
				const form = {
					patient: patient.hex,
					provider: this.authors[who].id,
					coverage: `cov-${p}`,
					diagnoses: ['E11.9', 'I10'],
					created: dateOfDay(day),
					lines: ['99213', '36415', '85025'].map((code) => ({ code, units: 1, unitPrice: 20_000, date: dateOfDay(day), encounter: enc }))
				};
				return { who, txs: [{ t: 'claim.submit', claim: JSON.stringify(claimResource(form)) }] };
			}
			case 8:
				// Stock: each clinic receives lots of both vaccines as the days go by.
				if (p % 10 === 0)
					return {
						who,
						txs: GTINS.map((gtin) =>
							receiveTx({ gtin, lot: `LOT-${Math.floor(clock / 20_000)}`, expiry: '2030-12-31', qty: 500, supplier: 'Wholesaler' })
						)
					};
				return { who, txs: [this.recordTx(p).tx] };
			case 1:
			case 5:
			case 9:
				return { who, txs: [noteTx(`visit note ${clock}: patient seen, vitals recorded, follow-up in two weeks`)] };
			default:
				return { who, txs: [this.recordTx(p).tx] };
		}
	}

	#pendingRid: string | null = null;

	/** Remembers the encounter just written for patient `p` (block `id`), for the claim and the dose that refer to it. */
	noteEncounter(p: number, id: BlockId): void {
		if (this.#pendingRid) this.#lastEncounter.set(p, { block: id, rid: this.#pendingRid });
		this.#pendingRid = null;
	}
}

/**
 * The day-start ledger's blocks after the member block, in the order they are written
 * (each block's wire bytes): the payer's contract and enrolments, each patient's setup,
 * then visits (ten blocks a patient in turn) until the ledger holds `blocks` blocks,
 * genesis and member block included.
 */
export async function* workloadBlocks(writer: WorkloadWriter, patients: number, blocks: number): AsyncGenerator<Uint8Array> {
	let made = 2;
	const next = (bytes: Uint8Array) => {
		made++;
		return bytes;
	};
	yield next((await writer.block('payer', writer.deployTxs())).bytes);
	for (let p = 0; p < patients; p += 100) yield next((await writer.block('payer', writer.enrollTxs(p, 100))).bytes);
	for (let p = 0; p < patients; p++) {
		const { who, txs } = writer.setupTxs(p, timeOf(writer.clock + 1));
		yield next((await writer.block(who, txs)).bytes);
	}
	for (let cycle = 0; made < blocks; cycle++) {
		const p = cycle % patients;
		for (let k = 0; k < 10 && made < blocks; k++) {
			const visit = writer.visitBlock(k, p, writer.clock + 1);
			const b = await writer.block(visit.who, visit.txs);
			if (visit.encounter) writer.noteEncounter(p, b.id);
			yield next(b.bytes);
		}
	}
}
