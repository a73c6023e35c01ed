/**
 * Claim fraud checks: findings with the blocks they rest on, for a person to judge. They
 * never deny a line by themselves (adjudication denies duplicates and over-limit units on
 * its own terms, with CARCs).
 *
 * Recorded by the fold as claims arrive: duplicate claims, unbundling (a code pair of the
 * policy billed on separate claims for one patient, clinic and day), excessive units,
 * services dated after a recorded death (also when the death is recorded later), and
 * encounter references to blocks that do not hold that encounter or were written by
 * another clinic. Computed on read from the whole state: providers whose visit-level
 * (E/M) code distribution is far from their peers' ({@link providerOutliers}).
 */
import { CARC, columnOneOf, lineKey } from './adjudicate.js';
import { dateOfDay } from './dates.js';
import type { EncounterRef } from '../records/encounter-lookup.js';
import type { ClaimLine } from './claim.js';
import {
	allClaims,
	claimPlace,
	clinicAt,
	comparePlace,
	pageClinic,
	pageOf,
	recordedFlags,
	type ClaimRecord,
	type ClaimsState,
	type Decision,
	type Flag,
	type TxPlace
} from './claims-state.js';

/**
 * Flags for a claim just decided, in its patient's page. `encounterAuthor`: who wrote the
 * encounter record a line names, before the claim in the ledger order, or null when there
 * is none (the fold reads it from the records index: records/encounter-lookup.ts). `at`:
 * the claim transaction's place (the clinics as of it).
 */
export function flagClaim(
	state: ClaimsState,
	rec: ClaimRecord,
	lines: readonly ClaimLine[],
	decision: Decision,
	encounterAuthor: (ref: EncounterRef) => string | null,
	at: TxPlace
): void {
	const page = pageOf(state, rec.patient);
	const flag = (f: Flag) => page.flags.push(f);
	// Duplicate and same-day lines are the patient's own: their claims are in the patient's page.
	let byN: Map<number, ClaimRecord> | undefined;
	const claimAt = (n: number) => (byN ??= new Map(Object.values(page.claims).map((c) => [c.n, c]))).get(n)!;
	const version = decision.plan === null ? undefined : state.contracts[decision.plan]?.versions.find((v) => v.version === decision.version);
	const policy = version?.policy;
	for (const [i, line] of lines.entries()) {
		const outcome = decision.lines[i]!;
		const carc = outcome.adjustments[0]?.carc;
		if (outcome.denied && carc === CARC.duplicate) {
			const owner = page.lineKeys[lineKey(page, rec, line)];
			const other = owner !== undefined && owner !== rec.n ? claimAt(owner) : null;
			flag({
				kind: 'duplicate',
				claim: rec.id,
				detail: `line ${line.seq} (${line.code} on ${dateOfDay(line.dos)}) was already billed${other ? ` by claim ${other.id.slice(0, 12)}` : ' on this claim'}`,
				blocks: other ? [rec.block, other.block] : [rec.block]
			});
		}
		const terms = policy?.services[line.code];
		if (terms && line.units > terms.maxUnits)
			flag({
				kind: 'excessive-units',
				claim: rec.id,
				detail: `line ${line.seq}: ${line.units} units of ${line.code}, the limit is ${terms.maxUnits}`,
				blocks: [rec.block, version!.block]
			});
		const death = page.death;
		if (death && line.dos > death.day)
			flag({
				kind: 'after-death',
				claim: rec.id,
				detail: `line ${line.seq}: service on ${dateOfDay(line.dos)}, after the recorded death on ${dateOfDay(death.day)}`,
				blocks: [rec.block, death.block]
			});
		for (const e of line.encounters) {
			const author = encounterAuthor(e);
			if (author === null)
				flag({
					kind: 'encounter-missing',
					claim: rec.id,
					detail: `line ${line.seq}: no encounter ${e.rid.slice(0, 8)} in block ${e.block.slice(0, 12)}`,
					blocks: [rec.block]
				});
			else if (clinicAt(state, author, at) !== rec.clinic)
				flag({
					kind: 'encounter-other-clinic',
					claim: rec.id,
					detail: `line ${line.seq}: encounter block ${e.block.slice(0, 12)} was written by another clinic`,
					blocks: [rec.block, e.block]
				});
		}
		// Unbundling across claims: a code pair billed on two claims for the same patient, clinic and day.
		const dayKey = `${pageClinic(page, rec.clinic)}|${line.dos}`;
		const billed = page.sameDay[dayKey] ?? (page.sameDay[dayKey] = []);
		if (policy) {
			const ones = columnOneOf(policy).get(line.code) ?? [];
			for (const [code, n] of billed) {
				const other = claimAt(n);
				if (n === rec.n || other.replacedBy !== null) continue;
				const pairs = ones.some(([one]) => one === code) || (columnOneOf(policy).get(code) ?? []).some(([one]) => one === line.code);
				if (pairs)
					flag({
						kind: 'unbundling',
						claim: rec.id,
						detail: `${line.code} and ${code} (a code pair) billed on separate claims for ${dateOfDay(line.dos)}`,
						blocks: [rec.block, other.block]
					});
			}
		}
		billed.push([line.code, rec.n]);
	}
}

