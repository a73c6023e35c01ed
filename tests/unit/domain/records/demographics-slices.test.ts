// The registry's names on a network of thousands of patients are read a slice at a time:
// each slice reports the names so far and who is still unread, the slices together give
// exactly what one read gives, and names already decrypted are not decrypted (nor
// reported) again.
import { describe, expect, it } from 'vitest';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { registerPatient } from '$lib/domain/records/register.js';

const NOW = fixedNow();
const PATIENTS = 7;

describe('RecordBook.demographics in slices', () => {
	it('reports each slice, ends with every readable name, and reads nothing twice', async () => {
		const ledger = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, founder: 'clinic-a' });
		const book = () => new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		const writer = book();
		for (let i = 0; i < PATIENTS; i++)
			await registerPatient(
				writer,
				{
					given: `Pat${i}`,
					family: 'Slice',
					birthDate: `1980-01-0${i + 1}`,
					gender: 'other',
					identifier: `MRN-${i}`,
					phone: '',
					pin: '31415926',
					pinAgain: '31415926',
					categories: ['demographics'],
					confirmDuplicate: false
				},
				{ grantee: authorOf('clinic-a'), now: NOW, cardParams: { N: 2 ** 10, r: 8, p: 1 } }
			);
		const whole = await book().demographics(NOW);
		expect(whole.size).toBe(PATIENTS);
		// The patients the registry lists first (from one index key's rows) are those with a Patient record.
		expect([...(await book().demographicRecords()).keys()].sort()).toEqual([...whole.keys()].sort());
		expect(await book().patients()).toEqual(expect.arrayContaining([...whole.keys()]));

		const reader = book();
		const slices: { found: number; unread: string[]; done: number; total: number }[] = [];
		const sliced = await reader.demographics(
			NOW,
			(found, unread, done, total) => {
				slices.push({ found: found.size, unread: [...unread], done, total });
			},
			3
		);
		expect(slices.map((s) => [s.found, s.unread.length, s.done, s.total])).toEqual([
			[3, 4, 3, 7],
			[6, 1, 6, 7],
			[7, 0, 7, 7]
		]);
		// Nobody is both named and unread.
		for (const s of slices) expect(s.unread.filter((p) => whole.has(p)).length).toBe(s.unread.length);
		expect(new Map([...sliced].sort())).toEqual(new Map([...whole].sort()));

		// Read again: every name cached, no slice reported, the same names.
		const again: number[] = [];
		expect(new Map([...(await reader.demographics(NOW, (found) => void again.push(found.size), 3))].sort())).toEqual(
			new Map([...whole].sort())
		);
		expect(again).toEqual([]);

		// A node nobody granted (a key of its own, not the clinic's): every slice judged sealed is reported, unread shrinking to none, no name.
		const stranger = new RecordBook(ledger, new Keyring(authorOf('clinic-z'), encryptionSecretKey(testSecret('clinic-z'))));
		const sealed: [number, number, number, number][] = [];
		const none = await stranger.demographics(
			NOW,
			(found, unread, done, total) => void sealed.push([found.size, unread.size, done, total]),
			3
		);
		expect(none.size).toBe(0);
		expect(sealed).toEqual([
			[0, 4, 3, 7],
			[0, 1, 6, 7],
			[0, 0, 7, 7]
		]);
	}, 60_000);
});
