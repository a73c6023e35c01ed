/**
 * Ed25519 with one strict validity rule, because signature validity is consensus: every
 * node must accept exactly the same (signature, message, key) triples whichever engine
 * checks them. The rule:
 *
 * - A and R are canonical encodings (y < p, no sign bit on x = 0) and neither is one of
 *   the 8 small-order points;
 * - S < L;
 * - the cofactorless equation [S]B = R + [k]A holds, k = SHA-512(R || A || M) mod L.
 *
 * BoringSSL (Chromium WebCrypto) and OpenSSL (Node) check that equation but accept
 * small-order points and one non-canonical A; {@link precheckSignature} runs in front of
 * every engine so those differences never reach the engine. @noble/curves' own `verify`
 * checks the cofactored equation, which accepts some mixed-order signatures the others
 * reject, so {@link verifyNoble} computes the cofactorless equation itself.
 * Test vectors: RFC 8032 §7.1 and "Taming the many EdDSAs" (Chalkias et al., 2020).
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { assertBytes, bytesEqual, concatBytes, toHex } from '../bytes.js';

/** Length of a secret key (the RFC 8032 seed). */
export const SECRET_KEY_BYTES = 32;
/** Length of an encoded public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of a signature, R || S. */
export const SIGNATURE_BYTES = 64;

const Point = ed25519.Point;
/** Field prime p = 2^255 - 19. */
const P = Point.Fp.ORDER;
/** Prime subgroup order L = 2^252 + 27742317777372353535851937790883648493. */
const L = Point.Fn.ORDER;
const Y_MASK = (1n << 255n) - 1n;
/** Canonical encodings of the 8 points of order dividing 8 (non-canonical ones fail earlier). */
const SMALL_ORDER = new Set(ED25519_TORSION_SUBGROUP);

/**
 * True when `bytes` is the one encoding its point would be given: y < p, and the sign bit
 * is clear when x = 0 (x = 0 exactly when y = ±1). Whether y lies on the curve at all is
 * left to the engine, which fails such keys and never produces such an R.
 */
function isCanonicalPoint(bytes: Uint8Array): boolean {
	const y = bytesToNumberLE(bytes) & Y_MASK;
	if (y >= P) return false;
	const signBit = (bytes[31]! & 0x80) !== 0;
	return !(signBit && (y === 1n || y === P - 1n));
}

/**
 * The checks every verification path runs before its engine so all paths agree: lengths,
 * canonical A and R, neither of small order, S < L. Rejecting small-order A also blocks
 * keys under which one signature verifies for many messages. Never throws.
 */
export function precheckSignature(publicKey: Uint8Array, signature: Uint8Array): boolean {
	if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return false;
	if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
	const r = signature.subarray(0, 32);
	if (!isCanonicalPoint(publicKey) || !isCanonicalPoint(r)) return false;
	if (SMALL_ORDER.has(toHex(publicKey)) || SMALL_ORDER.has(toHex(r))) return false;
	return bytesToNumberLE(signature.subarray(32, 64)) < L;
}

/**
 * Strict cofactorless verification with @noble/curves: the reference that every other
 * path must match. Compares encodings of [S]B - [k]A and R, which is point equality since
 * R is canonical, and needs no decompression of R: an R off the curve simply never
 * matches. Never throws; malformed input is false.
 */
export function verifyNoble(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
	if (!(message instanceof Uint8Array) || !precheckSignature(publicKey, signature)) return false;
	try {
		const A = Point.fromBytes(publicKey, false);
		const r = signature.subarray(0, 32);
		const s = bytesToNumberLE(signature.subarray(32, 64));
		const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(r, publicKey, message))));
		const expectedR = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
		return bytesEqual(expectedR.toBytes(), r);
	} catch {
		// A whose y has no x on the curve.
		return false;
	}
}

/** A new random 32-byte secret key (the RFC 8032 seed), from the platform CSPRNG. */
export function generateSecretKey(): Uint8Array {
	return ed25519.utils.randomSecretKey();
}

/** The 32-byte public key of a 32-byte secret key. Throws a labelled TypeError on bad input. */
export function publicKeyOf(secret: Uint8Array): Uint8Array {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	return ed25519.getPublicKey(secret);
}

/**
 * RFC 8032 Ed25519 signature of `message` with @noble/curves. Deterministic: the same
 * bytes as any other conforming signer. Throws a labelled TypeError on bad input.
 */
export function signNoble(secret: Uint8Array, message: Uint8Array): Uint8Array {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	assertBytes(message, 'message');
	return ed25519.sign(message, secret);
}

/**
 * A signing function for one secret that derives the key once (RFC 8032 §5.1.5: the
 * scalar, the prefix and the public point): `ed25519.sign` derives it on every call, a
 * second scalar multiplication as costly as the signature's own. Computes §5.1.6 as
 * `ed25519.sign` does, so the bytes are the same (tested against it and RFC 8032's vectors).
 */
export function nobleSigningKey(secret: Uint8Array): (message: Uint8Array) => Uint8Array {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const { prefix, scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(secret);
	const Fn = Point.Fn;
	const scalarOf = (...parts: Uint8Array[]) => Fn.create(bytesToNumberLE(sha512(concatBytes(...parts))));
	return (message) => {
		assertBytes(message, 'message');
		const m = new Uint8Array(message);
		const r = scalarOf(prefix, m);
		// multiply (not multiplyUnsafe): constant time in the secret nonce, and it refuses r = 0 as noble's sign does.
		const R = Point.BASE.multiply(r).toBytes();
		const s = Fn.create(r + scalarOf(R, pointBytes, m) * scalar);
		return concatBytes(R, Fn.toBytes(s));
	};
}
