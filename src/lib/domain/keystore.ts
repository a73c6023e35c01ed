/**
 * The node key at rest: encrypted under a passphrase-derived key, in this browser's
 * IndexedDB record and in backup files. Pure functions over bytes and strings (no
 * storage, no DOM), so every path runs in Node tests exactly as in the browser.
 *
 * Key derivation is scrypt (@noble/hashes), its cost measured on the device that
 * encrypts: {@link calibrate} raises N (then p) until one derivation takes at least
 * {@link MIN_COST_MS}. Encryption is XChaCha20-Poly1305 (@noble/ciphers) with a random
 * 24-byte nonce; its associated data names the purpose (stored record or backup file)
 * and the public key, so a record moved under another key, or a backup ciphertext pasted
 * into a stored record, fails to open. docs/keys.md describes both formats; the backup
 * file's text format is in key-backup.ts.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { bytesEqual, CodedError, publicKeyOf, toHex } from '$lib/core/index.js';
import { scrypt } from './kdf.js';

/** Version of the encrypted record kept in IndexedDB (version 1 was the unencrypted key pair). */
export const KEY_RECORD_VERSION = 2;
/** The least time one key derivation takes on the device that encrypts, ms. */
export const MIN_COST_MS = 100;
export const MIN_PASSPHRASE_CHARS = 8;
/** Longer inputs are refused before they reach scrypt. */
export const MAX_PASSPHRASE_CHARS = 1024;

/** Where calibration starts: 32 MiB of scrypt memory (128·N·r bytes). */
const START_N = 2 ** 15;
/** Calibration stops raising N here (128 MiB, fine for a browser tab) and raises p instead. */
const MAX_CALIBRATED_N = 2 ** 17;
const MAX_CALIBRATED_P = 16;
/** What a record may ask of the device that opens it: bounds a hostile backup file. */
const MIN_N = 2 ** 10;
const MAX_MEMORY = 256 * 1024 * 1024;
export const SALT_BYTES = 16;
export const NONCE_BYTES = 24;
const SECRET_BYTES = 32;
const TAG_BYTES = 16;
export const CIPHERTEXT_BYTES = SECRET_BYTES + TAG_BYTES;

/** scrypt's work factors. */
export interface ScryptParams {
	readonly N: number;
	readonly r: number;
	readonly p: number;
}

/** How the key-encryption key was derived: scrypt parameters, salt and the measured cost. */
export interface KdfParams extends ScryptParams {
	readonly name: 'scrypt';
	readonly salt: Uint8Array;
	/** Time one derivation took on the device that encrypted, ms (informative). */
	readonly costMs: number;
}

/** A node key encrypted under a passphrase: the stored record (IndexedDB, version 2). */
export interface EncryptedKey {
	readonly version: typeof KEY_RECORD_VERSION;
	readonly publicKey: Uint8Array;
	/** When the key pair was made, ms since the epoch. */
	readonly createdAt: number;
	readonly kdf: KdfParams;
	readonly cipher: 'xchacha20-poly1305';
	readonly nonce: Uint8Array;
	/** The 32-byte ed25519 seed, encrypted, followed by the 16-byte Poly1305 tag. */
	readonly ciphertext: Uint8Array;
}

/** A node key pair in memory, as unlocked. */
export interface PlainKey {
	readonly secretKey: Uint8Array;
	readonly publicKey: Uint8Array;
	readonly createdAt: number;
}

/**
 * Stored record or backup file: the associated data differs, so the ciphertext of one
 * does not open as the other.
 */
export type KeyPurpose = 'stored' | 'backup' | 'card';

/** Fraction done (0..1) of the key derivation under way. */
export type OnProgress = (fraction: number) => void;

export type KeystoreErrorCode =
	| 'WRONG_PASSPHRASE'
	| 'BAD_PASSPHRASE'
	| 'DAMAGED_RECORD'
	| 'NOT_A_BACKUP'
	| 'UNSUPPORTED_BACKUP'
	| 'DAMAGED_BACKUP'
	| 'FOREIGN_BACKUP'
	| 'KEY_CHANGED'
	| 'NO_KEY';

