/**
 * Record ids that commit to their patient and category: `rid = sha256(domain ‖
 * canonical {patient, category, salt})[0..16]`, with the random 16-byte `salt` carried by
 * every `record.put` of the record. Every node checks the commitment, so no member can
 * write a version that moves a record to another patient or category: it would need a
 * second preimage. Records written before this rule carry no salt and keep a random id
 * (docs/privacy.md, "Record and key ids").
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCanonical, toHex } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';

const RECORD_ID_DOMAIN = new TextEncoder().encode('clinic-ledger/record-id/v1');
export const RECORD_SALT_BYTES = 16;

/** The record id committing to `patient` (hex), `category` and `salt`. */
export function recordIdOf(patient: string, category: Category, salt: Uint8Array): Uint8Array {
	return sha256(new Uint8Array([...RECORD_ID_DOMAIN, ...encodeCanonical({ patient, category, salt })])).slice(0, 16);
}

/** A fresh record id for `patient`'s `category`, with the salt its puts carry (both hex). */
export function newRecordId(patient: string, category: Category): { rid: string; salt: string } {
	const salt = crypto.getRandomValues(new Uint8Array(RECORD_SALT_BYTES));
	return { rid: toHex(recordIdOf(patient, category, salt)), salt: toHex(salt) };
}
