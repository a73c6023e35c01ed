/**
 * The key backup file: a key encrypted with purpose 'backup' (see keystore.ts) as JSON
 * text with a checksum, so a changed byte is named as damage before any key derivation
 * runs. docs/keys.md describes the format.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '$lib/core/index.js';
import {
	CIPHERTEXT_BYTES,
	KEY_RECORD_VERSION,
	KeystoreError,
	NONCE_BYTES,
	SALT_BYTES,
	checkEncryptedKey,
	damagedKeyError,
	type BackupNetwork,
	type EncryptedKey,
	type KeyBackup
} from './keystore.js';

/** The `format` field of a key backup file. */
export const BACKUP_FORMAT = 'clinic-ledger-key-backup';
export const BACKUP_VERSION = 1;

/** The checked part of a backup file, in the fixed order its checksum covers. */
function backupBody(backup: KeyBackup): Record<string, unknown> {
	const { key } = backup;
	return {
		format: BACKUP_FORMAT,
		version: BACKUP_VERSION,
		publicKey: toHex(key.publicKey),
		keyCreatedAt: key.createdAt,
		exportedAt: backup.exportedAt,
		network: backup.network ? { id: backup.network.id, name: backup.network.name } : null,
		kdf: { name: 'scrypt', N: key.kdf.N, r: key.kdf.r, p: key.kdf.p, salt: toHex(key.kdf.salt), costMs: key.kdf.costMs },
		cipher: { name: key.cipher, nonce: toHex(key.nonce) },
		ciphertext: toHex(key.ciphertext)
	};
}

function checksumOf(body: Record<string, unknown>): string {
	return toHex(sha256(new TextEncoder().encode(`${BACKUP_FORMAT}\n${JSON.stringify(body)}`)));
}

/** The backup file's text (JSON) for a key encrypted with purpose 'backup'. */
export function encodeBackup(backup: KeyBackup): string {
	checkEncryptedKey(backup.key, 'backup');
	const body = backupBody(backup);
	return `${JSON.stringify({ ...body, checksum: checksumOf(body) }, null, '\t')}\n`;
}

/** Longest text taken as a backup file: a real one is under 1 KiB. */
const MAX_BACKUP_CHARS = 64 * 1024;

/**
 * A backup file's text, checked: format and version, every field's type and length, and
 * the checksum (so a changed byte is named as damage before any key derivation runs).
 * Throws {@link KeystoreError} `NOT_A_BACKUP`, `UNSUPPORTED_BACKUP` or `DAMAGED_BACKUP`.
 */
export function parseBackup(text: string): KeyBackup {
	if (typeof text !== 'string' || text.length > MAX_BACKUP_CHARS)
		throw new KeystoreError('NOT_A_BACKUP', 'This file is not a clinic ledger key backup (it is too large). Nothing was changed.');
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		if (text.includes(BACKUP_FORMAT)) throw damagedKeyError('backup', 'it is not complete JSON; it may have been cut short');
		throw new KeystoreError('NOT_A_BACKUP', 'This file is not a clinic ledger key backup (it is not JSON). Nothing was changed.');
	}
	const v = value as Record<string, unknown> | null;
	if (v === null || typeof v !== 'object' || Array.isArray(v) || v['format'] !== BACKUP_FORMAT)
		throw new KeystoreError(
			'NOT_A_BACKUP',
			`This file is not a clinic ledger key backup (no "format": "${BACKUP_FORMAT}"). Nothing was changed.`
		);
	if (v['version'] !== BACKUP_VERSION)
		throw new KeystoreError(
			'UNSUPPORTED_BACKUP',
			`This backup file has version ${JSON.stringify(v['version'])}; this app reads version ${BACKUP_VERSION}. Nothing was changed.`
		);
	const hex = (field: unknown, label: string, bytes: number): Uint8Array => {
		if (typeof field !== 'string' || !/^[0-9a-f]*$/.test(field)) throw damagedKeyError('backup', `${label} is not lower-case hex`);
		if (field.length !== bytes * 2) throw damagedKeyError('backup', `${label} is ${Math.floor(field.length / 2)} bytes, not ${bytes}`);
		return fromHex(field, label);
	};
	const num = (field: unknown, label: string): number => {
		if (typeof field !== 'number' || !Number.isFinite(field)) throw damagedKeyError('backup', `${label} is not a number`);
		return field;
	};
	const kdf = v['kdf'] as Record<string, unknown> | null;
	const cipher = v['cipher'] as Record<string, unknown> | null;
	if (!kdf || typeof kdf !== 'object' || kdf['name'] !== 'scrypt') throw damagedKeyError('backup', 'unknown key derivation');
	if (!cipher || typeof cipher !== 'object' || cipher['name'] !== 'xchacha20-poly1305') throw damagedKeyError('backup', 'unknown cipher');
	const rawNetwork = v['network'] as Record<string, unknown> | null | undefined;
	let network: BackupNetwork | null = null;
	if (rawNetwork !== null && rawNetwork !== undefined) {
		if (typeof rawNetwork !== 'object' || typeof rawNetwork['id'] !== 'string' || typeof rawNetwork['name'] !== 'string')
			throw damagedKeyError('backup', 'the network is not an id and a name');
		network = { id: rawNetwork['id'], name: rawNetwork['name'] };
	}
	const key: EncryptedKey = {
		version: KEY_RECORD_VERSION,
		publicKey: hex(v['publicKey'], 'the public key', 32),
		createdAt: num(v['keyCreatedAt'], 'the key creation time'),
		kdf: {
			name: 'scrypt',
			N: num(kdf['N'], 'scrypt N'),
			r: num(kdf['r'], 'scrypt r'),
			p: num(kdf['p'], 'scrypt p'),
			salt: hex(kdf['salt'], 'the salt', SALT_BYTES),
			costMs: num(kdf['costMs'], 'the cost')
		},
		cipher: 'xchacha20-poly1305',
		nonce: hex(cipher['nonce'], 'the nonce', NONCE_BYTES),
		ciphertext: hex(v['ciphertext'], 'the ciphertext', CIPHERTEXT_BYTES)
	};
	checkEncryptedKey(key, 'backup');
	const backup: KeyBackup = { key, exportedAt: num(v['exportedAt'], 'the export time'), network };
	if (typeof v['checksum'] !== 'string' || v['checksum'] !== checksumOf(backupBody(backup)))
		throw damagedKeyError('backup', 'its checksum does not match its content');
	return backup;
}

/** A file name for a backup of `publicKey`: the key's first 12 hex digits and the date. */
export function backupFileName(publicKey: Uint8Array, at: number): string {
	return `clinic-ledger-key-${toHex(publicKey).slice(0, 12)}-${new Date(at).toISOString().slice(0, 10)}.json`;
}
