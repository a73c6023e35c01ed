/**
 * Reads of decrypted data, logged on the ledger: deduplicated (the same record read again
 * within {@link LOG_DEDUP_MS} is logged once), kept in the store's meta until written
 * (a read log is never dropped), and written as one `access.log` block at least every
 * {@link LOG_FLUSH_MS} while any wait, and at once when a patient opens their own view
 * (patient-consent.svelte.ts), so the trail they see holds every read made here so far.
 */
import type { Ledger } from '$lib/core/index.js';
import { accessLogTx, type ReadEvent } from '$lib/domain/records/book.js';
import type { Category } from '$lib/domain/privacy/envelope.js';

/** Reads are written to the ledger at least this often while any are waiting. */
const LOG_FLUSH_MS = 10_000;
/** The same record read again within this window is logged once. */
const LOG_DEDUP_MS = 10 * 60_000;
const PENDING_READS_META = 'pending-reads';
/** Most reads in one `access.log` block. */
const BATCH = 500;

export class ReadLog {
	/** Reads not yet on the ledger. */
	#pending = $state(0);
	get pending() {
		return this.#pending;
	}

	#ledger: Ledger | null = null;
	#reads: ReadEvent[] = [];
	#lastLogged = new Map<string, number>();
	#flushTimer: ReturnType<typeof setTimeout> | null = null;
	/** The flushes asked for, one after another: two at once would write the same reads twice. */
	#flushes: Promise<void> = Promise.resolve();

	/** Follows `ledger`, taking up the reads an earlier session left unwritten. */
	async attach(ledger: Ledger): Promise<void> {
		this.#ledger = ledger;
		const saved = await ledger.store.getMeta<ReadEvent[]>(PENDING_READS_META).catch(() => undefined);
		if (saved?.length) this.#reads.push(...saved);
		this.#pending = this.#reads.length;
	}

	/** Starts the timer when reads wait (after the first refresh has logged its own). */
	start(): void {
		if (this.#reads.length) this.#scheduleFlush();
	}

	detach(): void {
		if (this.#flushTimer) clearTimeout(this.#flushTimer);
		this.#flushTimer = null;
		this.#ledger = null;
	}

	/** Records that this node exported or printed a patient's data (never deduplicated). */
	logAction(patient: string, action: 'export' | 'print', categories: readonly Category[]): void {
		const at = Date.now();
		this.log(
			categories.map((category) => ({ patient, category, action, at })),
			true
		);
	}

	/** Queues `reads` for the ledger; unless `always`, a read logged within the last ten minutes is skipped. */
	log(reads: readonly ReadEvent[], always = false): void {
		const now = Date.now();
		const fresh = reads.filter((r) => {
			const key = `${r.action}/${r.patient}/${r.rid ?? r.category}`;
			if (!always && now - (this.#lastLogged.get(key) ?? -Infinity) < LOG_DEDUP_MS) return false;
			this.#lastLogged.set(key, now);
			return true;
		});
		if (fresh.length === 0) return;
		this.#reads.push(...fresh);
		this.#pending = this.#reads.length;
		void this.#ledger?.store.putMeta(PENDING_READS_META, this.#reads).catch(() => undefined);
		this.#scheduleFlush();
	}

	#scheduleFlush(): void {
		if (this.#flushTimer) return;
		this.#flushTimer = setTimeout(() => {
			this.#flushTimer = null;
			void this.flush();
		}, LOG_FLUSH_MS);
	}

	/** Writes the reads waiting now to the ledger, {@link BATCH} to an `access.log` block; resolves once they are written (or kept for the next attempt). */
	flush(): Promise<void> {
		const run = this.#flushes.then(async () => {
			while (this.#reads.length > 0) if (!(await this.#write())) break;
			// Reads left (a write failed, or logged meanwhile): the timer tries again.
			if (this.#reads.length > 0 && this.#ledger) this.#scheduleFlush();
		});
		this.#flushes = run;
		return run;
	}

	/** Writes the first {@link BATCH} waiting reads as one block; false when nothing was written. */
	async #write(): Promise<boolean> {
		const ledger = this.#ledger;
		if (!ledger || this.#reads.length === 0) return false;
		const batch = this.#reads.slice(0, BATCH);
		let written = false;
		try {
			await ledger.append([accessLogTx(batch)]);
			this.#reads.splice(0, batch.length);
			written = true;
			await ledger.store.putMeta(PENDING_READS_META, this.#reads);
		} catch {
			// Kept for the next attempt: a read log is never dropped.
		}
		this.#pending = this.#reads.length;
		return written;
	}
}
