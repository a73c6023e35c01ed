import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../../../src/lib/core/bytes.js';
import { generateSecretKey, precheckSignature, publicKeyOf, signNoble, verifyNoble } from '../../../../src/lib/core/crypto/ed25519.js';
import { createNodeSigner, createNodeVerifier } from '../../../../src/lib/core/crypto/node-verifier.js';
import {
	createSigner,
	createWebCryptoSigner,
	createWebCryptoVerifier,
	detectVerifier,
	KeyCache,
	nobleSigner,
	nobleVerifier,
	type Verifier
} from '../../../../src/lib/core/crypto/verifier.js';
import { RFC8032, SPECCHECK } from '../../../vectors/ed25519.js';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const subtle = globalThis.crypto.subtle;
const verifiers: readonly Verifier[] = [nobleVerifier, await createNodeVerifier(), createWebCryptoVerifier(subtle)];

/** Every path's answer, keyed by name, so a failure shows which path disagrees. */
async function answers(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
	const out: Record<string, boolean> = {};
	for (const v of verifiers) out[v.name] = await v.verify(signature, message, publicKey);
	return out;
}
const all = (value: boolean) => ({ noble: value, node: value, webcrypto: value });

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
	const out = new Uint8Array(bytes);
	out[bit >> 3]! ^= 1 << (bit & 7);
	return out;
}
const le32 = (n: bigint) => numberToBytesLE(n, 32);
const test1 = RFC8032[0]!;
const test1Sig = fromHex(test1.signature);
const test1Pub = fromHex(test1.publicKey);
const withR = (r: Uint8Array) => concatBytes(r, test1Sig.subarray(32));
const withS = (s: bigint) => concatBytes(test1Sig.subarray(0, 32), le32(s));

/** The smallest y whose encoding is canonical but has no x on the curve. */
function offCurveEncoding(): Uint8Array {
	for (let y = 2n; ; y++) {
		try {
			ed25519.Point.fromBytes(le32(y));
		} catch {
			return le32(y);
		}
	}
}

describe('RFC 8032 §7.1 vectors', () => {
	for (const v of RFC8032) {
		const secret = fromHex(v.secret);
		const message = fromHex(v.message);
		const signature = fromHex(v.signature);
		const publicKey = fromHex(v.publicKey);

		it(`${v.name}: derives the public key and signs exactly`, async () => {
			expect(toHex(publicKeyOf(secret))).toBe(v.publicKey);
			expect(toHex(signNoble(secret, message))).toBe(v.signature);
			expect(toHex(await nobleSigner(secret).sign(message))).toBe(v.signature);
			const webSigner = await createWebCryptoSigner(subtle, secret);
			expect(toHex(webSigner.publicKey)).toBe(v.publicKey);
			expect(toHex(await webSigner.sign(message))).toBe(v.signature);
			const nodeSigner = await createNodeSigner(secret);
			expect(toHex(nodeSigner.publicKey)).toBe(v.publicKey);
			expect(toHex(await nodeSigner.sign(message))).toBe(v.signature);
		});

		it(`${v.name}: verifies on every path, and fails with a changed message`, async () => {
			expect(await answers(signature, message, publicKey)).toEqual(all(true));
			const changed = message.length === 0 ? Uint8Array.of(0) : flipBit(message, 0);
			expect(await answers(signature, changed, publicKey)).toEqual(all(false));
		});
	}
});

describe('ed25519-speccheck edge cases (Chalkias, Garillot, Nikolaenko 2020)', () => {
	for (const c of SPECCHECK) {
		it(`case ${c.index} (${c.condition}) is ${c.valid ? 'valid' : 'invalid'} on every path`, async () => {
			const [sig, msg, pub] = [fromHex(c.signature), fromHex(c.message), fromHex(c.publicKey)];
			expect(await answers(sig, msg, pub)).toEqual(all(c.valid));
		});
	}

	it('leaves only cases 3, 4, 5 to the equation, which must be cofactorless to reject 4 and 5', () => {
		const passing = SPECCHECK.filter((c) => precheckSignature(fromHex(c.publicKey), fromHex(c.signature)));
		expect(passing.map((c) => c.index)).toEqual([3, 4, 5]);
	});
});

