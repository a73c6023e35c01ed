/**
 * The `claims` fold: contracts and their versions, coverages, authorizations, claims with
 * every decision, fraud flags, payments and remittances. Outcomes are computed here, on
 * every node, from the blocks in total order; no transaction can state an outcome.
 * Time comes only from blocks (`block.time` is the filing date for timely filing).
 */
import { CodedError, factRows, isFactKey, toHex, type Block, type Causal, type Fold, type FoldContext, type Tx } from '$lib/core/index.js';
import { encounterAt, encounterReads } from '../records/encounter-lookup.js';
import { decide, undo, type Known } from './adjudicate.js';
import { packState, unpackState } from './checkpoint.js';
import { dayOf, dayOfTime } from './dates.js';
import { inPayerHead, payerHead } from './claims-head.js';
import { authKey, claimsPageSet, coverageKey, orphanKey } from './payer-pages.js';
import { appealPagesOf, payerPagesOf } from './payer-keys.js';
import { flagAfterDeath, flagClaim } from './fraud.js';
import { parsePolicy } from './policy.js';
import { recordVersionsIndex } from '../records/record-index.js';
import { claimBlocksIndex, claimReads, claimRow, encounterRow, parsedClaim, patientOfClaim, patientRow } from './claim-index.js';
import {
	clinicAt,
	coverageAt,
	emptyClaimsState,
	findPage,
	knownKey,
	pageOf,
	pageRowOf,
	shortKey,
	type ClaimRecord,
	type ClaimsState,
	type Ignored,
	type TxPlace
} from './claims-state.js';

/**
 * The contract versions a block has seen: for each plan, the highest version whose deploying
 * block is in the block's causal past (not the block itself: a claim is never decided under
 * a version deployed beside it). Asked of the ledger's version vectors (`causal`), so the
 * state keeps no map of every block's knowledge.
 */
function knownBefore(state: ClaimsState, block: Block, causal: Causal): Known {
	const known: Record<string, number> = {};
	for (const contract of Object.values(state.contracts))
		for (let i = contract.versions.length - 1; i >= 0; i--) {
			const v = contract.versions[i]!;
			if ((v.payer !== block.author || v.seq !== block.seq) && causal.seen(v.payer, v.seq)) {
				known[contract.plan] = v.version;
				break;
			}
		}
	return known;
}

/**
 * Claim `id` as the fold recorded it before this transaction: its patient from the claim
 * index (claim-index.ts), then the claim in that patient's page (absent when the fold
 * refused it, or it comes later in the block).
 */
function recorded(state: ClaimsState, context: FoldContext, id: string): ClaimRecord | undefined {
	const patient = patientOfClaim(context, id);
	const page = patient === undefined ? undefined : findPage(state, patient);
	return page && Object.hasOwn(page.claims, id) ? page.claims[id] : undefined;
}

/**
 * Which part of the state a transaction changes: a patient's page (the patient's key), the
 * orphans of a claim no claim transaction before it made (`?<claim id>`), the head (null),
 * or nothing (undefined). A page is re-applied on its own when a block lands late
 * (`keyed` below); a late block that changes the head rewinds the fold.
 */
function scopeOf(tx: Tx, context: FoldContext): string | null | undefined {
	switch (tx.t) {
		case 'member.add':
		case 'contract.deploy':
		case 'coverage.enroll':
		case 'auth.grant':
			return null;
		case 'claim.submit':
			return parsedClaim(tx).claim?.patient ?? null;
		case 'claim.correct':
			return parsedClaim(tx).claim ? claimScope(tx.original, context) : null;
		case 'claim.appeal':
			return claimScope(tx.original, context);
		case 'remittance.record':
			return claimScope(tx.claim, context);
		case 'payment.record':
		case 'patient.deceased':
			return tx.patient instanceof Uint8Array ? toHex(tx.patient) : null;
		default:
			return undefined;
	}
}

/** The scope of a transaction naming claim `id`: its patient, or its orphans while no claim transaction before it made the claim. */
function claimScope(id: unknown, context: FoldContext): string | null {
	if (typeof id !== 'string' || !isFactKey(claimRow(id))) return null; // the index cannot file it: rewind rather than lose it
	return patientOfClaim(context, id) ?? `?${id}`;
}

