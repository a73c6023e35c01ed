/**
 * Worker side of {@link createWorkerSigner}: signs batches of messages with the one
 * non-extractable WebCrypto key the page sent first (a `CryptoKey` is cloned, never its
 * bytes: the key stays inside the browser's crypto).
 */
/** `messages`: `count` messages of `size` bytes each, end to end (one buffer: cloning many small arrays costs far more). */
type SignRequest = { key: CryptoKey } | { id: number; messages: Uint8Array<ArrayBuffer>; size: number; count: number };

const scope = globalThis as unknown as {
	onmessage: ((event: MessageEvent<SignRequest>) => void) | null;
	postMessage(message: unknown, transfer?: Transferable[]): void;
};
let key: CryptoKey | null = null;

scope.onmessage = async (event) => {
	const data = event.data;
	if ('key' in data) {
		key = data.key;
		return;
	}
	try {
		if (key === null) throw new Error('no signing key was given to this worker');
		const signing = key;
		const { messages, size, count } = data;
		const signatures = new Uint8Array(count * 64);
		for (let i = 0; i < count; i++) {
			const signature = await crypto.subtle.sign('Ed25519', signing, messages.subarray(i * size, (i + 1) * size));
			signatures.set(new Uint8Array(signature), i * 64);
		}
		scope.postMessage({ id: data.id, signatures }, [signatures.buffer]);
	} catch (error) {
		scope.postMessage({ id: data.id, error: error instanceof Error ? error.message : String(error) });
	}
};

export {};
