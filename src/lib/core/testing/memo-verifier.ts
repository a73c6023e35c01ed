import { toHex } from '../bytes.js';
import { nobleVerifier, type Verifier } from '../crypto/verifier.js';

/**
 * Verifies each distinct (signature, message, key) once with noble, then remembers the
 * answer: simulations of many nodes check each block once, and noble's checks complete
 * within the microtasks the virtual clock waits for, so a run does not depend on how
 * busy the machine is (native WebCrypto answers from a thread pool, at real-time pace).
 */
export function memoVerifier(inner: Verifier = nobleVerifier): Verifier {
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
