/**
 * Signing through Node's OpenSSL in the calling thread, for fixtures and benchmarks that
 * sign many blocks in Node. Kept apart from `verifier.ts` so browser bundles never
 * reference `node:crypto`. WebCrypto in Node sends each signature to the thread pool:
 * building 20,000 blocks took 0.87-1.2 ms per block with it, 0.43 with this (Ed25519 is
 * deterministic: the same bytes either way).
 */
import { createPrivateKey, sign } from 'node:crypto';
import { publicKeyOf } from './ed25519.js';
import type { Signer } from './verifier.js';

/** A signer for the Ed25519 key pair `key` (or the 32-byte seed `key`). */
export function nodeSigner(key: Uint8Array | { secretKey: Uint8Array; publicKey: Uint8Array }): Signer {
	const { secretKey, publicKey } = key instanceof Uint8Array ? { secretKey: key, publicKey: publicKeyOf(key) } : key;
	const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
	const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64(secretKey), x: b64(publicKey) }, format: 'jwk' });
	return { publicKey, sign: async (message) => new Uint8Array(sign(null, message, privateKey)) };
}
