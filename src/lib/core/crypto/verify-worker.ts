/**
 * Worker side of {@link createWorkerVerifier}: verifies batches of signatures with the
 * same strict verifier the page would use (WebCrypto behind the prechecks, else noble).
 */
import { unpackVerifyItems, type PackedVerifyItems } from './verify-batch.js';
import { detectVerifier } from './verifier.js';

interface Request {
	id: number;
	items: PackedVerifyItems;
}

const verifier = detectVerifier();
const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<Request>) => void) | null; postMessage(message: unknown): void };

scope.onmessage = async (event) => {
	const { id, items } = event.data;
	const engine = await verifier;
	const results = await Promise.all(unpackVerifyItems(items).map((i) => engine.verify(i.signature, i.message, i.publicKey)));
	scope.postMessage({ id, results, engine: engine.name });
};
