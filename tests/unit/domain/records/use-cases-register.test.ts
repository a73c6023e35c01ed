// The register-a-patient use case (domain/records/register.ts), called as the UI and the
// headless peer call it: one block holding the grant and the sealed Patient, and nothing
// at all written when any check or the append refuses.
import { allAccess } from '../../support/access.js';
import { describe, expect, it } from 'vitest';
import { decodeBlock, MemoryStore, type Ledger } from '$lib/core/index.js';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey, type Category } from '$lib/domain/privacy/envelope.js';
import { RecordBook, RecordInputError } from '$lib/domain/records/book.js';
import { openCard } from '$lib/domain/records/card.js';
import { Keyring, NoAccessError } from '$lib/domain/records/keyring.js';
import { registerPatient, RegisterRefusal, type RegisterInput } from '$lib/domain/records/register.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const NOW = fixedNow();
const bookFor = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

/** A store whose writes fail once `failing` is set, as a full disk would. */
class FailingStore extends MemoryStore {
	failing = false;
	override append(...args: Parameters<MemoryStore['append']>): Promise<void> {
		return this.failing ? Promise.reject(new Error('disk full')) : super.append(...args);
	}
}

const form = (change: Partial<RegisterInput> = {}): RegisterInput => ({
	given: 'Amina',
	family: 'Okonkwo',
	birthDate: '1984-03-02',
	gender: 'female',
	identifier: '48151623',
	phone: '',
	pin: '31415926',
	pinAgain: '31415926',
	categories: ['demographics', 'encounters'] as Category[],
	confirmDuplicate: false,
	...change
});

async function clinic() {
	const ledger = await foundNetwork({ ...options, founder: 'clinic-a' });
	return { ledger, book: bookFor(ledger, 'clinic-a'), grantee: authorOf('clinic-a') };
}

describe('registerPatient', () => {
	it('writes the grant and the sealed Patient in one block, readable by the clinic, with a card that opens with the PIN', async () => {
		const { ledger, book, grantee } = await clinic();
		const before = ledger.size;
		const made = await registerPatient(book, form(), { grantee, now: NOW, cardParams: CHEAP });
		expect(ledger.size).toBe(before + 1);
		const stored = await ledger.store.getMany([made.block]);
		const types = decodeBlock(stored[0]!.bytes).txs.map((tx) => tx.t);
		expect(types).toContain('consent.grant');
		expect(types.some((t) => t.startsWith('record.'))).toBe(true);
		expect(made.name).toBe('Amina Okonkwo');
		const demographics = await book.demographics(NOW);
		expect(demographics.get(made.patient)).toMatchObject({ resourceType: 'Patient', birthDate: '1984-03-02' });
		const opened = await openCard(made.card, '31415926');
		expect(opened.patient).toBe(made.patient);
	});

	it('refuses a likely duplicate (same name, any case and spacing, same birth date) unless confirmed', async () => {
		const { ledger, book, grantee } = await clinic();
		const first = await registerPatient(book, form(), { grantee, now: NOW, cardParams: CHEAP });
		const size = ledger.size;
		for (const name of [{}, { given: ' amina ', family: 'OKONKWO' }]) {
			const refusal = await registerPatient(book, form(name), { grantee, now: NOW, cardParams: CHEAP }).catch((e: unknown) => e);
			expect(refusal).toBeInstanceOf(RegisterRefusal);
			expect(refusal).toMatchObject({ code: 'DUPLICATE_PATIENT', duplicate: first.patient });
		}
		expect(ledger.size).toBe(size);
		await registerPatient(book, form({ birthDate: '1990-01-01' }), { grantee, now: NOW, cardParams: CHEAP });
		await registerPatient(book, form({ confirmDuplicate: true }), { grantee, now: NOW, cardParams: CHEAP });
		expect(ledger.size).toBe(size + 2);
	});

	// Every way a registration can fail, each checked to leave the ledger exactly as it was.
	const failures: [string, Partial<RegisterInput>, (error: unknown) => void][] = [
		['no name', { given: ' ', family: '' }, (e) => expect(e).toMatchObject({ code: 'NO_NAME' })],
		['PINs that differ', { pinAgain: '31415927' }, (e) => expect(e).toMatchObject({ code: 'PIN_MISMATCH' })],
		['a short PIN', { pin: '1234567', pinAgain: '1234567' }, (e) => expect(e).toMatchObject({ code: 'PIN_TOO_SHORT' })],
		['no category', { categories: [] }, (e) => expect(e).toMatchObject({ code: 'NO_CATEGORIES' })],
		['a malformed birth date', { birthDate: '02/03/1984' }, (e) => expect(e).toBeInstanceOf(RecordInputError)],
		// The grant alone would be valid: before, it was appended and the Patient then refused.
		['a grant that does not cover demographics', { categories: ['labs'] }, (e) => expect(e).toBeInstanceOf(NoAccessError)]
	];
	for (const [what, change, check] of failures) {
		it(`writes nothing on ${what}`, async () => {
			const { ledger, book, grantee } = await clinic();
			const heads = ledger.heads();
			const error = await registerPatient(book, form(change), { grantee, now: NOW, cardParams: CHEAP }).then(
				() => null,
				(e: unknown) => e
			);
			expect(error).not.toBeNull();
			check(error);
			expect(ledger.heads()).toEqual(heads);
			expect(ledger.state()).toEqual((await clinic()).ledger.state());
		});
	}

	it('writes nothing when the store refuses the write (a full disk)', async () => {
		const store = new FailingStore();
		const ledger = await foundNetwork({ ...options, founder: 'clinic-a', store });
		const book = bookFor(ledger, 'clinic-a');
		const heads = ledger.heads();
		store.failing = true;
		await expect(registerPatient(book, form(), { grantee: authorOf('clinic-a'), now: NOW, cardParams: CHEAP })).rejects.toThrow(
			/disk full/
		);
		expect(ledger.heads()).toEqual(heads);
		expect([...(await allAccess(ledger)).patients()]).toEqual([]);
	});
});
