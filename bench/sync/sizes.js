// The sizes of the sync bench's runs (full, or --quick to check the harness) and their
// short labels (10000 -> 10k).

/** Blocks per catch-up, notes of the propagation run, and how long each Yjs baseline may take. */
export function syncSizes(quick) {
	return quick
		? { small: 2_000, large: 10_000, propagation: 30, yjsTimeoutS: 10, attachmentTimeoutS: 10, largeYjsTimeoutS: 30 }
		: { small: 10_000, large: 100_000, propagation: 100, yjsTimeoutS: 20, attachmentTimeoutS: 15, largeYjsTimeoutS: 45 };
}

export const label = (n) => (n >= 1000 ? `${n / 1000}k` : `${n}`);
