import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/lib/core/bytes.js';
import { generateSecretKey, publicKeyOf, signNoble } from '../../src/lib/core/crypto/ed25519.js';
import {
	createSigner,
	createWebCryptoSigner,
	createWebCryptoVerifier,
	detectVerifier,
	nobleVerifier
} from '../../src/lib/core/crypto/verifier.js';
import { RFC8032, SPECCHECK } from '../vectors/ed25519.js';

const subtle = globalThis.crypto.subtle;
const webcrypto = createWebCryptoVerifier(subtle);

/** Both paths' answers; equal objects mean Chromium's BoringSSL agrees with the reference. */
async function answers(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
	return {
		webcrypto: await webcrypto.verify(signature, message, publicKey),
		noble: await nobleVerifier.verify(signature, message, publicKey)
	};
}
const both = (value: boolean) => ({ webcrypto: value, noble: value });

function randomInt(below: number): number {
	return crypto.getRandomValues(new Uint32Array(1))[0]! % below;
}

describe('Ed25519 in Chromium', () => {
	it('detects WebCrypto as the verifier', async () => {
		expect((await detectVerifier()).name).toBe('webcrypto');
	});

	it('agrees with noble on the RFC 8032 §7.1 vectors, and signs them byte for byte', async () => {
		for (const v of RFC8032) {
			const [sig, msg, pub] = [fromHex(v.signature), fromHex(v.message), fromHex(v.publicKey)];
			expect(await answers(sig, msg, pub), v.name).toEqual(both(true));
			const signer = await createWebCryptoSigner(subtle, fromHex(v.secret));
			expect(toHex(await signer.sign(msg)), v.name).toBe(v.signature);
		}
	});

	it('agrees with noble on the 12 speccheck edge cases', async () => {
		for (const c of SPECCHECK) {
			const [sig, msg, pub] = [fromHex(c.signature), fromHex(c.message), fromHex(c.publicKey)];
			expect(await answers(sig, msg, pub), `case ${c.index}: ${c.condition}`).toEqual(both(c.valid));
		}
	});

	it('agrees with noble on 200 random signatures, each with a random bit flipped', async () => {
		for (let i = 0; i < 200; i++) {
			const secret = generateSecretKey();
			const publicKey = publicKeyOf(secret);
			const message = crypto.getRandomValues(new Uint8Array(randomInt(200)));
			const signature = signNoble(secret, message);
			expect(await answers(signature, message, publicKey)).toEqual(both(true));

			const parts = { signature, message, publicKey };
			const targets = (['signature', 'message', 'publicKey'] as const).filter((t) => parts[t].length > 0);
			const target = targets[randomInt(targets.length)]!;
			const flipped = new Uint8Array(parts[target]);
			const bit = randomInt(flipped.length * 8);
			flipped[bit >> 3]! ^= 1 << (bit & 7);
			const t = { ...parts, [target]: flipped };
			expect(await answers(t.signature, t.message, t.publicKey), `${target} bit ${bit}`).toEqual(both(false));
		}
	});

	it('createSigner produces the same bytes as noble', async () => {
		for (let i = 0; i < 20; i++) {
			const secret = generateSecretKey();
			const message = crypto.getRandomValues(new Uint8Array(32));
			const signer = await createSigner(secret);
			expect(toHex(signer.publicKey)).toBe(toHex(publicKeyOf(secret)));
			expect(toHex(await signer.sign(message))).toBe(toHex(signNoble(secret, message)));
		}
	});
});
