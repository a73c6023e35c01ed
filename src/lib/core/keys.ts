import { generateSecretKey, publicKeyOf } from './crypto/ed25519.js';

/** An ed25519 key pair: the 32-byte secret seed and its public key. */
export interface KeyPair {
	readonly secretKey: Uint8Array;
	readonly publicKey: Uint8Array;
}

/** A fresh key pair from the platform's CSPRNG. */
export function generateKeyPair(): KeyPair {
	const secretKey = generateSecretKey();
	return { secretKey, publicKey: publicKeyOf(secretKey) };
}