/** Where a transaction's refusal is kept: with the part of the state it would have changed. */
function ignore(state: ClaimsState, scope: string | null | undefined, entry: Ignored): void {
	if (scope === null || scope === undefined) state.ignored.push(entry);
	else if (scope.startsWith('?')) state.orphans.page(orphanKey(scope.slice(1)), () => []).push(entry);
	else pageOf(state, scope).ignored.push(entry);
}

/**
 * Applies one transaction; returns why it was not applied, or null. `known` gives the
 * versions the block has seen (claims are decided under them); `context` the encounter
 * records its claims name. The head is read as of the transaction's place.
 */
function applyTx(state: ClaimsState, block: Block, tx: Tx, index: number, known: () => Known, context: FoldContext): string | null {
	const at: TxPlace = [block.clock, block.id, index];
	const clinicOf = (key: string) => clinicAt(state, key, at);
	switch (tx.t) {
		case 'member.add':
			if (tx.key instanceof Uint8Array && tx.clinic instanceof Uint8Array) {
				const key = toHex(tx.key);
				state.clinics[key] = toHex(tx.clinic);
				(state.clinicHistory[key] ??= []).push([at, state.clinics[key]]);
			}
			return null;
		case 'contract.deploy': {
			const plan = tx.plan as string;
			const contract = state.contracts[plan] ?? (state.contracts[plan] = { plan, payer: block.author, versions: [] });
			if (contract.payer !== block.author) return `plan ${plan} belongs to another payer`;
			const last = contract.versions[contract.versions.length - 1];
			if (last && (tx.version as number) <= last.version) return `version ${tx.version as number} is not after version ${last.version}`;
			contract.versions.push({
				plan,
				version: tx.version as number,
				payer: block.author,
				block: block.id,
				seq: block.seq,
				time: block.time,
				policy: parsePolicy(tx.policy)
			});
			return null;
		}
		case 'coverage.enroll': {
			const id = tx.id as string;
			const existing = coverageAt(state, id);
			if (existing && existing.payer !== block.author) return `coverage ${id} belongs to another payer`;
			state.coverages
				.page(coverageKey(id), () => [])
				.push({
					id,
					payer: block.author,
					plan: tx.plan as string,
					patient: toHex(tx.patient as Uint8Array),
					start: dayOf(tx.start)!,
					end: tx.end === undefined || tx.end === null ? null : dayOf(tx.end)!,
					block: block.id,
					at
				});
			return null;
		}
		case 'auth.grant': {
			const coverage = coverageAt(state, tx.coverage as string, at);
			if (!coverage || coverage.payer !== block.author) return `coverage ${tx.coverage as string} is not one of this payer's`;
			if (state.auths.view(authKey(tx.id as string))) return `authorization ${tx.id as string} exists`;
			state.auths.page(authKey(tx.id as string), () => ({
				id: tx.id as string,
				payer: block.author,
				coverage: coverage.id,
				code: tx.code as string,
				start: dayOf(tx.start)!,
				end: dayOf(tx.end)!,
				block: block.id,
				at
			}));
			return null;
		}
		case 'claim.submit':
		case 'claim.correct': {
			const { claim } = parsedClaim(tx);
			if (!claim) return 'claim does not parse';
			const clinic = clinicOf(block.author);
			if (claim.provider !== clinic) return 'provider is not the submitting clinic';
			let original: ClaimRecord | undefined;
			if (tx.t === 'claim.correct') {
				original = recorded(state, context, tx.original as string);
				if (!original) return `no claim ${tx.original as string}`;
				if (original.clinic !== clinic) return 'the original claim is another clinic’s';
				if (original.replacedBy !== null) return 'the original claim was already corrected';
				if (original.patient !== claim.patient) return 'a correction cannot change the patient';
				undo(state, original);
			}
			const id = `${block.id}-${index}`;
			const page = pageOf(state, claim.patient);
			const rec: ClaimRecord = {
				id,
				n: Object.keys(page.claims).length,
				block: block.id,
				clock: block.clock,
				author: block.author,
				clinic,
				submitted: block.time,
				patient: claim.patient,
				coverage: claim.coverage,
				payer: coverageAt(state, claim.coverage, at)?.payer ?? null,
				billed: claim.billed,
				diagnoses: claim.diagnoses,
				lines: claim.lines.map(({ encounters: _, ...line }) => line),
				preAuth: [...claim.preAuth],
				decisions: [],
				replaces: original?.id ?? null,
				replacedBy: null
			};
			for (const key of [rec.author, rec.clinic, rec.patient, ...(rec.payer ? [rec.payer] : [])]) shortKey(state, key); // the checkpoint names them by number
			if (original) original.replacedBy = id;
			page.claims[id] = rec;
			state.count++;
			const short = shortKey(state, claim.patient);
			state.pages.sizes.set(short, (state.pages.sizes.get(short) ?? 0) + 1);
			const decision = decide(state, rec, block.id, original ? 'correction' : 'original', dayOfTime(block.time), known(), at);
			flagClaim(state, rec, claim.lines, decision, (ref) => encounterAt(context, ref, block, index)?.author ?? null, at);
			return null;
		}
		case 'claim.appeal': {
			const rec = recorded(state, context, tx.original as string);
			if (!rec) return `no claim ${tx.original as string}`;
			if (rec.clinic !== clinicOf(block.author)) return 'the claim is another clinic’s';
			if (rec.replacedBy !== null) return 'the claim was corrected; appeal the correction';
			undo(state, rec);
			for (const ref of (tx.preAuthRef as string[] | undefined) ?? []) if (!rec.preAuth.includes(ref)) rec.preAuth.push(ref);
			// Filed when first submitted: an appeal does not make a late claim timely, nor a timely one late.
			decide(state, rec, block.id, 'appeal', dayOfTime(rec.submitted), known(), at);
			return null;
		}
		case 'payment.record':
			pageOf(state, toHex(tx.patient as Uint8Array)).payments.push({
				block: block.id,
				clock: block.clock,
				clinic: clinicOf(block.author),
				patient: toHex(tx.patient as Uint8Array),
				amount: tx.amount as number,
				claim: (tx.claim as string | undefined) ?? null
			});
			return null;
		case 'remittance.record': {
			const rec = recorded(state, context, tx.claim as string);
			if (!rec) return `no claim ${tx.claim as string}`;
			if (rec.payer !== block.author) return 'the claim is not this payer’s';
			pageOf(state, rec.patient).remittances.push({
				block: block.id,
				clock: block.clock,
				payer: block.author,
				clinic: rec.clinic,
				claim: rec.id,
				amount: tx.amount as number
			});
			return null;
		}
		case 'patient.deceased': {
			const patient = toHex(tx.patient as Uint8Array);
			pageOf(state, patient).death = { day: dayOf(tx.date)!, block: block.id };
			flagAfterDeath(state, patient);
			return null;
		}
		default:
			return null;
	}
}

