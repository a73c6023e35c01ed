import { allAccess } from '../../support/access.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonical, generateSecretKey, publicKeyOf, toHex } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import {
	CATEGORIES,
	EnvelopeError,
	encryptionSecretKey,
	newDataKey,
	openRecord,
	recordAad,
	sealRecord,
	unwrapKey,
	wrapKey,
	type Category,
	type RecordContext
} from '$lib/domain/privacy/envelope.js';
import {
	consentGrantRule,
	consentRevokeRule,
	grantOf,
	grantTx,
	grantMessage,
	readersFor,
	revokeGrantTx,
	revokeMessage,
	type Grant
} from '$lib/domain/privacy/consent.js';

const person = () => {
	const seed = generateSecretKey();
	const pub = publicKeyOf(seed);
	return { seed, pub, id: toHex(pub), x: encryptionSecretKey(seed) };
};
const context = (patient: string, category: Category = 'labs', epoch = 0): RecordContext => ({
	net: 'aa'.repeat(32),
	patient,
	category,
	epoch
});
const text = (s: string) => new TextEncoder().encode(s);

describe('envelopes', () => {
	it('round-trips any payload, and a wrapped key opens only for its reader', () => {
		const patient = person();
		const reader = person();
		const other = person();
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(...CATEGORIES), fc.nat(5), (payload, category, epoch) => {
				const ctx = context(patient.id, category, epoch);
				const key = newDataKey();
				const sealed = sealRecord(key, payload, ctx);
				const wrap = wrapKey(key, reader.id, reader.pub, ctx);
				const unwrapped = unwrapKey(wrap, reader.id, reader.x, ctx);
				expect(openRecord(unwrapped, sealed, ctx)).toEqual(payload);
				expect(() => unwrapKey(wrap, other.id, other.x, ctx)).toThrow(EnvelopeError);
				expect(() => unwrapKey(wrap, reader.id, reader.x, { ...ctx, epoch: epoch + 1 })).toThrow(EnvelopeError);
			}),
			{ numRuns: 30 }
		);
	}, 30_000);

	it("a record's AAD is the canonical CBOR of its whole context, for any context and record id, in any order of use", () => {
		// recordAad writes hex record ids into a template per context; these are what it must equal.
		const encoded = (c: RecordContext) =>
			encodeCanonical({
				v: 1,
				kind: 'record',
				net: c.net,
				patient: c.patient,
				category: c.category,
				epoch: c.epoch,
				...(c.rid ? { rid: c.rid } : {})
			});
		// Names made of the template's blank byte too, to reach a context whose template would be ambiguous.
		const name = fc.string({ unit: fc.constantFrom('a', '\u0001', 'é', '0'), maxLength: 40 });
		const rid = fc.oneof(
			fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 70 }),
			fc.constantFrom('', 'ABCD', 'zz', '\u0001\u0001')
		);
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						net: name,
						patient: name,
						category: fc.constantFrom(...CATEGORIES),
						epoch: fc.integer({ min: -2, max: 70_000 }),
						rid
					}),
					{
						minLength: 1,
						maxLength: 20
					}
				),
				(contexts) => {
					for (const c of [...contexts, ...contexts.reverse()]) expect(recordAad(c)).toEqual(encoded(c));
				}
			),
			{ numRuns: 300 }
		);
	});

	it('any changed byte of ciphertext, nonce or wrapped key is detected, never decrypted to something else', () => {
		const patient = person();
		const reader = person();
		const ctx = context(patient.id);
		const key = newDataKey();
		const sealed = sealRecord(key, text('HbA1c 6.1 % — MARKER-7731'), ctx);
		const wrap = wrapKey(key, reader.id, reader.pub, ctx);
		const flip = (bytes: Uint8Array, i: number) => {
			const copy = bytes.slice();
			copy[i % copy.length]! ^= 1 << (i % 8);
			return copy;
		};
		for (let i = 0; i < sealed.ct.length; i += 3)
			expect(() => openRecord(key, { ...sealed, ct: flip(sealed.ct, i) }, ctx)).toThrow(EnvelopeError);
		for (let i = 0; i < 24; i++) expect(() => openRecord(key, { ...sealed, nonce: flip(sealed.nonce, i) }, ctx)).toThrow(EnvelopeError);
		for (let i = 0; i < wrap.wrapped.length; i++)
			expect(() => unwrapKey({ ...wrap, wrapped: flip(wrap.wrapped, i) }, reader.id, reader.x, ctx)).toThrow(EnvelopeError);
		for (let i = 0; i < 32; i++)
			expect(() => unwrapKey({ ...wrap, eph: flip(wrap.eph, i) }, reader.id, reader.x, ctx)).toThrow(EnvelopeError);
		expect(() => openRecord(key, sealed, { ...ctx, patient: person().id })).toThrow(EnvelopeError);
		// The ciphertext does not contain the plaintext.
		expect(Buffer.from(sealed.ct).includes(Buffer.from('MARKER-7731'))).toBe(false);
	});
});

