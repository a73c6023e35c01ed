/**
 * Envelopes: how clinical payloads are encrypted before they enter a block.
 *
 * Key hierarchy (docs/privacy.md):
 * - every member's ed25519 signing key doubles as an X25519 encryption key (the standard
 *   birational map, `toMontgomery`), so a reader needs no second key registration;
 * - a data key (32 random bytes) per patient, category and epoch encrypts records with
 *   XChaCha20-Poly1305 (random 24-byte nonces); the epoch increases when access is
 *   revoked, so new data is sealed under a key the revoked reader never had;
 * - the data key is wrapped for each authorized reader: an ephemeral X25519 key agreement
 *   with the reader's key, HKDF-SHA256 into a key-encryption key, XChaCha20-Poly1305.
 *
 * Every ciphertext is bound to its context (network, patient, category, epoch, reader)
 * as associated data: moved to another patient or reader, or changed by a single bit, it
 * fails to open with {@link EnvelopeError}, never yields wrong plaintext.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CodedError, encodeCanonical } from '$lib/core/index.js';

/** Data categories a patient grants separately. */
export const CATEGORIES = ['demographics', 'encounters', 'medications', 'labs', 'mental-health', 'sexual-health', 'financial'] as const;
export type Category = (typeof CATEGORIES)[number];
export const isCategory = (value: unknown): value is Category =>
	typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);

const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const WRAP_INFO = new TextEncoder().encode('clinic-ledger/key-wrap/v1');
const KEY_ID_DOMAIN = new TextEncoder().encode('clinic-ledger/data-key-id/v1');
const KEY_ID_BYTES = 16;

/** Sealed data that cannot be opened (wrong key, other context, damaged): code `ENVELOPE_INVALID`. */
export class EnvelopeError extends CodedError {
	override readonly name = 'EnvelopeError';
	constructor(message: string) {
		super('ENVELOPE_INVALID', message);
	}
}

/** Where a record belongs: bound into its ciphertext. */
export interface RecordContext {
	readonly net: string;
	/** Patient id: the patient's public key (hex). */
	readonly patient: string;
	readonly category: Category;
	readonly epoch: number;
	/** Record id (hex), bound into a record's ciphertext so it cannot be moved to another record. */
	readonly rid?: string;
}

export interface Sealed {
	readonly nonce: Uint8Array;
	readonly ct: Uint8Array;
}

