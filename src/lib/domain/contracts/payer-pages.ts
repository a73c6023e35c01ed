/**
 * The claims fold's pages beside the patients' (core/fold.ts `FoldPages`): the payers'
 * records, one per coverage (`v:<id>`: every version enrolled, in ledger order, the last the
 * current one) and one per authorization (`a:<id>`), and the transactions naming a claim no
 * claim transaction before them made, by that claim id (`o:<id>`: what a hostile member
 * could otherwise pile up in memory). Kept as rows of the store like the patients' pages, so memory and checkpoints
 * hold no coverage or authorization (issue 19, item 3: they grow with every patient
 * enrolled and every authorization granted). The fold reads those its blocks name; a claim
 * names its coverage and authorizations, an appeal those of the claim it appeals (the
 * claim-patients index row, claim-index.ts).
 */
import { PageUnion, StoredPages, type PageSet } from '$lib/core/index.js';
import type { Authorization, Coverage, Ignored } from './claims-types.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The page key of coverage `id`. */
export const coverageKey = (id: string): string => `v:${id}`;
/** The page key of authorization `id`. */
export const authKey = (id: string): string => `a:${id}`;
/** The page key of the transactions naming claim `id` before any made it. */
export const orphanKey = (id: string): string => `o:${id}`;

/** Pages of one kind of record, by page key (`<kind letter>:<id>`), as JSON. As JSON (tests compare states so): every page, by record id. */
export class JsonPages<P> extends StoredPages<P> {
	constructor(kind: string) {
		super(
			{ pack: (page) => utf8.encode(JSON.stringify(page)), unpack: (bytes) => JSON.parse(text.decode(bytes)) as P },
			(key) => `of ${kind} ${key.slice(2)}`
		);
	}

	toJSON(): Record<string, P> {
		const pages = this.all();
		return Object.fromEntries(this.keys().map((key, i) => [key.slice(2), pages[i]!]));
	}
}

/** Each coverage's versions in ledger order (the last the current one), by `v:<id>`. */
export const coveragePages = () => new JsonPages<Coverage[]>('coverage');
/** Each authorization, by `a:<id>`. */
export const authPages = () => new JsonPages<Authorization>('authorization');
/** The transactions naming each claim not made before them, by `o:<claim id>`. */
export const orphanPages = () => new JsonPages<Ignored[]>('orphans of claim');

/** The claims fold's page set: patients' pages under decimal keys, coverages under `v:`, authorizations under `a:`, orphans under `o:`. */
export function claimsPageSet(
	patients: PageSet<unknown>,
	coverages: PageSet<unknown>,
	auths: PageSet<unknown>,
	orphans: PageSet<unknown>
): PageSet<unknown> {
	const of: Record<string, PageSet<unknown>> = { 'v:': coverages, 'a:': auths, 'o:': orphans };
	return new PageUnion([patients, coverages, auths, orphans], (key) => of[key.slice(0, 2)] ?? patients);
}
