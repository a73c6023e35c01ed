/**
 * Patient key cards. A patient's key is an ed25519 key pair: its public half is the
 * patient's pseudonymous id on the ledger; its secret signs consent and opens the
 * patient's own data. The card carries the secret encrypted under the patient's PIN
 * (scrypt calibrated like device keys, XChaCha20-Poly1305 bound to the public key) as a
 * QR code and the same text to type: `CLK1.` + base64url(CBOR [public key, created,
 * N, r, p, salt, cost, nonce, ciphertext, checksum]). The clinic never stores the secret;
 * it scans the card when the patient is present and the patient types the PIN.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	bytesEqual,
	CodedError,
	decodeCanonical,
	encodeCanonical,
	generateSecretKey,
	publicKeyOf,
	toHex,
	type CborValue
} from '$lib/core/index.js';
import { decryptIdentity, encryptIdentity, KeystoreError, type EncryptedKey, type OnProgress, type ScryptParams } from '../keystore.js';

export const CARD_PREFIX = 'CLK1.';
/** A lost card is protected by its PIN alone (docs/privacy.md): 8 digits at the least. */
export const MIN_PIN_CHARS = 8;

/** A key card refused (not a card, damaged, mistyped, wrong PIN, PIN too short): code `CARD_INVALID`. */
export class CardError extends CodedError {
	override readonly name = 'CardError';
	constructor(message: string) {
		super('CARD_INVALID', message);
	}
}

/** A new patient key pair. */
export function newPatientKey(): { seed: Uint8Array; patient: string } {
	const seed = generateSecretKey();
	return { seed, patient: toHex(publicKeyOf(seed)) };
}

const b64url = (bytes: Uint8Array) =>
	btoa(String.fromCharCode(...bytes))
		.replace(/\+/g, '-')
		.replace(/\//g, '_')
		.replace(/=+$/, '');
function fromB64url(text: string): Uint8Array {
	const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
	const raw = atob(padded);
	return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** The card's text for `seed` under `pin` (at least 8 characters; digits are fine). */
export async function encodeCard(
	seed: Uint8Array,
	pin: string,
	options: { params?: ScryptParams; onProgress?: OnProgress; createdAt?: number } = {}
): Promise<string> {
	if (pin.length < MIN_PIN_CHARS) throw new CardError(`A card PIN needs at least ${MIN_PIN_CHARS} digits or characters.`);
	const key = await encryptIdentity({ secretKey: seed, publicKey: publicKeyOf(seed), createdAt: options.createdAt ?? Date.now() }, pin, {
		purpose: 'card',
		...(options.params ? { params: options.params } : {}),
		...(options.onProgress ? { onProgress: options.onProgress } : {})
	});
	const fields: CborValue[] = [
		key.publicKey,
		key.createdAt,
		key.kdf.N,
		key.kdf.r,
		key.kdf.p,
		key.kdf.salt,
		key.kdf.costMs,
		key.nonce,
		key.ciphertext
	];
	const body = encodeCanonical(fields);
	return CARD_PREFIX + b64url(encodeCanonical([...fields, sha256(body).slice(0, 4)]));
}

/** The public part of a card's text (the patient id), checked; throws {@link CardError} when it is not a card or was mistyped. */
export function readCard(text: string): { patient: string; key: EncryptedKey } {
	const trimmed = text.replace(/\s+/g, '');
	if (!trimmed.startsWith(CARD_PREFIX)) throw new CardError(`This is not a patient key card (its code starts with ${CARD_PREFIX}).`);
	let fields: CborValue[];
	try {
		fields = decodeCanonical(fromB64url(trimmed.slice(CARD_PREFIX.length))) as CborValue[];
	} catch {
		throw new CardError('The key card code is damaged or incomplete. Scan it again or type it carefully.');
	}
	if (!Array.isArray(fields) || fields.length !== 10) throw new CardError('The key card code is damaged or incomplete.');
	const checksum = fields[9] as Uint8Array;
	const body = encodeCanonical(fields.slice(0, 9));
	if (!(checksum instanceof Uint8Array) || !bytesEqual(checksum, sha256(body).slice(0, 4)))
		throw new CardError('The key card code does not match its checksum: a character was mistyped.');
	const [publicKey, createdAt, N, r, p, salt, costMs, nonce, ciphertext] = fields as [
		Uint8Array,
		number,
		number,
		number,
		number,
		Uint8Array,
		number,
		Uint8Array,
		Uint8Array
	];
	const key: EncryptedKey = {
		version: 2,
		publicKey,
		createdAt,
		kdf: { name: 'scrypt', N, r, p, salt, costMs },
		cipher: 'xchacha20-poly1305',
		nonce,
		ciphertext
	};
	return { patient: toHex(publicKey), key };
}

/** The patient's seed from the card and PIN; throws {@link CardError} for a wrong PIN or a damaged card. */
export async function openCard(text: string, pin: string, onProgress?: OnProgress): Promise<{ seed: Uint8Array; patient: string }> {
	const { patient, key } = readCard(text);
	try {
		const plain = await decryptIdentity(key, pin, { purpose: 'card', ...(onProgress ? { onProgress } : {}) });
		return { seed: plain.secretKey, patient };
	} catch (error) {
		if (error instanceof KeystoreError) throw new CardError(error.message);
		throw error;
	}
}