describe('precheckSignature', () => {
	it('accepts a valid signature', () => {
		expect(precheckSignature(test1Pub, test1Sig)).toBe(true);
	});

	it('rejects each of the 8 small-order points as A and as R', () => {
		expect(ED25519_TORSION_SUBGROUP).toHaveLength(8);
		for (const hex of ED25519_TORSION_SUBGROUP) {
			expect(precheckSignature(fromHex(hex), test1Sig)).toBe(false);
			expect(precheckSignature(test1Pub, withR(fromHex(hex)))).toBe(false);
		}
	});

	it('rejects every encoding with y ≥ p, with either sign bit, as A and as R', () => {
		for (let y = P; y < 2n ** 255n; y++) {
			for (const sign of [0n, 1n << 255n]) {
				const encoding = le32(y | sign);
				expect(precheckSignature(encoding, test1Sig)).toBe(false);
				expect(precheckSignature(test1Pub, withR(encoding))).toBe(false);
			}
		}
	});

	it('rejects x = 0 with the sign bit set (y = 1 and y = p - 1)', () => {
		for (const y of [1n, P - 1n]) {
			const encoding = le32(y | (1n << 255n));
			expect(precheckSignature(encoding, test1Sig)).toBe(false);
			expect(precheckSignature(test1Pub, withR(encoding))).toBe(false);
		}
	});

	it('bounds S strictly below L', () => {
		expect(precheckSignature(test1Pub, withS(L - 1n))).toBe(true);
		expect(precheckSignature(test1Pub, withS(L))).toBe(false);
		expect(precheckSignature(test1Pub, withS(2n ** 256n - 1n))).toBe(false);
	});

	it('returns false, never throws, on wrong lengths and wrong types', () => {
		for (const n of [0, 31, 33, 64]) expect(precheckSignature(new Uint8Array(n), test1Sig)).toBe(false);
		for (const n of [0, 32, 63, 65]) expect(precheckSignature(test1Pub, new Uint8Array(n))).toBe(false);
		const junk: unknown[] = [undefined, null, 7, 'ab', Array.from(test1Pub), test1Pub.buffer];
		for (const value of junk) {
			expect(precheckSignature(value as Uint8Array, test1Sig)).toBe(false);
			expect(precheckSignature(test1Pub, value as Uint8Array)).toBe(false);
		}
	});
});

describe('malformed and malleated signatures (Wycheproof-style)', () => {
	const message = fromHex(test1.message);

	it('rejects S + L, the malleated twin of a valid signature', async () => {
		const s = bytesToNumberLE(test1Sig.subarray(32));
		expect(await answers(withS(s + L), message, test1Pub)).toEqual(all(false));
	});

	it('rejects a canonical A that is not on the curve', async () => {
		const pub = offCurveEncoding();
		expect(precheckSignature(pub, test1Sig)).toBe(true);
		expect(await answers(test1Sig, message, pub)).toEqual(all(false));
	});

	it('rejects a canonical R that is not on the curve', async () => {
		const sig = withR(offCurveEncoding());
		expect(precheckSignature(test1Pub, sig)).toBe(true);
		expect(await answers(sig, message, test1Pub)).toEqual(all(false));
	});

	it('rejects all-zero and all-0xff keys and signatures', async () => {
		for (const fill of [0x00, 0xff]) {
			expect(await answers(new Uint8Array(64).fill(fill), message, test1Pub)).toEqual(all(false));
			expect(await answers(test1Sig, message, new Uint8Array(32).fill(fill))).toEqual(all(false));
		}
	});

	it('answers false, never throws or rejects, on wrong lengths and wrong types', async () => {
		const cases: [unknown, unknown, unknown][] = [
			[test1Sig.subarray(0, 63), message, test1Pub],
			[concatBytes(test1Sig, Uint8Array.of(0)), message, test1Pub],
			[test1Sig, message, test1Pub.subarray(0, 31)],
			[test1Sig, message, concatBytes(test1Pub, Uint8Array.of(0))],
			[new Uint8Array(0), message, new Uint8Array(0)],
			[test1Sig, undefined, test1Pub],
			[test1Sig, 'message', test1Pub],
			[null, message, test1Pub],
			[Array.from(test1Sig), message, Array.from(test1Pub)]
		];
		for (const [sig, msg, pub] of cases) {
			expect(verifyNoble(sig as Uint8Array, msg as Uint8Array, pub as Uint8Array)).toBe(false);
			const got = await answers(sig as Uint8Array, msg as Uint8Array, pub as Uint8Array);
			expect(got).toEqual(all(false));
		}
	});
});

