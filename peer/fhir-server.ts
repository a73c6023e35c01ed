/**
 * The peer's FHIR R4 REST endpoint, so a clinic's existing EHR can push and pull records:
 * `GET metadata`, `GET [type]/[id]`, `GET [type]/[id]/_history/[vid]`, `GET [type]?…`
 * and `POST /` with a transaction or batch Bundle (src/lib/domain/records/fhir-api.ts).
 * Every request needs `Authorization: Bearer <token>` (a random token the peer prints at
 * start, or one given); the server binds to 127.0.0.1 unless told otherwise. Refusals
 * are OperationOutcomes. Reads of decrypted data are logged on the ledger in batches.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Ledger } from '../src/lib/core/index.js';
import { RecordBook } from '../src/lib/domain/records/book.js';
import { FhirApi, outcome, type FhirResponse } from '../src/lib/domain/records/fhir-api.js';
import type { Keyring } from '../src/lib/domain/records/keyring.js';

/** Largest request body taken (a transaction Bundle of a few hundred patients). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Reads are written to the ledger at least this often while any are waiting. */
const READ_LOG_MS = 2_000;

export interface FhirServerConfig {
	readonly ledger: Ledger;
	readonly keyring: Keyring;
	readonly host: string;
	/** 0: any free port. */
	readonly port: number;
	/** The bearer token; a random one when absent. */
	readonly token?: string;
	readonly log?: (line: string) => void;
}

export interface FhirServer {
	/** Base URL, e.g. `http://127.0.0.1:8080/fhir`. */
	readonly url: string;
	readonly token: string;
	readonly api: FhirApi;
	close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function send(response: ServerResponse, answer: FhirResponse): void {
	response
		.writeHead(answer.status, { 'Content-Type': FHIR_JSON, 'Cache-Control': 'no-store', ...answer.headers })
		.end(JSON.stringify(answer.body));
}

function readBody(request: IncomingMessage): Promise<string | null> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				resolve(null);
				request.destroy();
			} else chunks.push(chunk);
		});
		request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		request.on('error', reject);
	});
}

/** Serves the FHIR API of `ledger` as this node (`keyring`) on `host:port`. */
export async function serveFhir(config: FhirServerConfig): Promise<FhirServer> {
	const token = config.token ?? randomBytes(32).toString('base64url');
	const expected = Buffer.from(`Bearer ${token}`);
	const api = new FhirApi(new RecordBook(config.ledger, config.keyring), config.ledger);
	let base = '';
	const authorized = (request: IncomingMessage) => {
		const given = Buffer.from(request.headers.authorization ?? '');
		return given.length === expected.length && timingSafeEqual(given, expected);
	};

	async function handle(request: IncomingMessage): Promise<FhirResponse> {
		if (!authorized(request))
			return {
				...outcome(401, 'login', 'a bearer token is required (Authorization: Bearer <token printed by the peer>)'),
				headers: { 'WWW-Authenticate': 'Bearer realm="clinic-ledger"' }
			};
		const url = new URL(request.url ?? '/', 'http://peer');
		const parts = url.pathname
			.replace(/^\/fhir\/?/, '/')
			.split('/')
			.filter(Boolean)
			.map(decodeURIComponent);
		if (request.method === 'GET') {
			if (parts.length === 1 && parts[0] === 'metadata') return { status: 200, body: api.capabilityStatement() };
			if (parts.length === 1) return api.search(parts[0]!, url.searchParams, base);
			if (parts.length === 2) return api.read(parts[0]!, parts[1]!);
			if (parts.length === 4 && parts[2] === '_history') return api.read(parts[0]!, parts[1]!, parts[3]!);
			return outcome(404, 'not-found', `no such interaction: GET ${url.pathname}`);
		}
		if (request.method === 'POST' && parts.length === 0) {
			const body = await readBody(request);
			if (body === null) return outcome(413, 'too-costly', `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MB`);
			return api.transaction(body);
		}
		if (request.method === 'POST' && parts.length === 1 && parts[0] === '_search')
			return outcome(405, 'not-supported', 'POST _search is not supported: use GET');
		return outcome(
			405,
			'not-supported',
			`${request.method} ${url.pathname} is not supported: the ledger is append-only; POST a transaction Bundle to the base`
		);
	}

	const server = createServer((request, response) => {
		handle(request).then(
			(answer) => send(response, answer),
			(error: Error) => send(response, outcome(500, 'exception', error.message))
		);
	});
	let flushing: Promise<void> = Promise.resolve();
	const flush = () =>
		(flushing = flushing
			.then(() => api.flushReads())
			.catch((error: Error) => config.log?.(`fhir: reads could not be logged yet: ${error.message}`)));
	const timer = setInterval(flush, READ_LOG_MS);
	timer.unref();
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(config.port, config.host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/fhir`;
	return {
		url: base,
		token,
		api,
		close: async () => {
			clearInterval(timer);
			await new Promise<void>((done) => {
				server.close(() => done());
				server.closeAllConnections();
			});
			await flush();
		}
	};
}