describe('consent grants', () => {
	const makeGrant = (
		patient: ReturnType<typeof person>,
		grantee: string,
		categories: Category[],
		expires = 1_750_000_000_000
	): { grant: Grant; tx: ReturnType<typeof grantTx> } => {
		const grant: Grant = {
			id: toHex(crypto.getRandomValues(new Uint8Array(16))),
			patient: patient.id,
			grantee,
			categories,
			purpose: 'treatment',
			expires,
			issued: 1_700_000_000_000
		};
		return { grant, tx: grantTx(grant, signNoble(patient.seed, grantMessage(grant))) };
	};

	it('a grant must be signed by the patient it names', () => {
		const patient = person();
		const clinic = person();
		const { grant, tx } = makeGrant(patient, clinic.id, ['labs', 'encounters']);
		expect(consentGrantRule.check(tx, undefined as never)).toBeNull();
		expect(grantOf(tx)).toEqual({ ...grant, categories: ['encounters', 'labs'] });
		// Signed by the clinic instead of the patient: refused.
		const forged = grantTx(grant, signNoble(clinic.seed, grantMessage(grant)));
		expect(consentGrantRule.check(forged, undefined as never)).toMatch(/patient’s signature/);
		const revoke = revokeGrantTx(
			patient.id,
			grant.id,
			1_700_000_000_001,
			signNoble(patient.seed, revokeMessage(patient.id, grant.id, 1_700_000_000_001))
		);
		expect(consentRevokeRule.check(revoke, undefined as never)).toBeNull();
		const badRevoke = revokeGrantTx(patient.id, grant.id, 1, signNoble(clinic.seed, revokeMessage(patient.id, grant.id, 1)));
		expect(consentRevokeRule.check(badRevoke, undefined as never)).toMatch(/signature/);
	});

	it('no grant → no key: data keys go only to the patient and grantees in force for that category', () => {
		const patient = person();
		const pool = Array.from({ length: 5 }, () => person().id);
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						who: fc.nat(4),
						cats: fc.subarray([...CATEGORIES], { minLength: 1 }),
						expires: fc.integer({ min: 1_700_000_000_001, max: 1_800_000_000_000 }),
						revoked: fc.boolean()
					}),
					{ maxLength: 8 }
				),
				fc.constantFrom(...CATEGORIES),
				fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
				(specs, category, now) => {
					const grants = specs.map((s) => ({ ...makeGrant(patient, pool[s.who]!, s.cats, s.expires).grant, revoked: s.revoked }));
					const readers = readersFor(grants, patient.id, category, now);
					for (const reader of pool) {
						const entitled = grants.some((g) => g.grantee === reader && !g.revoked && g.categories.includes(category) && now < g.expires);
						expect(readers.includes(reader)).toBe(entitled);
					}
					expect(readers).toContain(patient.id);
				}
			),
			{ numRuns: 200 }
		);
	}, 30_000);
});

describe('consent on the ledger (access fold)', () => {
	it('a clinic records a patient-signed grant; revoking it moves the categories to a new epoch; forged grants are refused', async () => {
		const { foundNetwork } = await import('$lib/core/testing/fixtures.js');
		const { APP_RULES } = await import('$lib/domain/rule-registry.js');
		const { APP_FOLDS, APP_INDEXES } = await import('$lib/domain/fold-registry.js');
		const { currentEpoch, mayRead, sealingReaders } = await import('$lib/domain/privacy/access.js');
		const clinic = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES });
		const patient = person();
		const researcher = person();
		const now = 1_700_000_000_000;
		const grant: Grant = {
			id: 'ab'.repeat(16),
			patient: patient.id,
			grantee: researcher.id,
			categories: ['labs'],
			purpose: 'research',
			expires: now + 86_400_000,
			issued: now
		};
		await clinic.append([grantTx(grant, signNoble(patient.seed, grantMessage(grant)))]);
		const access = () => allAccess(clinic);
		expect(mayRead(await access(), researcher.id, patient.id, 'labs', now + 1)).toBe(true);
		expect(mayRead(await access(), researcher.id, patient.id, 'mental-health', now + 1)).toBe(false);
		expect(mayRead(await access(), researcher.id, patient.id, 'labs', now + 86_400_001)).toBe(false); // expired
		expect(sealingReaders(await access(), patient.id, 'labs', now + 1)).toEqual([patient.id, researcher.id].sort());
		expect(currentEpoch(await access(), patient.id, 'labs')).toBe(0);
		// Signed by the clinic, not the patient: refused on the ledger.
		const forged: Grant = { ...grant, id: 'cd'.repeat(16) };
		await expect(clinic.append([grantTx(forged, signNoble(generateSecretKey(), grantMessage(forged)))])).rejects.toMatchObject({
			code: 'TX_INVALID'
		});
		// The patient revokes: new data goes to a new epoch, sealed for the patient only.
		const time = now + 5;
		await clinic.append([revokeGrantTx(patient.id, grant.id, time, signNoble(patient.seed, revokeMessage(patient.id, grant.id, time)))]);
		expect(mayRead(await access(), researcher.id, patient.id, 'labs', now + 10)).toBe(false);
		expect(currentEpoch(await access(), patient.id, 'labs')).toBe(1);
		expect(sealingReaders(await access(), patient.id, 'labs', now + 10)).toEqual([patient.id]);
	});
});
