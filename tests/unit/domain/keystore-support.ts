/** Shared helpers of the keystore tests: cheap scrypt parameters, the slow-test timeout, a key pair, and refusals read as their codes. */
import { expect } from 'vitest';
import { generateKeyPair } from '$lib/core/index.js';
import { KeystoreError, type KeystoreErrorCode } from '$lib/domain/keystore.js';

// Cheap scrypt for tests that are about formats, not cost; the app never passes params for a
// stored record (it always measures), and the calibration tests (keystore-encryption.test.ts) use the real cost.
export const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
export const SLOW = 60_000;

export const keyPair = () => ({ ...generateKeyPair(), createdAt: 1_700_000_000_000 });

export async function refusal(promise: Promise<unknown>): Promise<KeystoreErrorCode> {
	const error = await promise.then(
		() => null,
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(KeystoreError);
	return (error as KeystoreError).code;
}

export function syncRefusal(run: () => unknown): { code: KeystoreErrorCode; message: string } {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(KeystoreError);
		return { code: (error as KeystoreError).code, message: (error as KeystoreError).message };
	}
	throw new Error('expected a refusal');
}
