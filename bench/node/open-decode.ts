/**
 * The checkpoint decode of `Ledger.open` on a fixture of bench/open-1m.js, in Node, timed
 * piece by piece as the fold engine does it (fold-engine.ts `decodeCheckpointStates`): the
 * canonical CBOR of the whole checkpoint (each fold's state a byte string), then each
 * fold's own bytes and decode (records, claims and supply parse one JSON string each;
 * the claims fold its head only: its pages are rows of the store since issue 19's item 3,
 * and a checkpoint from before then held them as bytes until used: `pagesMb`, and
 * `pagesMs`, what decoding every page cost when a view first showed every claim).
 * Beside the browser's figures, where the open's first part goes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCanonical, summaryFold, type Fold } from '../../src/lib/core/index.js';
import { APP_FOLDS } from '../../src/lib/domain/fold-registry.js';
import { allClaims, type ClaimsState } from '../../src/lib/domain/contracts/index.js';

type FoldDecode = { ms: number; jsonMb?: number; pagesMb?: number; pagesMs?: number };

export function decodeBreakdown(dir: string): { mb: number; cborMs: number; folds: Record<string, FoldDecode> } {
	const bytes = new Uint8Array(readFileSync(join(dir, 'checkpoint.bin')));
	let t = performance.now();
	const value = decodeCanonical(bytes) as { states: Uint8Array[] };
	const cborMs = performance.now() - t;
	const folds: Record<string, FoldDecode> = {};
	[summaryFold as Fold<unknown>, ...APP_FOLDS].forEach((f, i) => {
		t = performance.now();
		const state = decodeCanonical(value.states[i]!);
		const packed = state as { json?: Uint8Array; head?: Uint8Array; pages?: Uint8Array[] } | null;
		const json = packed?.json ?? packed?.head;
		const decoded = f.decode(state);
		folds[f.name] = { ms: performance.now() - t, ...(json instanceof Uint8Array ? { jsonMb: json.length / 1e6 } : {}) };
		// Pages held in the checkpoint (before they were rows of the store: core/ledger/fold-pages.ts); now none.
		if (f.name === 'claims' && Array.isArray(packed?.pages) && packed.pages.length > 0) {
			t = performance.now();
			allClaims(decoded as ClaimsState);
			folds[f.name] = { ...folds[f.name]!, pagesMb: packed.pages.reduce((n, p) => n + p.length, 0) / 1e6, pagesMs: performance.now() - t };
		}
	});
	return { mb: bytes.length / 1e6, cborMs, folds };
}