/** A key operation refused, with a stable code and a sentence a person can act on. */
export class KeystoreError extends CodedError {
	override readonly name = 'KeystoreError';
	declare readonly code: KeystoreErrorCode;
	constructor(code: KeystoreErrorCode, message: string) {
		super(code, message);
	}
}

/** Why a passphrase cannot be chosen, or null. `confirm`, when given, must repeat it. */
export function passphraseProblem(passphrase: string, confirm?: string): string | null {
	if (passphrase.length < MIN_PASSPHRASE_CHARS) return `The passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters long.`;
	if (passphrase.length > MAX_PASSPHRASE_CHARS) return `The passphrase must be at most ${MAX_PASSPHRASE_CHARS} characters long.`;
	if (passphrase.trim().length === 0) return 'The passphrase cannot be only spaces.';
	if (confirm !== undefined && confirm !== passphrase) return 'The two passphrases differ. Type the same passphrase twice.';
	return null;
}

function checkPassphrase(passphrase: string): void {
	if (typeof passphrase !== 'string' || passphrase.length === 0) throw new KeystoreError('BAD_PASSPHRASE', 'Type the passphrase.');
	if (passphrase.length > MAX_PASSPHRASE_CHARS)
		throw new KeystoreError('BAD_PASSPHRASE', `The passphrase must be at most ${MAX_PASSPHRASE_CHARS} characters long.`);
}

/** Why scrypt parameters are unacceptable to open a record, or null. */
function paramsProblem(params: ScryptParams): string | null {
	const { N, r, p } = params;
	if (!Number.isSafeInteger(N) || N < MIN_N || (N & (N - 1)) !== 0) return `scrypt N must be a power of two of at least ${MIN_N}`;
	if (!Number.isSafeInteger(r) || r < 1 || r > 32) return 'scrypt r must be 1 to 32';
	if (!Number.isSafeInteger(p) || p < 1 || p > MAX_CALIBRATED_P) return `scrypt p must be 1 to ${MAX_CALIBRATED_P}`;
	if (128 * N * r > MAX_MEMORY) return `scrypt N·r asks for more than ${MAX_MEMORY / 2 ** 20} MiB`;
	return null;
}

/** The passphrase as bytes: NFKC first, so one passphrase typed on two keyboards matches. */
function passphraseBytes(passphrase: string): Uint8Array {
	return new TextEncoder().encode(passphrase.normalize('NFKC'));
}

async function derive(passphrase: string, salt: Uint8Array, params: ScryptParams, onProgress?: OnProgress): Promise<Uint8Array> {
	const password = passphraseBytes(passphrase);
	try {
		return await scrypt(password, salt, { ...params, maxmem: MAX_MEMORY + 4096 }, onProgress);
	} finally {
		password.fill(0);
	}
}

function associatedData(purpose: KeyPurpose, publicKey: Uint8Array): Uint8Array {
	const label = new TextEncoder().encode(
		purpose === 'stored'
			? 'clinic-ledger stored node key v2\0'
			: purpose === 'card'
				? 'clinic-ledger patient key card v1\0'
				: 'clinic-ledger key backup v1\0'
	);
	const out = new Uint8Array(label.length + publicKey.length);
	out.set(label);
	out.set(publicKey, label.length);
	return out;
}

/** A measured scrypt setting of this device, and the key derived while measuring it. */
interface Measured {
	readonly params: ScryptParams;
	readonly costMs: number;
	readonly key: Uint8Array;
}

export interface CalibrateOptions {
	/** Least cost of one derivation, ms; defaults to {@link MIN_COST_MS}. */
	readonly minMs?: number;
	readonly onProgress?: OnProgress;
	/** Clock, ms; defaults to performance.now. */
	readonly now?: () => number;
}

