/**
 * The payers' entries of the claims head as checkpoints stored them before coverages and
 * authorizations were pages (payer-pages.ts): read to decode such a checkpoint
 * (checkpoint.ts), and written only by the tests that make one. Coverages, the versions a
 * re-enrolment replaced, and authorizations as rows of values, the
 * 64-hex-character keys in them (payer, patient, block ids) as numbers into one table that
 * starts with the state's key list (patients and members already in it cost nothing more).
 * At 1,000,000 blocks (10,000 coverages) the coverages were 3.8 of the head's 4.6 MB as
 * objects (docs/benchmarks.md). An entry of any other shape than the fold makes leaves the
 * whole part as objects ({@link packPayers} gives null): never a state that decodes differently.
 */
import type { Authorization, Coverage } from './claims-types.js';

/** A coverage or an authorization as a row: id, payer, then its own fields, block, place. */
type Row = (string | number | null)[];

export interface PackedPayers {
	/** Keys past the key list, numbered on from its end. */
	keys: string[];
	coverages: Row[];
	history: [string, Row[]][];
	auths: Row[];
}

/** What {@link packPayers} packs. */
export interface Payers {
	coverages: Record<string, Coverage>;
	coverageHistory: Record<string, Coverage[]>;
	auths: Record<string, Authorization>;
}

const COVERAGE_FIELDS = 'id,payer,plan,patient,start,end,block,at';
const AUTH_FIELDS = 'id,payer,coverage,code,start,end,block,at';

const isPlace = (at: unknown): at is [number, string, number] =>
	Array.isArray(at) && at.length === 3 && Number.isSafeInteger(at[0]) && typeof at[1] === 'string' && Number.isSafeInteger(at[2]);

/** The payers' part packed, or null when an entry is not of the shape the fold makes. `known`: a key's place in `keyList`. */
export function packPayers(payers: Payers, keyList: readonly string[], known: (key: string) => number | undefined): PackedPayers | null {
	const keys: string[] = [];
	const extra = new Map<string, number>();
	const number = (key: string): number => {
		let n = known(key) ?? extra.get(key);
		if (n === undefined) {
			n = keyList.length + keys.push(key) - 1;
			extra.set(key, n);
		}
		return n;
	};
	let odd = false;
	const coverage = (c: Coverage): Row => {
		if (Object.keys(c).join() !== COVERAGE_FIELDS || !isPlace(c.at) || typeof c.start !== 'number') {
			odd = true;
			return [];
		}
		return [c.id, number(c.payer), c.plan, number(c.patient), c.start, c.end, number(c.block), c.at[0], number(c.at[1]), c.at[2]];
	};
	const auth = (a: Authorization): Row => {
		if (Object.keys(a).join() !== AUTH_FIELDS || !isPlace(a.at)) {
			odd = true;
			return [];
		}
		return [a.id, number(a.payer), a.coverage, a.code, a.start, a.end, number(a.block), a.at[0], number(a.at[1]), a.at[2]];
	};
	const byId = <T extends { id: string }>(entries: Record<string, T>, row: (entry: T) => Row): Row[] =>
		Object.entries(entries).map(([id, entry]) => {
			if (entry.id !== id) odd = true;
			return row(entry);
		});
	const packed: PackedPayers = {
		keys,
		coverages: byId(payers.coverages, coverage),
		history: Object.entries(payers.coverageHistory).map(([id, versions]) => [id, versions.map(coverage)]),
		auths: byId(payers.auths, auth)
	};
	return odd ? null : packed;
}

/** The payers' part of its packed form. */
export function unpackPayers(packed: PackedPayers, keyList: readonly string[]): Payers {
	const key = (n: number) => (n < keyList.length ? keyList[n]! : packed.keys[n - keyList.length]!);
	const coverage = (r: Row): Coverage => ({
		id: r[0] as string,
		payer: key(r[1] as number),
		plan: r[2] as string,
		patient: key(r[3] as number),
		start: r[4] as number,
		end: r[5] as number | null,
		block: key(r[6] as number),
		at: [r[7] as number, key(r[8] as number), r[9] as number]
	});
	const auth = (r: Row): Authorization => ({
		id: r[0] as string,
		payer: key(r[1] as number),
		coverage: r[2] as string,
		code: r[3] as string,
		start: r[4] as number,
		end: r[5] as number,
		block: key(r[6] as number),
		at: [r[7] as number, key(r[8] as number), r[9] as number]
	});
	const coverages: Record<string, Coverage> = {};
	for (const r of packed.coverages) coverages[r[0] as string] = coverage(r);
	const coverageHistory: Record<string, Coverage[]> = {};
	for (const [id, rows] of packed.history) coverageHistory[id] = rows.map(coverage);
	const auths: Record<string, Authorization> = {};
	for (const r of packed.auths) auths[r[0] as string] = auth(r);
	return { coverages, coverageHistory, auths };
}
