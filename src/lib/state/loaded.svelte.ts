/**
 * A value read from the ledger's store (a promise), kept current in a component: `load`
 * runs again whenever state it reads before its first `await` changes, and an answer that
 * a newer load has overtaken is dropped. Call while a component initialises.
 */
export function loaded<T>(load: () => Promise<T>, initial: T): { readonly current: T } {
	let value = $state.raw(initial);
	$effect(() => {
		let live = true;
		load().then(
			(v) => {
				if (live) value = v;
			},
			() => {
				if (live) value = initial;
			}
		);
		return () => {
			live = false;
		};
	});
	return {
		get current() {
			return value;
		}
	};
}