async function measure(passphrase: string, salt: Uint8Array, options: CalibrateOptions): Promise<Measured> {
	const minMs = options.minMs ?? MIN_COST_MS;
	const now = options.now ?? (() => performance.now());
	let params: ScryptParams = { N: START_N, r: 8, p: 1 };
	for (;;) {
		const started = now();
		const key = await derive(passphrase, salt, params, options.onProgress);
		const costMs = now() - started;
		const atLimit = params.N >= MAX_CALIBRATED_N && params.p >= MAX_CALIBRATED_P;
		if (costMs >= minMs || atLimit) return { params, costMs, key };
		key.fill(0);
		// Jump straight to the estimated setting (cost is linear in N and in p), at least doubling.
		const factor = 2 ** Math.max(1, Math.ceil(Math.log2(minMs / Math.max(costMs, 1))));
		const N = Math.min(MAX_CALIBRATED_N, params.N * factor);
		const p = N === params.N ? Math.min(MAX_CALIBRATED_P, params.p * factor) : params.p;
		params = { N, r: params.r, p };
	}
}

/**
 * Measures this device: scrypt with r = 8, p = 1 and N from 2^15 upwards (then p, once N
 * reaches 2^17) until one derivation takes at least `minMs`. Resolves to the setting and
 * the measured cost of its derivation.
 */
export async function calibrate(options: CalibrateOptions = {}): Promise<{ params: ScryptParams; costMs: number }> {
	const { params, costMs, key } = await measure(toHex(randomBytes(16)), randomBytes(SALT_BYTES), options);
	key.fill(0);
	return { params, costMs };
}

export interface EncryptOptions {
	readonly purpose: KeyPurpose;
	/**
	 * scrypt setting to use as is (a setting measured earlier on this device, or a cheap
	 * one in tests). Without it, the device is measured ({@link calibrate}) with this very
	 * passphrase and salt, so the measured derivation is the one that encrypts.
	 */
	readonly params?: ScryptParams;
	readonly minMs?: number;
	readonly onProgress?: OnProgress;
	readonly now?: () => number;
}

/** The key pair encrypted under `passphrase`, with its derivation setting and a fresh salt and nonce. */
export async function encryptIdentity(key: PlainKey, passphrase: string, options: EncryptOptions): Promise<EncryptedKey> {
	checkPassphrase(passphrase);
	checkPlainKey(key);
	const salt = randomBytes(SALT_BYTES);
	const now = options.now ?? (() => performance.now());
	let measured: Measured;
	if (options.params) {
		const problem = paramsProblem(options.params);
		if (problem) throw new TypeError(`encryptIdentity: ${problem}`);
		const started = now();
		const derived = await derive(passphrase, salt, options.params, options.onProgress);
		measured = { params: options.params, costMs: now() - started, key: derived };
	} else {
		measured = await measure(passphrase, salt, options);
	}
	const nonce = randomBytes(NONCE_BYTES);
	try {
		const ciphertext = xchacha20poly1305(measured.key, nonce, associatedData(options.purpose, key.publicKey)).encrypt(key.secretKey);
		const { N, r, p } = measured.params;
		return {
			version: KEY_RECORD_VERSION,
			publicKey: new Uint8Array(key.publicKey),
			createdAt: key.createdAt,
			kdf: { name: 'scrypt', N, r, p, salt, costMs: Math.round(measured.costMs) },
			cipher: 'xchacha20-poly1305',
			nonce,
			ciphertext
		};
	} finally {
		measured.key.fill(0);
	}
}

/**
 * The key pair inside `record`. Throws {@link KeystoreError} `WRONG_PASSPHRASE` when the
 * passphrase does not open it (a changed ciphertext, nonce, salt or public key fails the
 * same way: the tag cannot tell them apart).
 */
export async function decryptIdentity(
	record: EncryptedKey,
	passphrase: string,
	options: { purpose: KeyPurpose; onProgress?: OnProgress }
): Promise<PlainKey> {
	checkPassphrase(passphrase);
	const checked = checkEncryptedKey(record, options.purpose);
	const derived = await derive(passphrase, checked.kdf.salt, checked.kdf, options.onProgress);
	let secretKey: Uint8Array;
	try {
		secretKey = xchacha20poly1305(derived, checked.nonce, associatedData(options.purpose, checked.publicKey)).decrypt(checked.ciphertext);
	} catch {
		throw new KeystoreError(
			'WRONG_PASSPHRASE',
			options.purpose === 'stored'
				? 'Wrong passphrase.'
				: options.purpose === 'card'
					? 'Wrong PIN for this key card.'
					: 'Wrong passphrase for this backup file.'
		);
	} finally {
		derived.fill(0);
	}
	// Unreachable without the passphrase: whoever encrypted a mismatched pair knew it.
	if (!bytesEqual(publicKeyOf(secretKey), checked.publicKey)) {
		secretKey.fill(0);
		throw damagedKeyError(options.purpose, 'the secret key inside does not match its public key');
	}
	return { secretKey, publicKey: new Uint8Array(checked.publicKey), createdAt: checked.createdAt };
}

