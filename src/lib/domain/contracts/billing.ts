/**
 * Billing derived from claim outcomes: what each patient owes each clinic, what each payer
 * owes each clinic, statements, and a reconciliation that must always balance. Only a
 * claim's current decision counts, and a corrected (replaced) claim counts for nothing.
 */
import { dateOfDay } from './dates.js';
import {
	allClaims,
	claimPlace,
	comparePlace,
	everyPage,
	type ClaimRecord,
	type ClaimsState,
	type Decision,
	type PatientPage,
	type TxPlace
} from './claims-state.js';

/** A claim's current decision, or null when it was replaced by a correction. */
export function currentDecision(rec: ClaimRecord): Decision | null {
	return rec.replacedBy === null ? (rec.decisions[rec.decisions.length - 1] ?? null) : null;
}

export interface Account {
	/** `clinic|patient` for patients, `payer|clinic` for payers. */
	readonly key: string;
	/** Cents charged by current decisions. */
	charged: number;
	/** Cents paid (patient payments or payer remittances). */
	paid: number;
	/** charged − paid: positive is owed to the clinic, negative is a credit. */
	balance: number;
}

export interface Accounts {
	readonly patients: Record<string, Account>;
	readonly payers: Record<string, Account>;
}

function account(map: Record<string, Account>, key: string): Account {
	return map[key] ?? (map[key] = { key, charged: 0, paid: 0, balance: 0 });
}

/** Every patient and payer account, from the current decisions, payments and remittances. */
export function accountsOf(state: ClaimsState, claims: Iterable<ClaimRecord> = allClaims(state)): Accounts {
	return tallyOf(state, claims).accounts();
}

export interface Reconciliation {
	readonly billed: number;
	readonly payer: number;
	readonly patient: number;
	readonly adjusted: number;
	/** Claims (ids) whose decision does not add up, in ledger order; empty when every claim balances. */
	readonly unbalanced: string[];
	/** Sum of balances equals charged minus paid, over both kinds of account. */
	readonly balancesMatch: boolean;
}

/** Checks every current decision (billed = payer + patient + adjusted, line by line and in total) and the accounts. */
export function reconcile(state: ClaimsState, claims: Iterable<ClaimRecord> = allClaims(state)): Reconciliation {
	return tallyOf(state, claims).reconciliation();
}

/** `claims` added, and the payments and remittances of every page in `state`. */
function tallyOf(state: ClaimsState, claims: Iterable<ClaimRecord>): BillingTally {
	const tally = new BillingTally();
	for (const rec of claims) tally.add(rec);
	for (const page of everyPage(state)) tally.addPaid(page);
	return tally;
}

/**
 * The accounts' charges and the reconciliation's sums of claims added one at a time, and
 * what was paid added one patient's page at a time, in any order: a view of every claim
 * can read one page at a time and keep none (the Billing screen on a ledger of years). The
 * results do not depend on the order.
 */
export class BillingTally {
	readonly #patients = new Map<string, number>();
	readonly #payers = new Map<string, number>();
	/** Paid by account: patients' payments, payers' remittances. */
	readonly #patientsPaid = new Map<string, number>();
	readonly #payersPaid = new Map<string, number>();
	#paidIn = 0;
	#billed = 0;
	#payer = 0;
	#patient = 0;
	#adjusted = 0;
	/** [claim's place, id]: listed in ledger order. */
	readonly #unbalanced: [TxPlace, string][] = [];

