/**
 * Signing through Node's OpenSSL in the calling thread, for the simulations, fixtures and
 * benchmarks that sign many blocks in Node. Kept apart from `verifier.ts` so browser
 * bundles never reference `node:crypto` (`createNodeSigner` in node-verifier.ts loads it
 * lazily). WebCrypto in Node sends each signature to the thread pool: building 20,000
 * blocks took 0.87-1.2 ms per block with it, 0.43 with this. Ed25519 is deterministic:
 * the signatures are byte-identical to `nobleSigner`'s (tests/unit/core/crypto/ed25519.test.ts).
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { assertBytes, concatBytes } from '../bytes.js';
import { SECRET_KEY_BYTES } from './ed25519.js';
import { PKCS8_ED25519_PREFIX, type Signer } from './verifier.js';

/** A signer for the 32-byte Ed25519 seed `secret` (or a key pair's `secretKey`). */
export function nodeSigner(key: Uint8Array | { secretKey: Uint8Array }): Signer {
	const secret = key instanceof Uint8Array ? key : key.secretKey;
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const pkcs8 = Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, secret));
	let privateKey: KeyObject;
	try {
		privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
	} finally {
		pkcs8.fill(0);
	}
	const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
	return {
		publicKey: new Uint8Array(Buffer.from(x!, 'base64url')),
		async sign(message) {
			assertBytes(message, 'message');
			return new Uint8Array(sign(null, message, privateKey));
		}
	};
}
