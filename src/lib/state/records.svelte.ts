/**
 * The records workspace of a clinic node, composed of small managers that share the open
 * ledger's record book ({@link RecordsContext}): the patient registry and registration
 * ({@link PatientRegistry}), the open chart ({@link ChartManager}), key cards
 * ({@link KeyCards}), Bundle import ({@link BundleImport}), the patient's own view and
 * consent ({@link PatientConsent}) and the read log ({@link ReadLog}). The workspace
 * follows the ledger, re-reads them when blocks that matter arrive, names members, and
 * shares keys owed to grantees. The writes are domain use cases (domain/records/).
 */
import type { AuthorId, Ledger } from '$lib/core/index.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import type { MemberClinics, MemberNames } from '$lib/domain/members.js';
import { RecordBook } from '$lib/domain/records/book.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import { OwedShares } from '$lib/domain/records/owed-shares.js';
import { BundleImport } from './records/bundle-import.svelte.js';
import { ChartManager } from './records/chart.svelte.js';
import type { RecordsContext } from './records/context.js';
import { KeyCards } from './records/key-cards.svelte.js';
import { PatientConsent } from './records/patient-consent.svelte.js';
import { ReadLog } from './records/read-log.svelte.js';
import { PatientRegistry, type PatientRow } from './records/registry.svelte.js';

export const DEFAULT_GRANT: readonly Category[] = ['demographics', 'encounters', 'medications', 'labs'];
/** Transaction types after which the registry, the chart or the patient's view may read differently. */
const RELEVANT = /^(record\.|key\.|consent\.|access\.|member\.|study\.)/;

export type { RegisterInput } from '$lib/domain/records/register.js';
export type { PatientRow } from './records/registry.svelte.js';
export type { MadeCard } from './records/key-cards.svelte.js';
export type { AccessBasis } from './records/chart.svelte.js';
export { FIRST_PAGE, MORE } from './records/chart.svelte.js';
export type { FieldIssue } from './records/context.js';
export type { ChartManager, KeyCards, BundleImport, PatientConsent, PatientRegistry, ReadLog };

export class RecordsWorkspace implements RecordsContext {
	readonly reads = new ReadLog();
	readonly cards: KeyCards = new KeyCards(this, (patient: string): string | null => this.registry.nameOf(patient));
	readonly chart = new ChartManager(this, this.reads, () => this.#names);
	readonly registry: PatientRegistry = new PatientRegistry(this, this.cards, (patient) => this.chart.open(patient));
	readonly importer = new BundleImport(this, this.cards);
	readonly consent = new PatientConsent(this, this.reads);

	#names = $state.raw<MemberNames>({});
	#clinics = $state.raw<MemberClinics>({});
	/** Wraps this node shared for grants and emergency accesses since it opened. */
	#shared = $state(0);
	get shared() {
		return this.#shared;
	}

	#ledger: Ledger | null = null;
	#book: RecordBook | null = null;
	#off: (() => void)[] = [];
	#sharing = false;
	/** Patients whose owed key shares to look at (every one at the start). */
	#owed = new OwedShares();
	#refreshQueued = false;
	/** Whether the queued refresh re-reads the open chart too. */
	#refreshChart = false;

	get ledger(): Ledger | null {
		return this.#ledger;
	}
	get book(): RecordBook | null {
		return this.#book;
	}

	/** Starts on an open ledger with this node's keyring. */
	async attach(ledger: Ledger, keyring: Keyring): Promise<void> {
		if (this.#ledger === ledger) return;
		this.detach();
		this.#ledger = ledger;
		this.#book = new RecordBook(ledger, keyring);
		this.#owed = new OwedShares();
		// Only blocks that can change what this node sees of patients (records, keys, consent, requests, membership) re-read the registry.
		// Blocks of read logs only (this node's own every 10 s while reads wait) change the audit trail, never the open chart.
		this.#off.push(
			ledger.on('accepted', (blocks) => {
				this.#owed.mark(blocks);
				const txs = blocks.flatMap((b) => b.txs).filter((tx) => RELEVANT.test(tx.t));
				if (txs.length) this.#queueRefresh(txs.some((tx) => tx.t !== 'access.log'));
			})
		);
		await this.cards.load();
		await this.reads.attach(ledger);
		await this.refresh();
		this.reads.start();
	}

	detach(): void {
		for (const off of this.#off) off();
		this.#off = [];
		this.reads.detach();
		this.#ledger = null;
		this.#book = null;
		this.consent.close();
	}

	/** The registry's patients (the billing and inventory screens pick from them). */
	get patients(): PatientRow[] {
		return this.registry.patients;
	}

	/** Opens `patient`'s chart. */
	open(patient: string): Promise<void> {
		return this.chart.open(patient);
	}

	get self(): string | null {
		return this.#book?.keyring.self ?? null;
	}

	/** The clinic member key grants go to: this device's clinic, or this node itself. */
	get clinicKey(): string | null {
		const self = this.self;
		return self ? (this.#clinics[self] ?? self) : null;
	}

	/** Who wrote something, as the members list names them. */
	nameOf(member: string): string {
		return this.#names[member] ?? `${member.slice(0, 10)}…`;
	}

	/** Who wrote something and where: the device's name and its clinic's, when it belongs to one. */
	authorLabel(member: string): string {
		const clinic = this.#clinics[member];
		return clinic && clinic !== member ? `${this.nameOf(member)} at ${this.nameOf(clinic)}` : this.nameOf(member);
	}

	/** Members a patient can grant to: everyone but patients, with names. */
	grantees(): { key: AuthorId; name: string; role: string }[] {
		const ledger = this.#ledger;
		if (!ledger) return [];
		return [...ledger.roster()].filter(([, role]) => role !== 'patient').map(([key, role]) => ({ key, role, name: this.nameOf(key) }));
	}

	/** Coalesces refreshes: a catch-up accepts blocks in many batches; the registry is re-read at most every 250 ms. */
	#queueRefresh(chart: boolean): void {
		this.#refreshChart ||= chart;
		if (this.#refreshQueued) return;
		this.#refreshQueued = true;
		setTimeout(() => {
			const withChart = this.#refreshChart;
			this.#refreshQueued = false;
			this.#refreshChart = false;
			void this.refresh({ chart: withChart });
		}, 250);
	}

	/**
	 * Re-reads the registry, the open chart (unless `chart` is false: a chart of 100,000
	 * records takes seconds to read) and the patient view, and shares keys owed.
	 */
	async refresh(options: { chart?: boolean } = {}): Promise<void> {
		const book = this.#book;
		const ledger = this.#ledger;
		if (!book || !ledger) return;
		const state = ledger.state();
		this.#names = (state['member-names'] ?? {}) as MemberNames;
		this.#clinics = (state['member-clinics'] ?? {}) as MemberClinics;
		await this.registry.reload(book);
		if (options.chart ?? true) await this.chart.reload();
		await this.consent.reload();
		void this.#shareOwedKeys();
	}

	async #shareOwedKeys(): Promise<void> {
		const book = this.#book;
		if (!book || this.#sharing || !this.#owed.any) return;
		this.#sharing = true;
		const patients = this.#owed.take();
		try {
			this.#shared += await book.shareKeys(Date.now(), patients);
		} catch {
			// A share refused now (e.g. this node was removed) is retried on the next change.
			this.#owed.giveBack(patients);
		} finally {
			this.#sharing = false;
		}
	}
}
