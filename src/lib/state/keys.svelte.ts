/**
 * The node key as the lock screen and the backup panel see it: what this browser holds,
 * the key derivation under way (with progress), and every refusal as a sentence. The
 * unlocked key pair is handed to the node (state/node.svelte.ts) and not kept here.
 */
import { toHex, type AuthorId } from '$lib/core/index.js';
import {
	createIdentity,
	exportIdentityBackup,
	protectStoredIdentity,
	readStoredKey,
	restoreIdentity,
	unlockIdentity,
	type Identity
} from '$lib/domain/identity.js';
import { KeystoreError, passphraseProblem, type BackupNetwork } from '$lib/domain/keystore.js';
import { prepareKeyDerivation } from '$lib/domain/kdf.js';

/**
 * What the lock screen asks: choose a passphrase for a new key or for a key kept in clear
 * (version 1), unlock, or restore a backup over a damaged record.
 */
export type KeySetup = 'new' | 'plain' | 'encrypted' | 'damaged';

/** A key derivation under way: 'unlock' opens a key, 'protect' encrypts one (measuring this device). */
export interface KeyWork {
	readonly step: 'unlock' | 'protect';
	readonly fraction: number;
}

function sentenceCase(message: string): string {
	return `${message.charAt(0).toUpperCase()}${message.slice(1)}${message.endsWith('.') ? '' : '.'}`;
}

function sentence(error: unknown): string {
	if (error instanceof KeystoreError) {
		if (error.code === 'WRONG_PASSPHRASE') return `${error.message} Nothing was changed.`;
		return error.message;
	}
	return `The key operation failed: ${error instanceof Error ? error.message : String(error)}. Nothing was changed.`;
}

export class KeyState {
	/** Null until {@link inspect} ran. */
	#setup = $state<KeySetup | null>(null);
	get setup() {
		return this.#setup;
	}
	/** The stored public key (hex), when there is one; it is not secret. */
	#publicKey = $state<AuthorId | null>(null);
	get publicKey() {
		return this.#publicKey;
	}
	#work = $state.raw<KeyWork | null>(null);
	get work() {
		return this.#work;
	}
	/** Why the stored record cannot be used (setup 'damaged'). */
	#damage = $state<string | null>(null);
	get damage() {
		return this.#damage;
	}
	/** Why the last unlock or passphrase choice was refused. */
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#restoreError = $state<string | null>(null);
	get restoreError() {
		return this.#restoreError;
	}
	#backupError = $state<string | null>(null);
	get backupError() {
		return this.#backupError;
	}
	/** Set once a key was opened and handed to the node: the lock screen stays disabled until it goes. */
	#opened = $state(false);
	get opened() {
		return this.#opened;
	}
	/** The last exported backup file's name. */
	#lastBackup = $state<string | null>(null);
	get lastBackup() {
		return this.#lastBackup;
	}

	/** Reads what this browser holds. */
	async inspect(): Promise<KeySetup> {
		const stored = await readStoredKey();
		this.#publicKey = stored.kind === 'none' || !stored.publicKey ? null : (toHex(stored.publicKey) as AuthorId);
		this.#damage = stored.kind === 'damaged' ? sentenceCase(stored.error.message) : null;
		this.#setup = stored.kind === 'none' ? 'new' : stored.kind;
		// The passphrase is checked in a worker: loaded now, not when Unlock is clicked.
		prepareKeyDerivation();
		return this.#setup;
	}

	#progress = (fraction: number, step: KeyWork['step']) => {
		// scrypt reports up to 10,000 times per derivation; a percent is enough for a progress bar.
		const shown = this.#work;
		if (shown && shown.step === step && fraction < 1 && fraction >= shown.fraction && fraction - shown.fraction < 0.01) return;
		this.#work = { step, fraction };
	};

	/** Runs one key operation at a time; `opens`: its result is handed to the node. */
	async #run<T>(
		first: KeyWork['step'],
		report: (message: string | null) => void,
		operation: () => Promise<T>,
		opens = true
	): Promise<T | null> {
		if (this.#work) return null;
		report(null);
		this.#work = { step: first, fraction: 0 };
		try {
			const result = await operation();
			// In the same step as clearing the progress, so the form never shows enabled in between.
			if (opens) this.#opened = true;
			return result;
		} catch (error) {
			report(sentence(error));
			return null;
		} finally {
			this.#work = null;
		}
	}

	/** The stored key, opened with `passphrase`; null with {@link error} set when refused. */
	unlock(passphrase: string): Promise<Identity | null> {
		if (!passphrase) {
			this.#error = 'Type the passphrase.';
			return Promise.resolve(null);
		}
		return this.#run(
			'unlock',
			(m) => (this.#error = m),
			() => unlockIdentity(passphrase, { onProgress: this.#progress })
		);
	}

	/** First run or version 1 record: encrypts a new or the existing key under a chosen passphrase. */
	choose(passphrase: string, confirm: string): Promise<Identity | null> {
		const problem = passphraseProblem(passphrase, confirm);
		if (problem) {
			this.#error = problem;
			return Promise.resolve(null);
		}
		const setup = this.#setup;
		return this.#run(
			'protect',
			(m) => (this.#error = m),
			() =>
				setup === 'plain'
					? protectStoredIdentity(passphrase, { onProgress: this.#progress })
					: createIdentity(passphrase, { onProgress: this.#progress })
		);
	}

	/** Restores from a backup file's text and its passphrase; null with {@link restoreError} set when refused. */
	restore(fileText: string | null, passphrase: string): Promise<Identity | null> {
		if (fileText === null) {
			this.#restoreError = 'Choose the backup file.';
			return Promise.resolve(null);
		}
		if (!passphrase) {
			this.#restoreError = "Type the backup file's passphrase.";
			return Promise.resolve(null);
		}
		return this.#run(
			'unlock',
			(m) => (this.#restoreError = m),
			() => restoreIdentity(fileText, passphrase, { onProgress: this.#progress })
		);
	}

	/**
	 * A backup file of the stored key: `passphrase` opens the key, `filePassphrase` (with
	 * its confirmation; empty for the same passphrase) protects the file.
	 */
	async exportBackup(
		passphrase: string,
		filePassphrase: string,
		confirm: string,
		network: BackupNetwork | null
	): Promise<{ text: string; fileName: string } | null> {
		this.#lastBackup = null;
		if (!passphrase) {
			this.#backupError = "Type this browser's passphrase.";
			return null;
		}
		const problem = filePassphrase || confirm ? passphraseProblem(filePassphrase, confirm) : null;
		if (problem) {
			this.#backupError = problem;
			return null;
		}
		const file = await this.#run(
			'unlock',
			(m) => (this.#backupError = m),
			() =>
				exportIdentityBackup(passphrase, {
					onProgress: this.#progress,
					network,
					...(filePassphrase ? { backupPassphrase: filePassphrase } : {})
				}),
			false
		);
		if (file) this.#lastBackup = file.fileName;
		return file;
	}
}
