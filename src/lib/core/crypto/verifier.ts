/**
 * Signature verification and signing behind small interfaces, so the ledger uses the
 * browser's native Ed25519 where it exists and @noble/curves elsewhere, with the same
 * answers on every input: each path runs {@link precheckSignature} before its engine, and
 * {@link detectVerifier} only picks WebCrypto after checking it computes the same
 * (cofactorless) equation as the reference.
 */
import { assertBytes, concatBytes, fromHex, toHex } from '../bytes.js';
import { nobleSigningKey, precheckSignature, publicKeyOf, SECRET_KEY_BYTES, verifyNoble } from './ed25519.js';

/** Checks Ed25519 signatures under the strict rule of `ed25519.ts`. */
export interface Verifier {
	/** Which engine answers; for diagnostics and benchmarks, never for validity. */
	readonly name: 'webcrypto' | 'noble' | 'node';
	/** True only for a valid signature; malformed input is false, never a rejection. */
	verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
}

/** Signs with one secret key. */
export interface Signer {
	/** The 32-byte public key of the secret this signer holds. */
	readonly publicKey: Uint8Array;
	/** The 64-byte Ed25519 signature of `message`. */
	sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * Keys imported into an engine, least recently used evicted first: importing costs about
 * as much as a verification, and the bound keeps a flood of distinct keys from growing
 * memory without limit.
 */
export class KeyCache<V> {
	readonly #entries = new Map<string, V>();

	/** @param capacity - most keys kept at once. */
	constructor(readonly capacity = 1024) {}

	/** The key cached under `id`, marked as recently used. */
	get(id: string): V | undefined {
		const value = this.#entries.get(id);
		if (value !== undefined) {
			this.#entries.delete(id);
			this.#entries.set(id, value);
		}
		return value;
	}

	/** Caches `value` under `id`, evicting the least recently used key when full. */
	set(id: string, value: V): void {
		this.#entries.delete(id);
		this.#entries.set(id, value);
		if (this.#entries.size > this.capacity) {
			const oldest = this.#entries.keys().next();
			if (!oldest.done) this.#entries.delete(oldest.value);
		}
	}

