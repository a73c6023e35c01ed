/**
 * Diagnostics: tools to exercise a node and compare copies. Write many test entries
 * (to see sync at scale), attach a file (the largest blocks), and compute the ledger
 * fingerprint that two nodes show identically when they hold the same ledger.
 */
import { describeError, type BlockId, type Ledger, type Summary } from '$lib/core/index.js';
import { MAX_ATTACHMENT_BYTES, attachmentTx } from '$lib/domain/attachment.js';
import { ledgerFingerprint, type Fingerprint } from '$lib/domain/fingerprint.js';
import { noteTx } from '$lib/domain/note.js';
import { fileSize } from '$lib/domain/tx-summary.js';

/** Most test entries one run writes. */
export const MAX_TEST_ENTRIES = 50_000;
/** Blocks per durable write (one `appendBatch`). */
export const TEST_BATCH = 500;
const MIME = /^[a-z]+\/[a-z0-9.+-]+$/i;
const NAME_MAX = 200;

export interface TestRun {
	readonly total: number;
	readonly done: number;
	readonly running: boolean;
	readonly startedAt: number;
	readonly finishedAt: number | null;
	/** Set when the run stopped early: asked to, or a write failed. */
	readonly stopped: string | null;
}

/** What is wrong with `count` as a number of test entries, or null. */
export function testEntriesProblem(count: number): string | null {
	if (!Number.isInteger(count) || count < 1 || count > MAX_TEST_ENTRIES) {
		return `Enter a whole number of entries from 1 to ${MAX_TEST_ENTRIES.toLocaleString('en')}.`;
	}
	return null;
}

/** A file name the attachment rule accepts: at most 200 characters, the extension kept. */
function attachmentName(name: string): string {
	const trimmed = name.trim() || 'file';
	if (trimmed.length <= NAME_MAX) return trimmed;
	const dot = trimmed.lastIndexOf('.');
	const extension = dot > 0 && trimmed.length - dot <= 16 ? trimmed.slice(dot) : '';
	return trimmed.slice(0, NAME_MAX - extension.length - 1) + '…' + extension;
}

export class DiagnosticsState {
	#run = $state.raw<TestRun | null>(null);
	get run() {
		return this.#run;
	}
	#runError = $state<string | null>(null);
	get runError() {
		return this.#runError;
	}
	#attaching = $state(false);
	get attaching() {
		return this.#attaching;
	}
	#attachError = $state<string | null>(null);
	get attachError() {
		return this.#attachError;
	}
	#lastAttachment = $state.raw<{ name: string; size: number; blockId: BlockId } | null>(null);
	get lastAttachment() {
		return this.#lastAttachment;
	}
	/** Fingerprint and summary (blocks, transactions by type) of this copy, when last computed. */
	#fingerprint = $state.raw<(Fingerprint & { at: number; summary: { blocks: number; txs: [string, number][] } }) | null>(null);
	get fingerprint() {
		return this.#fingerprint;
	}
	#fingerprinting = $state(false);
	get fingerprinting() {
		return this.#fingerprinting;
	}

	#ledger: () => Ledger | null;
	#stopAsked = false;

	/** `ledger` returns the node's open ledger, or null. */
	constructor(ledger: () => Ledger | null) {
		this.#ledger = ledger;
	}

	/**
	 * Appends `count` note blocks, {@link TEST_BATCH} per durable write, with progress in
	 * {@link run}. Each entry says it is a test entry, so nobody mistakes it for a record.
	 */
	async writeTestEntries(count: number): Promise<boolean> {
		const problem = testEntriesProblem(count);
		this.#runError = problem;
		if (problem || this.#run?.running) return false;
		const ledger = this.#ledger();
		if (!ledger) {
			this.#runError = 'Create or join a network first.';
			return false;
		}
		this.#stopAsked = false;
		const startedAt = Date.now();
		const label = new Date(startedAt).toISOString().slice(0, 19).replace('T', ' ');
		let done = 0;
		this.#run = { total: count, done, running: true, startedAt, finishedAt: null, stopped: null };
		let stopped: string | null = null;
		try {
			while (done < count) {
				if (this.#stopAsked) {
					stopped = `Stopped after ${done.toLocaleString('en')} entries.`;
					break;
				}
				const size = Math.min(TEST_BATCH, count - done);
				const first = done;
				await ledger.appendBatch(
					Array.from({ length: size }, (_, i) => [noteTx(`Test entry ${first + i + 1} of ${count} (diagnostics run ${label})`)])
				);
				done += size;
				this.#run = { total: count, done, running: true, startedAt, finishedAt: null, stopped: null };
			}
		} catch (error) {
			stopped = `Writing stopped after ${done.toLocaleString('en')} entries: ${describeError(error)}`;
		}
		this.#run = { total: count, done, running: false, startedAt, finishedAt: Date.now(), stopped };
		return stopped === null;
	}

	/** Asks a running {@link writeTestEntries} to stop after the current batch. */
	stopWriting(): void {
		this.#stopAsked = true;
	}

	/** Appends `file` as one attachment block; refuses files over the attachment limit before reading them. */
	async attachFile(file: File): Promise<boolean> {
		this.#attachError = null;
		if (this.#attaching) return false;
		if (file.size > MAX_ATTACHMENT_BYTES) {
			this.#attachError = `“${file.name}” is too large to attach: ${fileSize(file.size)} (${file.size.toLocaleString('en')} bytes). The limit is 5 MiB (${MAX_ATTACHMENT_BYTES.toLocaleString('en')} bytes).`;
			return false;
		}
		if (file.size === 0) {
			this.#attachError = `“${file.name}” is empty: there is nothing to attach.`;
			return false;
		}
		const ledger = this.#ledger();
		if (!ledger) {
			this.#attachError = 'Create or join a network first.';
			return false;
		}
		this.#attaching = true;
		try {
			const data = new Uint8Array(await file.arrayBuffer());
			const tx = attachmentTx(attachmentName(file.name), MIME.test(file.type) ? file.type : 'application/octet-stream', data);
			if (typeof tx === 'string') {
				this.#attachError = `The file cannot be attached: ${tx}`;
				return false;
			}
			const block = await ledger.append([tx]);
			this.#lastAttachment = { name: tx.name as string, size: data.length, blockId: block.id };
			return true;
		} catch (error) {
			this.#attachError = `The file was not attached: ${describeError(error)}`;
			return false;
		} finally {
			this.#attaching = false;
		}
	}

	/** Hashes the ids of every stored block in ledger order. */
	async computeFingerprint(): Promise<void> {
		const ledger = this.#ledger();
		if (!ledger || this.#fingerprinting) return;
		this.#fingerprinting = true;
		try {
			const print = await ledgerFingerprint(ledger);
			const summary = ledger.state().summary as Summary;
			const txs = Object.entries(summary.txs).sort(([a], [b]) => (a < b ? -1 : 1));
			this.#fingerprint = { ...print, at: Date.now(), summary: { blocks: summary.blocks, txs } };
		} finally {
			this.#fingerprinting = false;
		}
	}
}
