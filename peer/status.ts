/**
 * A read-only JSON status endpoint on 127.0.0.1 for monitoring (`curl`, a health check):
 * ledger size and heads, sync sessions and connections. Never blocks or records.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening status endpoint. */
export interface StatusServer {
	readonly url: string;
	close(): Promise<void>;
}

/** Serves `status()` as JSON on 127.0.0.1:`port` (0: any free port). */
export function serveStatus(port: number, status: () => unknown): Promise<StatusServer> {
	const server = createServer((request, response) => {
		const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
		if (request.method !== 'GET' || (path !== '/' && path !== '/status')) {
			response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: GET /status\n');
			return;
		}
		response
			.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
			.end(`${JSON.stringify(status(), null, 1)}\n`);
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => {
			server.off('error', reject);
			const { port: bound } = server.address() as AddressInfo;
			resolve({
				url: `http://127.0.0.1:${bound}/status`,
				close: () =>
					new Promise<void>((done) => {
						server.close(() => done());
						server.closeAllConnections();
					})
			});
		});
	});
}
