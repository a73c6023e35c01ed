import { toHex } from '../bytes.js';
import type { Verifier } from '../crypto/verifier.js';
import { testVerifier } from './fixtures.js';

/**
 * Verifies each distinct (signature, message, key) once, then remembers the answer:
 * simulations of many nodes check each block once. The engine is the fixtures' (noble, or
 * Node's OpenSSL in the Node tests: fixtures.ts `useTestEngines`); both answer within the
 * microtasks the virtual clock waits for, so a run does not depend on how busy the machine
 * is (WebCrypto answers from a thread pool, at real-time pace).
 */
export function memoVerifier(inner: Verifier = testVerifier()): Verifier {
	const seen = new Map<string, boolean>();
	return {
		...inner,
		async verify(signature, message, publicKey) {
			const key = `${toHex(signature)}${toHex(message)}${toHex(publicKey)}`;
			const hit = seen.get(key);
			if (hit !== undefined) return hit;
			const ok = await inner.verify(signature, message, publicKey);
			seen.set(key, ok);
			return ok;
		}
	};
}