/** Applies `block`'s transactions in order: all of them, or those of scope `only` (a page re-applied). */
function applyBlock(state: ClaimsState, block: Block, context: FoldContext, only?: string): void {
	// Computed once per block, when a transaction first needs it (its own deploys never count).
	let known: Known | undefined;
	const knownOnce = () => (known ??= knownBefore(state, block, context));
	for (const [index, tx] of block.txs.entries()) {
		const scope = scopeOf(tx, context);
		if (only !== undefined && scope !== only) continue;
		const reason = applyTx(state, block, tx, index, knownOnce, context);
		if (reason !== null) ignore(state, scope, { block: block.id, clock: block.clock, tx: index, reason });
	}
}

const payers = payerHead((state, block, tx, index, context) => applyTx(state, block, tx, index, () => ({}), context));

export const claimsFold: Fold<ClaimsState> = {
	name: 'claims',
	// 2: contract versions known from the ledger's version vectors, encounter records read from
	// the records index: no `known` or `encounters` map in the state.
	// 3: each patient's claims and accumulators in a page of their own, packed apart in the
	// checkpoint and decoded when first used (claims-state.ts `Pages`); the patient of a claim a
	// correction, appeal or remittance names read from the claim index (claim-index.ts).
	// 4: each patient's flags, payments, remittances, death and refusals in the patient's page,
	// claims numbered within the page, the head read as of each transaction: a late block
	// re-applies its patients' pages (`keyed`) instead of rewinding.
	version: 4,
	init: () => emptyClaimsState(),
	reads: [
		// The patients of the claims a block's corrections, appeals and remittances name (claim-index.ts).
		claimReads,
		// The encounter records a claim's lines name: not kept in the state (records/encounter-lookup.ts).
		encounterReads((block) =>
			block.txs.flatMap((tx) =>
				tx.t === 'claim.submit' || tx.t === 'claim.correct' ? (parsedClaim(tx).claim?.lines.flatMap((l) => l.encounters) ?? []) : []
			)
		)
	],
	apply(state, block, context) {
		if (!context)
			throw new CodedError('FOLD_NEEDS_CONTEXT', 'the claims fold needs each block’s causal past and index rows (Fold.apply’s `context`)');
		applyBlock(state, block, context);
		return state;
	},
	// A block that lands late re-applies its patients' pages, each from the patient's first
	// block, instead of rewinding the fold to a checkpoint: a page depends only on the
	// patient's blocks (claim-blocks index), the head as of each transaction, and the index
	// rows and causal past each block reads. A late contract, coverage or authorization rebuilds
	// those and re-applies the pages reading what changed; a late clinic mapping rewinds.
	keyed: {
		index: claimBlocksIndex,
		keysOf(block, context) {
			const keys = new Set<string>();
			for (const [index, tx] of block.txs.entries()) {
				const scope = scopeOf(tx, context);
				if (scope === null && inPayerHead(tx)) continue; // the shared piece below
				if (scope === null) return null;
				if (scope !== undefined) keys.add(scope);
				// A claim made late stops being an orphan for what names it after it.
				if ((tx.t === 'claim.submit' || tx.t === 'claim.correct') && parsedClaim(tx).claim) keys.add(`?${block.id}-${index}`);
			}
			return [...keys];
		},
		// A late contract, coverage or authorization: those rebuilt, and the pages of the claims reading what changed re-applied (claims-head.ts).
		shared: payers,
		rowKeys: (key) => [key.startsWith('?') ? claimRow(key.slice(1)) : patientRow(key)],
		moreRowKeys(block, key) {
			const out: string[] = [];
			block.txs.forEach((tx, index) => {
				if ((tx.t === 'claim.submit' || tx.t === 'claim.correct') && parsedClaim(tx).claim?.patient === key)
					out.push(claimRow(`${block.id}-${index}`));
			});
			return out;
		},
		// A record that lands late changes what the claims naming it found (encounter-lookup.ts).
		dependents: (block) => factRows(recordVersionsIndex, block).map((row) => encounterRow(row.key)),
		clear(state, key) {
			if (key.startsWith('?')) {
				state.orphans.delete(orphanKey(key.slice(1)));
				return;
			}
			const short = knownKey(state, key);
			if (short === undefined) return;
			// The page's claim count, not the page: a page stored and not read is cleared without reading it.
			state.count -= state.pages.sizes.get(short) ?? 0;
			state.pages.sizes.delete(short);
			state.pages.delete(String(short));
		},
		applyKey(state, block, key, context) {
			applyBlock(state, block, context, key);
		}
	},
	// Each patient's page is kept in the store, not in the checkpoint (core/ledger/page-rows.ts):
	// read before a batch that bills the patient, written when changed beside the next checkpoint.
	pages: {
		// Patients numbered together share a row ({@link PAGES_PER_ROW}): Billing reads every page in a sixteenth of the reads.
		rowOf: pageRowOf,
		// Ledgers written by commits 922cacd to 6274f30 hold this fold's pages in rows of an earlier layout: the open deletes them.
		earlierLayout: true,
		keysOf(block, context, state) {
			const keys = new Set<string>();
			for (const tx of block.txs) {
				for (const key of payerPagesOf(tx)) keys.add(key);
				const scope = scopeOf(tx, context);
				if (scope === null || scope === undefined) continue;
				const short = scope.startsWith('?') ? undefined : knownKey(state, scope);
				if (scope.startsWith('?')) keys.add(orphanKey(scope.slice(1)));
				else if (short !== undefined) keys.add(String(short));
			}
			return keys;
		},
		// An appeal decides its claim again: the coverage and authorizations the claim's record names (earlier appeals add some).
		moreKeysOf: appealPagesOf,
		of: (state) => claimsPageSet(state.pages, state.coverages, state.auths, state.orphans)
	},
	// The state holds only integers, text, booleans, null, arrays and plain objects, so
	// JSON round-trips it exactly; byte strings of packed JSON encode and decode far faster
	// than the same data as nested CBOR maps (measured: docs/contracts.md). The head is one,
	// each page in memory another (checkpoint.ts).
	encode: packState,
	decode: unpackState,
	// The head (and the pages of a checkpoint from before they were rows: 69 MB at 1,000,000 blocks) is only read (JSON): kept as views of the checkpoint's bytes, not copied.
	decodesViews: true
};