	/** Forgets `id` if it is still cached as `value` (a later import may have replaced it). */
	deleteIf(id: string, value: V): void {
		if (this.#entries.get(id) === value) this.#entries.delete(id);
	}

	/** Number of cached keys. */
	get size(): number {
		return this.#entries.size;
	}
}

/** The reference verifier: pure JavaScript, available everywhere. */
export const nobleVerifier: Verifier = {
	name: 'noble',
	verify: async (signature, message, publicKey) => verifyNoble(signature, message, publicKey)
};

/** A copy backed by a plain ArrayBuffer, which is what WebCrypto accepts. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

/** A verifier on a WebCrypto implementation with Ed25519 (Chromium 137+, Firefox 129+, Safari 17+, Node 20). */
export function createWebCryptoVerifier(subtle: SubtleCrypto): Verifier {
	const keys = new KeyCache<Promise<CryptoKey>>();
	function importKey(publicKey: Uint8Array): Promise<CryptoKey> {
		const id = toHex(publicKey);
		let key = keys.get(id);
		if (key === undefined) {
			const imported = subtle.importKey('raw', own(publicKey), { name: 'Ed25519' }, false, ['verify']);
			imported.catch(() => keys.deleteIf(id, imported));
			keys.set(id, imported);
			key = imported;
		}
		return key;
	}
	return {
		name: 'webcrypto',
		async verify(signature, message, publicKey) {
			if (!(message instanceof Uint8Array) || !precheckSignature(publicKey, signature)) return false;
			// Copied before the first await so a caller reusing its buffers cannot change the answer.
			const sig = own(signature);
			const msg = own(message);
			try {
				return await subtle.verify('Ed25519', await importKey(publicKey), sig, msg);
			} catch {
				return false;
			}
		}
	};
}

/**
 * Probes a candidate must answer like the reference. Speccheck cases 3 and 4 pass the
 * precheck and tell the cofactorless equation (3 true, 4 false) from the cofactored one
 * (both true); an engine using the latter would split consensus.
 */
const PROBES: readonly { pub: string; msg: string; sig: string; valid: boolean }[] = [
	{
		// RFC 8032 §7.1 TEST 1.
		pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
		msg: '',
		sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
		valid: true
	},
	{
		// TEST 1 with R's last byte changed from 0x55 to 0x54.
		pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
		msg: '',
		sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901545fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
		valid: false
	},
	{
		// Speccheck case 3: mixed-order A and R, valid under both equations.
		pub: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
		msg: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
		sig: '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
		valid: true
	},
	{
		// Speccheck case 4: valid under the cofactored equation only.
		pub: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
		msg: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
		sig: '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
		valid: false
	}
];

async function answersLikeReference(candidate: Verifier): Promise<boolean> {
	for (const probe of PROBES) {
		const answer = await candidate.verify(fromHex(probe.sig), fromHex(probe.msg), fromHex(probe.pub));
		if (answer !== probe.valid) return false;
	}
	return true;
}

let detected: Promise<Verifier> | undefined;

async function detect(): Promise<Verifier> {
	const subtle = globalThis.crypto?.subtle;
	if (subtle === undefined) return nobleVerifier;
	const candidate = createWebCryptoVerifier(subtle);
	try {
		if (await answersLikeReference(candidate)) return candidate;
	} catch {
		// An engine that throws on probes is treated like one that lacks Ed25519.
	}
	return nobleVerifier;
}

/**
 * The fastest verifier that answers exactly like the reference: WebCrypto when it has
 * Ed25519 and passes the probes, otherwise noble. Detected once per page or process.
 */
export async function detectVerifier(): Promise<Verifier> {
	detected ??= detect();
	return detected;
}

/** A signer on @noble/curves; it keeps the key derived from `secret` (the scalar and prefix), not `secret` itself. */
export function nobleSigner(secret: Uint8Array): Signer {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const sign = nobleSigningKey(secret);
	return {
		publicKey: publicKeyOf(secret),
		sign: async (message) => sign(message)
	};
}

/** DER header of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows. */
export const PKCS8_ED25519_PREFIX = fromHex('302e020100300506032b657004220420');

/** `secret` imported as a non-extractable WebCrypto signing key. Rejects when the implementation lacks Ed25519. */
export async function importSigningKey(subtle: SubtleCrypto, secret: Uint8Array): Promise<CryptoKey> {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const pkcs8 = own(concatBytes(PKCS8_ED25519_PREFIX, secret));
	try {
		return await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
	} finally {
		pkcs8.fill(0);
	}
}

/** A signer over a WebCrypto Ed25519 signing key whose public key is `publicKey`. */
export function webCryptoKeySigner(subtle: SubtleCrypto, key: CryptoKey, publicKey: Uint8Array): Signer {
	return {
		publicKey,
		async sign(message) {
			assertBytes(message, 'message');
			return new Uint8Array(await subtle.sign('Ed25519', key, own(message)));
		}
	};
}

/**
 * A signer holding `secret` as a non-extractable WebCrypto key. Rejects when the
 * implementation lacks Ed25519. Signatures are byte-identical to {@link nobleSigner}'s,
 * since Ed25519 signing is deterministic.
 */
export async function createWebCryptoSigner(subtle: SubtleCrypto, secret: Uint8Array): Promise<Signer> {
	return webCryptoKeySigner(subtle, await importSigningKey(subtle, secret), publicKeyOf(secret));
}

/**
 * A signer for `secret`: WebCrypto where it has Ed25519 (the signer then keeps no copy of
 * the secret in JavaScript memory), otherwise noble.
 */
export async function createSigner(secret: Uint8Array): Promise<Signer> {
	assertBytes(secret, 'secret', SECRET_KEY_BYTES);
	const subtle = globalThis.crypto?.subtle;
	if (subtle !== undefined) {
		try {
			return await createWebCryptoSigner(subtle, secret);
		} catch {
			// No Ed25519 in this WebCrypto: noble signs the same bytes.
		}
	}
	return nobleSigner(secret);
}
