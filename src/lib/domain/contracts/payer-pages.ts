/**
 * The payers' records of the claims fold, as pages of its page set (core/fold.ts
 * `FoldPages`) beside the patients' pages: one per coverage (`v:<id>`: every version
 * enrolled, in ledger order, the last the current one) and one per authorization
 * (`a:<id>`). Kept as rows of the store like the patients' pages, so memory and checkpoints
 * hold no coverage or authorization (issue 19, item 3: they grow with every patient
 * enrolled and every authorization granted). The fold reads those its blocks name; a claim
 * names its coverage and authorizations, an appeal those of the claim it appeals (the
 * claim-patients index row, claim-index.ts).
 */
import { PageUnion, StoredPages, type PageSet } from '$lib/core/index.js';
import type { Authorization, Coverage } from './claims-types.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The page key of coverage `id`. */
export const coverageKey = (id: string): string => `v:${id}`;
/** The page key of authorization `id`. */
export const authKey = (id: string): string => `a:${id}`;

/** Pages of one kind of payer record, by page key, as JSON. As JSON (tests compare states so): every page, by record id. */
export class PayerPages<P> extends StoredPages<P> {
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
export const coveragePages = () => new PayerPages<Coverage[]>('coverage');
/** Each authorization, by `a:<id>`. */
export const authPages = () => new PayerPages<Authorization>('authorization');

/** The claims fold's page set: patients' pages under decimal keys, coverages under `v:`, authorizations under `a:`. */
export function claimsPageSet(patients: PageSet<unknown>, coverages: PageSet<unknown>, auths: PageSet<unknown>): PageSet<unknown> {
	return new PageUnion([patients, coverages, auths], (key) => (key.startsWith('v:') ? coverages : key.startsWith('a:') ? auths : patients));
}