export interface WrappedKey {
	/** Ephemeral X25519 public key of the wrap. */
	readonly eph: Uint8Array;
	readonly nonce: Uint8Array;
	/** The data key, encrypted (32 + 16 bytes). */
	readonly wrapped: Uint8Array;
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A fresh data key. */
export function newDataKey(): Uint8Array {
	return random(KEY_BYTES);
}

/**
 * The key id (`kid`) of a data key: a commitment to the key and to where it belongs.
 * Anyone can wrap some key for a reader under any `kid`; a reader who unwraps a key whose
 * commitment is not the `kid` knows the wrap is bogus, and nobody can find a second key
 * with the same id. Ids of keys made before this rule are random (docs/privacy.md).
 */
export function dataKeyId(dataKey: Uint8Array, context: RecordContext): Uint8Array {
	const where = encodeCanonical({ net: context.net, patient: context.patient, category: context.category, epoch: context.epoch });
	return sha256(new Uint8Array([...KEY_ID_DOMAIN, ...where, ...dataKey])).slice(0, KEY_ID_BYTES);
}

/** True when `kid` is the commitment ({@link dataKeyId}) to `dataKey` in `context`. */
export function isDataKeyId(kid: Uint8Array, dataKey: Uint8Array, context: RecordContext): boolean {
	const expected = dataKeyId(dataKey, context);
	return kid.length === expected.length && kid.every((b, i) => b === expected[i]);
}

/** The X25519 public key that wraps data keys for the holder of an ed25519 key. */
export function encryptionPublicKey(ed25519Public: Uint8Array): Uint8Array {
	return ed25519.utils.toMontgomery(ed25519Public);
}

/** The X25519 secret matching {@link encryptionPublicKey}, from the ed25519 seed. */
export function encryptionSecretKey(ed25519Seed: Uint8Array): Uint8Array {
	return ed25519.utils.toMontgomerySecret(ed25519Seed);
}

const encodeRecordAad = (c: RecordContext) =>
	encodeCanonical({
		v: 1,
		kind: 'record',
		net: c.net,
		patient: c.patient,
		category: c.category,
		epoch: c.epoch,
		...(c.rid ? { rid: c.rid } : {})
	});

/**
 * Each record's AAD with the record id left blank, by the rest of its context: a chart or
 * an export opens thousands of records of one patient, category and epoch, and encoding
 * each one's AAD again took a tenth of an export's time (issue 19). Bounded: cleared past
 * {@link AAD_TEMPLATES}.
 */
const aadTemplates = new Map<string, { bytes: Uint8Array; at: number } | null>();
const AAD_TEMPLATES = 1000;
const HEX = /^[0-9a-f]+$/;

/**
 * The canonical CBOR of a record's context: exactly {@link encodeRecordAad}'s bytes. A hex
 * record id is written into its context's template (made by encoding a blank id of the same
 * length, found as the only run of that many 0x01 bytes); anything else is encoded whole.
 */
export function recordAad(c: RecordContext): Uint8Array {
	const rid = c.rid;
	if (!rid || !HEX.test(rid)) return encodeRecordAad(c);
	const key = `${c.net}\u0000${c.patient}\u0000${c.category}\u0000${c.epoch}\u0000${rid.length}`;
	let template = aadTemplates.get(key);
	if (template === undefined) {
		const blank = '\u0001'.repeat(rid.length);
		const bytes = encodeRecordAad({ ...c, rid: blank });
		const at = indexOfRun(bytes, rid.length);
		// Another field holding such a run (a net's name could): no template, every AAD encoded whole.
		template = at >= 0 && indexOfRun(bytes, rid.length, at + rid.length) < 0 ? { bytes, at } : null;
		if (aadTemplates.size >= AAD_TEMPLATES) aadTemplates.clear();
		aadTemplates.set(key, template);
	}
	if (!template) return encodeRecordAad(c);
	const out = template.bytes.slice();
	for (let i = 0; i < rid.length; i++) out[template.at + i] = rid.charCodeAt(i);
	return out;
}

/** Where the first run of `length` bytes 0x01 starts in `bytes` at or after `from`, or -1. */
function indexOfRun(bytes: Uint8Array, length: number, from = 0): number {
	let run = 0;
	for (let i = from; i < bytes.length; i++) {
		run = bytes[i] === 1 ? run + 1 : 0;
		if (run === length) return i - length + 1;
	}
	return -1;
}
const wrapAad = (c: RecordContext, reader: string) =>
	encodeCanonical({ v: 1, kind: 'wrap', net: c.net, patient: c.patient, category: c.category, epoch: c.epoch, reader });

/** Encrypts `plaintext` under `dataKey`, bound to `context`. */
export function sealRecord(dataKey: Uint8Array, plaintext: Uint8Array, context: RecordContext): Sealed {
	const nonce = random(NONCE_BYTES);
	return { nonce, ct: xchacha20poly1305(dataKey, nonce, recordAad(context)).encrypt(plaintext) };
}

/** Decrypts a sealed record; throws {@link EnvelopeError} if anything was changed or the key or context is wrong. */
export function openRecord(dataKey: Uint8Array, sealed: Sealed, context: RecordContext): Uint8Array {
	if (sealed.nonce.length !== NONCE_BYTES) throw new EnvelopeError('the record nonce has the wrong length');
	try {
		return xchacha20poly1305(dataKey, sealed.nonce, recordAad(context)).decrypt(sealed.ct);
	} catch {
		throw new EnvelopeError('the record does not decrypt: its ciphertext, nonce or context was changed, or the key is not its key');
	}
}

function kek(shared: Uint8Array, eph: Uint8Array, readerX: Uint8Array): Uint8Array {
	if (shared.every((b) => b === 0)) throw new EnvelopeError('key agreement with a small-order key');
	return hkdf(sha256, shared, new Uint8Array([...eph, ...readerX]), WRAP_INFO, KEY_BYTES);
}

/** Montgomery forms of readers' keys, cached: a sealing node wraps for the same few readers again and again. */
const montgomery = new Map<string, Uint8Array>();
function readerX(reader: string, ed25519Public: Uint8Array): Uint8Array {
	let x = montgomery.get(reader);
	if (!x) {
		x = encryptionPublicKey(ed25519Public);
		if (montgomery.size > 4096) montgomery.clear();
		montgomery.set(reader, x);
	}
	return x;
}

/** Wraps `dataKey` for the reader whose ed25519 public key (hex) is `reader`. */
export function wrapKey(dataKey: Uint8Array, reader: string, readerEd25519Public: Uint8Array, context: RecordContext): WrappedKey {
	return wrapKeyFor(dataKey, [{ reader, publicKey: readerEd25519Public }], context)[0]!;
}

/**
 * Wraps `dataKey` for several readers with one ephemeral key pair: each reader's
 * key-encryption key still differs (its own shared secret, and its key in the HKDF salt
 * and in the associated data), and each wrap has its own nonce.
 */
export function wrapKeyFor(
	dataKey: Uint8Array,
	readers: readonly { reader: string; publicKey: Uint8Array }[],
	context: RecordContext
): WrappedKey[] {
	const ephSecret = x25519.utils.randomSecretKey();
	const eph = x25519.getPublicKey(ephSecret);
	try {
		return readers.map(({ reader, publicKey }) => {
			const x = readerX(reader, publicKey);
			const key = kek(x25519.getSharedSecret(ephSecret, x), eph, x);
			const nonce = random(NONCE_BYTES);
			return { eph, nonce, wrapped: xchacha20poly1305(key, nonce, wrapAad(context, reader)).encrypt(dataKey) };
		});
	} finally {
		ephSecret.fill(0);
	}
}

/** Unwraps a data key with the reader's X25519 secret; throws {@link EnvelopeError} when it is not for this reader or was changed. */
export function unwrapKey(wrap: WrappedKey, reader: string, readerSecretX: Uint8Array, context: RecordContext): Uint8Array {
	if (wrap.eph.length !== 32 || wrap.nonce.length !== NONCE_BYTES) throw new EnvelopeError('the wrapped key is malformed');
	const readerX = x25519.getPublicKey(readerSecretX);
	let shared: Uint8Array;
	try {
		shared = x25519.getSharedSecret(readerSecretX, wrap.eph);
	} catch {
		throw new EnvelopeError('the wrapped key has an invalid ephemeral key');
	}
	const key = kek(shared, wrap.eph, readerX);
	try {
		const dataKey = xchacha20poly1305(key, wrap.nonce, wrapAad(context, reader)).decrypt(wrap.wrapped);
		if (dataKey.length !== KEY_BYTES) throw new EnvelopeError('the wrapped key is not a data key'); // caught below
		return dataKey;
	} catch {
		throw new EnvelopeError('the wrapped key does not open: it is not for this reader, or its bytes or context were changed');
	}
}