/** Flags for claims already recorded with services after a death just recorded in the patient's page. */
export function flagAfterDeath(state: ClaimsState, patient: string): void {
	const page = pageOf(state, patient);
	const death = page.death!;
	for (const rec of Object.values(page.claims)) {
		if (rec.replacedBy !== null) continue;
		for (const line of rec.lines) {
			if (line.dos > death.day)
				page.flags.push({
					kind: 'after-death',
					claim: rec.id,
					detail: `line ${line.seq}: service on ${dateOfDay(line.dos)}, after the recorded death on ${dateOfDay(death.day)}`,
					blocks: [rec.block, death.block]
				});
		}
	}
}

/** Established-patient office visit levels (CPT 99211-99215): the visit-level codes compared between providers. */
export const VISIT_CODES = ['99211', '99212', '99213', '99214', '99215'] as const;
/** Fewest visit-level lines a provider (and its peers together) must have before it is compared. */
export const OUTLIER_MIN_VISITS = 30;
/**
 * Chi-square critical value for 4 degrees of freedom at p = 0.001: a provider's
 * distribution over the five levels is flagged when its goodness-of-fit statistic against
 * the pooled distribution of all other providers exceeds it.
 */
export const OUTLIER_CHI2 = 18.467;

/**
 * The visit-level lines of every current claim, per providing clinic, added a claim at a
 * time in any order (a view of every claim reads one patient's page at a time and keeps
 * none): {@link VisitLevels.flags} gives the provider outliers.
 */
export class VisitLevels {
	readonly #counts = new Map<string, number[]>();
	/** Per clinic, [claim's place, block] of each claim with a visit-level line: listed in ledger order. */
	readonly #blocks = new Map<string, [TxPlace, string][]>();

	add(rec: ClaimRecord): void {
		if (rec.replacedBy !== null) return;
		let counted = false;
		for (const line of rec.lines) {
			const level = (VISIT_CODES as readonly string[]).indexOf(line.code);
			if (level < 0) continue;
			const c = this.#counts.get(rec.clinic) ?? [0, 0, 0, 0, 0];
			c[level]! += 1;
			this.#counts.set(rec.clinic, c);
			if (!counted) {
				const b = this.#blocks.get(rec.clinic) ?? [];
				b.push([claimPlace(rec), rec.block]);
				this.#blocks.set(rec.clinic, b);
				counted = true;
			}
		}
	}

	/**
	 * Providers whose visit-level code distribution is far from their peers': Pearson's
	 * chi-square of the provider's counts against the expected counts from the pooled
	 * distribution of every other provider (levels with no peer use are pooled away by a
	 * floor of half a visit). Deterministic: the same claims give the same flags, in
	 * whatever order they were added.
	 */
	flags(): Flag[] {
		const flags: Flag[] = [];
		const total = [0, 0, 0, 0, 0];
		for (const c of this.#counts.values()) c.forEach((n, i) => (total[i]! += n));
		for (const [clinic, c] of [...this.#counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
			const own = c.reduce((s, n) => s + n, 0);
			const peers = total.map((n, i) => n - c[i]!);
			const peerTotal = peers.reduce((s, n) => s + n, 0);
			if (own < OUTLIER_MIN_VISITS || peerTotal < OUTLIER_MIN_VISITS) continue;
			let chi2 = 0;
			for (let i = 0; i < 5; i++) {
				const expected = Math.max(0.5, (own * peers[i]!) / peerTotal);
				chi2 += (c[i]! - expected) ** 2 / expected;
			}
			if (chi2 > OUTLIER_CHI2) {
				const share = (n: number, of: number) => `${Math.round((100 * n) / of)}%`;
				// The claims' blocks in ledger order, each block once in a row (a block can hold several claims).
				const blocks: string[] = [];
				for (const [, block] of [...this.#blocks.get(clinic)!].sort((a, b) => comparePlace(a[0], b[0])))
					if (blocks[blocks.length - 1] !== block) blocks.push(block);
				flags.push({
					kind: 'provider-outlier',
					claim: clinic,
					detail: `visit levels 99211-99215: ${c.map((n) => share(n, own)).join(' / ')} over ${own} visits, peers ${peers.map((n) => share(n, peerTotal)).join(' / ')} (chi-square ${chi2.toFixed(1)} > ${OUTLIER_CHI2})`,
					blocks
				});
			}
		}
		return flags;
	}
}

/** The provider outliers among `claims` ({@link VisitLevels}). */
export function providerOutliers(claims: Iterable<ClaimRecord>): Flag[] {
	const levels = new VisitLevels();
	for (const rec of claims) levels.add(rec);
	return levels.flags();
}

/** Every flag: those the fold recorded (in their claims' ledger order), then the provider outliers. */
export const allFlags = (state: ClaimsState, claims: Iterable<ClaimRecord> = allClaims(state)): Flag[] => [
	...recordedFlags(state),
	...providerOutliers(claims)
];