describe('properties: every path agrees', () => {
	const arbitrary = fc.record({
		secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
		message: fc.uint8Array({ maxLength: 300 }),
		target: fc.constantFrom('signature', 'message', 'publicKey'),
		position: fc.nat()
	});

	it('a signature verifies, and any single flipped bit of signature, message or key fails', async () => {
		await fc.assert(
			fc.asyncProperty(arbitrary, async ({ secret, message, target, position }) => {
				const publicKey = publicKeyOf(secret);
				const signature = signNoble(secret, message);
				expect(await answers(signature, message, publicKey)).toEqual(all(true));

				const parts = { signature, message, publicKey };
				const victim = parts[target].length > 0 ? target : 'signature';
				const tampered = { ...parts, [victim]: flipBit(parts[victim], position % (parts[victim].length * 8)) };
				expect(await answers(tampered.signature, tampered.message, tampered.publicKey)).toEqual(all(false));
			}),
			{ numRuns: 150 }
		);
	});

	it('WebCrypto, Node, noble and its derived-key signer produce identical bytes', async () => {
		await fc.assert(
			fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), async (secret, message) => {
				const expected = toHex(signNoble(secret, message));
				const web = await createWebCryptoSigner(subtle, secret);
				expect(toHex(web.publicKey)).toBe(toHex(publicKeyOf(secret)));
				expect(toHex(await web.sign(message))).toBe(expected);
				const node = await createNodeSigner(secret);
				expect(toHex(node.publicKey)).toBe(toHex(publicKeyOf(secret)));
				expect(toHex(await node.sign(message))).toBe(expected);
				// The noble signer derives its key once, then signs without noble's sign.
				const noble = nobleSigner(secret);
				expect(toHex(await noble.sign(message))).toBe(expected);
				expect(toHex(await noble.sign(message))).toBe(expected);
			}),
			{ numRuns: 50 }
		);
	});
});

describe('keys and signers', () => {
	it('generates distinct 32-byte secrets', () => {
		const a = generateSecretKey();
		expect(a).toHaveLength(32);
		expect(toHex(a)).not.toBe(toHex(generateSecretKey()));
	});

	it('throws labelled errors on a bad secret or message', () => {
		expect(() => publicKeyOf(new Uint8Array(31))).toThrow(/secret: expected 32 bytes/);
		expect(() => signNoble(new Uint8Array(32), 'x' as unknown as Uint8Array)).toThrow(/message: expected Uint8Array/);
		expect(() => nobleSigner(new Uint8Array(33))).toThrow(/secret/);
	});

	it('the Node signer refuses a bad secret or message, and keeps its own copy of the secret', async () => {
		await expect(createNodeSigner(new Uint8Array(31))).rejects.toThrow(/secret: expected 32 bytes/);
		const secret = fromHex(test1.secret);
		const signer = await createNodeSigner(secret);
		secret.fill(0);
		expect(toHex(await signer.sign(new Uint8Array(0)))).toBe(test1.signature);
		await expect(signer.sign('x' as unknown as Uint8Array)).rejects.toThrow(/message: expected Uint8Array/);
	});

	it('the noble signer keeps its own copy of the secret', async () => {
		const secret = fromHex(test1.secret);
		const signer = nobleSigner(secret);
		secret.fill(0);
		expect(toHex(await signer.sign(new Uint8Array(0)))).toBe(test1.signature);
	});
});

