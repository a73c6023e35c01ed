/**
 * Verification and signing through Node's OpenSSL, for the headless peer, benchmarks and
 * tests. Kept apart from `verifier.ts` so browser bundles never reference `node:crypto`.
 */
import type { KeyObject } from 'node:crypto';
import { assertBytes, toHex } from '../bytes.js';
import { precheckSignature, SECRET_KEY_BYTES } from './ed25519.js';
import { KeyCache, type Signer, type Verifier } from './verifier.js';

/**
 * A verifier on `node:crypto`. Loads the module lazily, hence the promise. OpenSSL
 * computes the same cofactorless equation as the reference; the precheck removes the
 * inputs on which it is more lenient (small-order and non-canonical points).
 */
export async function createNodeVerifier(): Promise<Verifier> {
	const { createPublicKey, verify } = await import('node:crypto');
	const keys = new KeyCache<KeyObject>();
	function keyObject(publicKey: Uint8Array): KeyObject {
		const id = toHex(publicKey);
		let key = keys.get(id);
		if (key === undefined) {
			const x = Buffer.from(publicKey).toString('base64url');
			key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
			keys.set(id, key);
		}
		return key;
	}
	return {
		name: 'node',
		async verify(signature, message, publicKey) {
			if (!(message instanceof Uint8Array) || !precheckSignature(publicKey, signature)) return false;
			try {
				return verify(null, message, keyObject(publicKey), signature);
			} catch {
				return false;
			}
		}
	};
}

/**
 * A signer on `node:crypto`, answering synchronously (within the microtasks a virtual clock
 * waits for, like noble) at OpenSSL's speed. Signatures are byte-identical to
 * `nobleSigner`'s, since Ed25519 signing is deterministic. Loads the module lazily, hence
 * the promise.
 */
export async function createNodeSigner(secret: Uint8Array): Promise<Signer> {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const { nodeSigner } = await import('./node-signer.js');
	return nodeSigner(secret);
}
