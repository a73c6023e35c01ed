// The wrapped keys, kept in the store by patient (key-index.ts), read back the same whatever
// order and batches their blocks were written in: every wrap of every key slot, in ledger
// order, as the records fold kept them before (the model below files each wrap in ledger
// order). Generated blocks hold the cases where order or grouping could matter: several
// key.wrap transactions of one patient in one block, one key wrapped for a reader in
// several blocks, a wrap naming another patient than the reader, ties of clock.
import { describe, expect, it } from 'vitest';
import { compareOrder, orderKey, toHex, type Block, type Tx } from '$lib/core/index.js';
import { prng } from '$lib/core/testing/prng.js';
import { shuffled } from '../../support/arrival-orders.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import { keyPatients, keySlot, keySlotsOf, keyWrapsIndex, type KeyEntry } from '$lib/domain/records/key-index.js';
import { bytes, generatedBlock, writtenInBatches } from './index-support.js';

const CATEGORIES: Category[] = ['labs', 'encounters', 'demographics'];

function generate(seed: number): Block[] {
	const rand = prng(seed);
	const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
	const patients = [1, 2, 3, 4].map((n) => bytes(n, 32));
	const readers = [...patients, bytes(9, 32), bytes(10, 32)];
	const blocks: Block[] = [];
	for (let i = 0; i < 40; i++) {
		const txs: Tx[] = [];
		for (let t = 0; t < 1 + Math.floor(rand() * 4); t++) {
			if (rand() < 0.2) {
				txs.push({ t: 'record.put', patient: pick(patients), category: 'labs', epoch: 0, kid: bytes(1, 16), rid: bytes(i, 16) });
				continue;
			}
			const wraps = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, w) => ({
				reader: pick(readers),
				eph: bytes(i * 7 + w, 32),
				nonce: bytes(i * 7 + w + 1, 24),
				wrapped: bytes(i * 7 + w + 2, 48)
			}));
			txs.push({
				t: 'key.wrap',
				kid: bytes(Math.floor(rand() * 3), 16),
				patient: pick(patients),
				category: pick(CATEGORIES),
				epoch: Math.floor(rand() * 2),
				wraps
			});
		}
		blocks.push(generatedBlock(rand, i, txs));
	}
	return blocks;
}

/** The model: each wrap filed under its slot and reader, blocks taken in ledger order. */
function model(inOrder: readonly Block[]): Map<string, KeyEntry> {
	const slots = new Map<string, KeyEntry>();
	for (const block of inOrder)
		for (const tx of block.txs) {
			if (tx.t !== 'key.wrap') continue;
			const patient = toHex(tx.patient as Uint8Array);
			const kid = toHex(tx.kid as Uint8Array);
			const category = tx.category as Category;
			const epoch = tx.epoch as number;
			const slot = keySlot(patient, category, epoch, kid);
			const entry = slots.get(slot) ?? { kid, patient, category, epoch, readers: {} };
			slots.set(slot, entry);
			for (const w of tx.wraps as Record<string, Uint8Array>[])
				(entry.readers[toHex(w.reader!)] ??= []).push({
					eph: w.eph!,
					nonce: w.nonce!,
					wrapped: w.wrapped!,
					block: block.id,
					by: block.author
				});
		}
	return slots;
}

const slotOf = (e: KeyEntry) => keySlot(e.patient, e.category, e.epoch, e.kid);
/** Entries as text, in their order, bytes as hex (a deep compare of thousands of byte arrays is slow). */
const canon = (entries: Iterable<KeyEntry>) => JSON.stringify([...entries], (_, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));

describe('key index: the same keys whatever the arrival order', () => {
	it('reads every wrap of every slot in ledger order, for 20 arrival orders in batches of 1-8 of each of 30 generated ledgers', async () => {
		let grouped = 0;
		let spread = 0;
		for (let seed = 1; seed <= 30; seed++) {
			const blocks = generate(seed);
			const inOrder = [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
			const want = model(inOrder);
			const patients = [...new Set([...want.values()].map((e) => e.patient))].sort();
			// Several key.wraps of one patient in one block make one row; one reader's wraps of a slot come from several blocks.
			grouped += blocks.filter((b) => {
				const named = b.txs.filter((t) => t.t === 'key.wrap').map((t) => toHex(t.patient as Uint8Array));
				return new Set(named).size < named.length;
			}).length;
			spread += [...want.values()].filter((e) => Object.values(e.readers).some((w) => new Set(w.map((x) => x.block)).size > 1)).length;
			const rand = prng(seed * 13);
			for (let run = 0; run < 20; run++) {
				const ledger = await writtenInBatches(shuffled(blocks, rand), [keyWrapsIndex], rand);
				const slots = await keySlotsOf(ledger, patients);
				const bySlot = (entries: Iterable<KeyEntry>) => [...entries].sort((a, b) => (slotOf(a) < slotOf(b) ? -1 : 1));
				expect(canon(bySlot(slots.all()))).toBe(canon(bySlot(want.values())));
				// A patient's keys in the ledger order of their first wraps (the model files them so).
				for (const p of patients) expect(canon(slots.ofPatient(p))).toBe(canon([...want.values()].filter((e) => e.patient === p)));
				const listed: string[] = [];
				for await (const page of keyPatients(ledger, 2)) listed.push(...page);
				expect(listed).toEqual(patients);
			}
		}
		expect(grouped).toBeGreaterThan(20);
		expect(spread).toBeGreaterThan(20);
	});

	it('answers only for the patients it read: any other throws KEYS_NOT_READ, a slot of a patient read but without keys is absent', async () => {
		const blocks = generate(5);
		const ledger = await writtenInBatches(blocks, [keyWrapsIndex], prng(1));
		const want = model([...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b))));
		const [one, other] = [...new Set([...want.values()].map((e) => e.patient))].sort();
		const slots = await keySlotsOf(ledger, [one!, 'ab'.repeat(32)]);
		const mine = [...want.keys()].find((s) => s.startsWith(one!))!;
		expect(slots.get(mine)).toEqual(want.get(mine));
		expect(slots.get(`${'ab'.repeat(32)}/labs/0/00`)).toBeUndefined();
		expect(slots.ofPatient('ab'.repeat(32))).toEqual([]);
		const theirs = [...want.keys()].find((s) => s.startsWith(other!))!;
		expect(() => slots.get(theirs)).toThrow(expect.objectContaining({ code: 'KEYS_NOT_READ' }));
		expect(() => slots.ofPatient(other!)).toThrow(expect.objectContaining({ code: 'KEYS_NOT_READ' }));
	});
});