describe('KeyCache', () => {
	it('evicts the least recently used key beyond its capacity', () => {
		const cache = new KeyCache<number>(2);
		cache.set('a', 1);
		cache.set('b', 2);
		expect(cache.get('a')).toBe(1);
		cache.set('c', 3);
		expect(cache.size).toBe(2);
		expect(cache.get('b')).toBeUndefined();
		expect(cache.get('a')).toBe(1);
		expect(cache.get('c')).toBe(3);
	});

	it('deleteIf leaves a replaced entry alone', () => {
		const cache = new KeyCache<number>();
		cache.set('a', 1);
		cache.set('a', 2);
		cache.deleteIf('a', 1);
		expect(cache.get('a')).toBe(2);
		cache.deleteIf('a', 2);
		expect(cache.get('a')).toBeUndefined();
	});
});

describe('engine selection', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	/** A fresh copy of verifier.ts, so its memoized detection runs again under stubbed globals. */
	const freshModule = () => import('../../../../src/lib/core/crypto/verifier.js');

	it('picks WebCrypto in Node 20, once', async () => {
		const first = await detectVerifier();
		expect(first.name).toBe('webcrypto');
		expect(await detectVerifier()).toBe(first);
	});

	/** Insecure contexts keep getRandomValues (noble blinds with it) but have no subtle. */
	const getRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);

	it('falls back to noble without SubtleCrypto', async () => {
		vi.stubGlobal('crypto', { getRandomValues });
		const { detectVerifier, createSigner } = await freshModule();
		expect((await detectVerifier()).name).toBe('noble');
		const signer = await createSigner(fromHex(test1.secret));
		expect(toHex(await signer.sign(new Uint8Array(0)))).toBe(test1.signature);
	});

	it('falls back to noble when WebCrypto lacks Ed25519', async () => {
		const lacking = {
			importKey: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
			verify: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'))
		};
		vi.stubGlobal('crypto', { getRandomValues, subtle: lacking });
		const { detectVerifier, createSigner } = await freshModule();
		expect((await detectVerifier()).name).toBe('noble');
		const signer = await createSigner(fromHex(test1.secret));
		expect(toHex(await signer.sign(new Uint8Array(0)))).toBe(test1.signature);
	});

	it('refuses an engine that checks the cofactored equation', async () => {
		// Answers like noble's built-in verify: speccheck case 4 comes out valid.
		const cofactored = {
			importKey: async (_format: string, raw: Uint8Array) => ({ raw: new Uint8Array(raw) }),
			verify: async (_alg: string, key: { raw: Uint8Array }, sig: Uint8Array, msg: Uint8Array) =>
				ed25519.verify(sig, msg, key.raw, { zip215: false })
		};
		vi.stubGlobal('crypto', { getRandomValues, subtle: cofactored });
		const { detectVerifier } = await freshModule();
		expect((await detectVerifier()).name).toBe('noble');
	});

	it('a WebCrypto verifier whose engine throws synchronously answers false', async () => {
		const throwing = {
			importKey: () => {
				throw new Error('boom');
			}
		} as unknown as SubtleCrypto;
		expect(await createWebCryptoVerifier(throwing).verify(test1Sig, new Uint8Array(0), test1Pub)).toBe(false);
	});

	it('createSigner signs like noble', async () => {
		const signer = await createSigner(fromHex(test1.secret));
		expect(toHex(signer.publicKey)).toBe(test1.publicKey);
		expect(toHex(await signer.sign(new Uint8Array(0)))).toBe(test1.signature);
	});
});