	add(rec: ClaimRecord): void {
		const d = currentDecision(rec);
		if (!d) return;
		if (d.patient > 0) add(this.#patients, `${rec.clinic}|${rec.patient}`, d.patient);
		if (d.payer > 0 && rec.payer) add(this.#payers, `${rec.payer}|${rec.clinic}`, d.payer);
		this.#billed += d.billed;
		this.#payer += d.payer;
		this.#patient += d.patient;
		this.#adjusted += d.adjusted;
		const linesOk = d.lines.every((l) => {
			const co = l.adjustments.filter((a) => a.group === 'CO').reduce((s, a) => s + a.amount, 0);
			const pr = l.adjustments.filter((a) => a.group === 'PR').reduce((s, a) => s + a.amount, 0);
			return l.payer + pr + co === l.billed && pr === l.patient && l.payer >= 0 && l.patient >= 0;
		});
		const sum = (f: (l: Decision['lines'][number]) => number) => d.lines.reduce((s, l) => s + f(l), 0);
		if (!linesOk || d.payer + d.patient + d.adjusted !== d.billed || sum((l) => l.billed) !== d.billed || sum((l) => l.payer) !== d.payer)
			this.#unbalanced.push([claimPlace(rec), rec.id]);
	}

	/** A patient's page's payments and the remittances of its claims. */
	addPaid(page: PatientPage): void {
		for (const p of page.payments) add(this.#patientsPaid, `${p.clinic}|${p.patient}`, p.amount);
		for (const r of page.remittances) add(this.#payersPaid, `${r.payer}|${r.clinic}`, r.amount);
		for (const x of [...page.payments, ...page.remittances]) this.#paidIn += x.amount;
	}

	/** The accounts: the claims' charges, and the payments and remittances added. */
	accounts(): Accounts {
		const patients: Record<string, Account> = {};
		const payers: Record<string, Account> = {};
		for (const [key, cents] of this.#patients) account(patients, key).charged = cents;
		for (const [key, cents] of this.#payers) account(payers, key).charged = cents;
		for (const [key, cents] of this.#patientsPaid) account(patients, key).paid += cents;
		for (const [key, cents] of this.#payersPaid) account(payers, key).paid += cents;
		for (const a of [...Object.values(patients), ...Object.values(payers)]) a.balance = a.charged - a.paid;
		return { patients, payers };
	}

	reconciliation(): Reconciliation {
		const accounts = this.accounts();
		const all = [...Object.values(accounts.patients), ...Object.values(accounts.payers)];
		const balancesMatch = all.reduce((s, a) => s + a.balance, 0) === this.#payer + this.#patient - this.#paidIn;
		return {
			billed: this.#billed,
			payer: this.#payer,
			patient: this.#patient,
			adjusted: this.#adjusted,
			unbalanced: [...this.#unbalanced].sort((a, b) => comparePlace(a[0], b[0])).map(([, id]) => id),
			balancesMatch
		};
	}
}

const add = (map: Map<string, number>, key: string, cents: number) => map.set(key, (map.get(key) ?? 0) + cents);

export interface StatementLine {
	readonly claim: string;
	readonly date: string;
	readonly code: string;
	readonly billed: number;
	readonly insurancePaid: number;
	readonly adjusted: number;
	readonly youOwe: number;
}

export interface Statement {
	readonly clinic: string;
	readonly patient: string;
	readonly lines: StatementLine[];
	readonly payments: { block: string; amount: number }[];
	readonly owed: number;
	readonly paid: number;
	readonly balance: number;
}

/** A patient's statement at one clinic from the patient's page (none: no claims): every current claim line, payments and the balance. */
export function statementOf(page: PatientPage | undefined, clinic: string, patient: string): Statement {
	const lines: StatementLine[] = [];
	for (const rec of Object.values(page?.claims ?? {})) {
		const id = rec.id;
		const d = currentDecision(rec);
		if (!d || rec.clinic !== clinic) continue;
		d.lines.forEach((l, i) =>
			lines.push({
				claim: id,
				date: dateOfDay(rec.lines[i]!.dos),
				code: l.code,
				billed: l.billed,
				insurancePaid: l.payer,
				adjusted: l.billed - l.payer - l.patient,
				youOwe: l.patient
			})
		);
	}
	const payments = (page?.payments ?? []).filter((p) => p.clinic === clinic).map((p) => ({ block: p.block, amount: p.amount }));
	const owed = lines.reduce((s, l) => s + l.youOwe, 0);
	const paid = payments.reduce((s, p) => s + p.amount, 0);
	return { clinic, patient, lines, payments, owed, paid, balance: owed - paid };
}
