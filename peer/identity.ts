/**
 * The peer's identity: an ed25519 seed kept in a key file (64 hex digits and a newline,
 * mode 0600), created on first start. The key is what an admin adds as a member; losing
 * the file means a new identity that must be admitted again.
 *
 * The file is not passphrase-encrypted (unlike keys in the browser): an always-on peer
 * must restart unattended. Protect it as you would an SSH host key.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSecretKey, toHex, fromHex } from '../src/lib/core/index.js';

/** A key file that cannot be read, created or trusted; the message says what to do. */
export class KeyFileError extends Error {
	override readonly name = 'KeyFileError';
}

const SEED_HEX = /^[0-9a-f]{64}$/;

/** Writes `seed` as a new key file; refuses to overwrite an existing one. */
export function writeKeyFile(path: string, seed: Uint8Array): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	writeFileSync(path, `${toHex(seed)}\n`, { mode: 0o600, flag: 'wx' });
}

/** Reads the seed in `path`, or creates a fresh one there when the file does not exist. */
export function loadOrCreateKey(path: string): { seed: Uint8Array; created: boolean } {
	let mode: number;
	try {
		mode = statSync(path).mode;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
			throw new KeyFileError(`cannot read key file ${path}: ${(error as Error).message}`);
		const seed = generateSecretKey();
		try {
			writeKeyFile(path, seed);
		} catch (writeError) {
			throw new KeyFileError(`cannot create key file ${path}: ${(writeError as Error).message}`);
		}
		return { seed, created: true };
	}
	if ((mode & 0o077) !== 0) {
		throw new KeyFileError(`key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${path}\``);
	}
	const text = readFileSync(path, 'utf8').trim();
	if (!SEED_HEX.test(text)) throw new KeyFileError(`key file ${path} does not hold a peer key (expected 64 hex digits)`);
	return { seed: fromHex(text), created: false };
}