/** The refusal of a damaged stored record, backup file or key card, saying what is wrong. */
export function damagedKeyError(purpose: KeyPurpose, why: string): KeystoreError {
	if (purpose === 'card')
		return new KeystoreError('DAMAGED_BACKUP', `The key card code is damaged (${why}). Scan it again or type it carefully.`);
	return purpose === 'stored'
		? new KeystoreError(
				'DAMAGED_RECORD',
				`The encrypted key stored in this browser is damaged (${why}); it was not changed. Restore it from a backup file, or clear this site's data to start a new node.`
			)
		: new KeystoreError('DAMAGED_BACKUP', `The backup file is damaged (${why}). Nothing was changed.`);
}

function checkPlainKey(key: PlainKey): void {
	const ok =
		key.secretKey instanceof Uint8Array &&
		key.secretKey.length === SECRET_BYTES &&
		key.publicKey instanceof Uint8Array &&
		key.publicKey.length === 32 &&
		Number.isFinite(key.createdAt) &&
		bytesEqual(publicKeyOf(key.secretKey), key.publicKey);
	if (!ok) throw new TypeError('encryptIdentity: expected a 32-byte ed25519 seed, its public key and a creation time');
}

/** `value` as an encrypted key record, or a labelled {@link KeystoreError}. */
export function checkEncryptedKey(value: unknown, purpose: KeyPurpose = 'stored'): EncryptedKey {
	const v = value as Partial<EncryptedKey> | null;
	if (v === null || typeof v !== 'object') throw damagedKeyError(purpose, 'not a record');
	if (v.version !== KEY_RECORD_VERSION) throw damagedKeyError(purpose, `unknown version ${String(v.version)}`);
	if (!(v.publicKey instanceof Uint8Array) || v.publicKey.length !== 32) throw damagedKeyError(purpose, 'the public key is not 32 bytes');
	if (typeof v.createdAt !== 'number' || !Number.isFinite(v.createdAt)) throw damagedKeyError(purpose, 'no creation time');
	const kdf = v.kdf as Partial<KdfParams> | undefined;
	if (!kdf || kdf.name !== 'scrypt') throw damagedKeyError(purpose, 'unknown key derivation');
	const problem = paramsProblem({ N: kdf.N as number, r: kdf.r as number, p: kdf.p as number });
	if (problem) throw damagedKeyError(purpose, problem);
	if (!(kdf.salt instanceof Uint8Array) || kdf.salt.length !== SALT_BYTES)
		throw damagedKeyError(purpose, `the salt is not ${SALT_BYTES} bytes`);
	if (v.cipher !== 'xchacha20-poly1305') throw damagedKeyError(purpose, 'unknown cipher');
	if (!(v.nonce instanceof Uint8Array) || v.nonce.length !== NONCE_BYTES)
		throw damagedKeyError(purpose, `the nonce is not ${NONCE_BYTES} bytes`);
	if (!(v.ciphertext instanceof Uint8Array) || v.ciphertext.length !== CIPHERTEXT_BYTES)
		throw damagedKeyError(
			purpose,
			`the ciphertext is ${v.ciphertext instanceof Uint8Array ? v.ciphertext.length : 'not'} bytes, not ${CIPHERTEXT_BYTES}`
		);
	return v as EncryptedKey;
}

/** The network a backup was made in, to tell files apart. */
export interface BackupNetwork {
	readonly id: string;
	readonly name: string;
}

/** A parsed key backup file. */
export interface KeyBackup {
	/** The encrypted key, purpose 'backup'. */
	readonly key: EncryptedKey;
	readonly exportedAt: number;
	readonly network: BackupNetwork | null;
}
