/**
 * Command line of the headless peer: which network (a network link from the app), and
 * where its key and ledger live. Every mistake is a {@link UsageError} whose message
 * says what to do.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InviteError, parseNetworkLink, type NetworkLink } from '../src/lib/domain/network-link.js';

/** The peer's command line, checked. */
export interface PeerOptions {
	readonly link: NetworkLink;
	/** The ledger's database directory (LevelStore); a ledger file of an older peer there is migrated once. */
	readonly storePath: string;
	/** The ed25519 seed of this peer's identity. */
	readonly keyPath: string;
	/** Port of the JSON status endpoint on 127.0.0.1 (0: any free port); null: none. */
	readonly statusPort: number | null;
	/** How long a connected peer may go without a sync session before the peer rejoins (ms). */
	readonly rejoinAfterMs: number;
	/** Where to serve the FHIR R4 REST API; null: not at all. */
	readonly fhir: { readonly host: string; readonly port: number } | null;
}

/** A command-line mistake; the message says what to do. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

/** The text of `--help`. */
export const USAGE = `usage: node peer/main.js --invite <network link> [options]

  --invite <link>        the network's link (https://…#network=…), from an admin
  --invite-file <path>   read the link from a file instead (keeps the room secret
                         out of the process list)
  --store <path>         ledger database, a directory (default
                         ~/.clinic-ledger-peer/<network>.log); a ledger file an
                         older peer wrote there is migrated once and kept as
                         <path>.file-backup
  --key <path>           identity key file, created if missing
                         (default ~/.clinic-ledger-peer/<network>.key)
  --status-port <port>   serve JSON status on http://127.0.0.1:<port>/status
                         (0 picks a free port)
  --fhir [<host>:]<port> serve the FHIR R4 REST API at http://<host>:<port>/fhir
                         (host 127.0.0.1 unless given; a bearer token is printed
                         at start). Records are read and written with this node's
                         grants: add it as one of a clinic's devices for that
                         clinic's; a plain relay peer answers 403
  --rejoin-after <s>     seconds a connected peer may go without a sync session
                         (e.g. it refused this node as a non-member) before this
                         node rejoins the mesh to try again (default 30, doubling
                         up to 300)
  --help                 show this text`;

/** Default directory for the key and the ledger of every network this machine serves. */
export function defaultDir(home = homedir()): string {
	return join(home, '.clinic-ledger-peer');
}

/** Short, file-name-safe prefix of a network id, naming its default files. */
export function netPrefix(link: NetworkLink): string {
	return link.net.slice(0, 16);
}

function readLink(values: { invite?: string; 'invite-file'?: string }): NetworkLink {
	if (values.invite !== undefined && values['invite-file'] !== undefined)
		throw new UsageError('give either --invite or --invite-file, not both');
	let text = values.invite;
	if (values['invite-file'] !== undefined) {
		try {
			text = readFileSync(values['invite-file'], 'utf8').trim();
		} catch (error) {
			throw new UsageError(`cannot read the invite file ${values['invite-file']}: ${(error as Error).message}`);
		}
	}
	if (text === undefined || text.trim() === '') {
		throw new UsageError('no network link: pass --invite "<link>" with the network link (…#network=…) an admin of the network gave you');
	}
	try {
		return parseNetworkLink(text.trim());
	} catch (error) {
		if (error instanceof InviteError) throw new UsageError(`${error.message}`);
		throw error;
	}
}

function readPort(value: string | undefined): number | null {
	if (value === undefined) return null;
	const port = Number(value);
	if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--status-port: "${value}" is not a port number (0-65535)`);
	return port;
}

function readFhir(value: string | undefined): { host: string; port: number } | null {
	if (value === undefined) return null;
	const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value);
	const port = m ? Number(m[2]) : NaN;
	if (!m || port > 65535) throw new UsageError(`--fhir: "${value}" is not [<host>:]<port> (e.g. 127.0.0.1:8080)`);
	return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

function readSeconds(value: string, option: string): number {
	const seconds = Number(value);
	if (!/^\d+(\.\d+)?$/.test(value) || seconds <= 0 || seconds > 3600)
		throw new UsageError(`${option}: "${value}" is not a number of seconds (up to 3600)`);
	return seconds;
}

/** Parses `argv` (without node and script); `'help'` when --help was asked for. */
export function parsePeerArgs(argv: readonly string[], home = homedir()): PeerOptions | 'help' {
	let parsed;
	try {
		parsed = parseArgs({
			args: [...argv],
			strict: true,
			allowPositionals: false,
			options: {
				invite: { type: 'string' },
				'invite-file': { type: 'string' },
				store: { type: 'string' },
				key: { type: 'string' },
				'status-port': { type: 'string' },
				'rejoin-after': { type: 'string' },
				fhir: { type: 'string' },
				help: { type: 'boolean', short: 'h' }
			}
		});
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const { values } = parsed;
	if (values.help) return 'help';
	const link = readLink(values);
	const dir = defaultDir(home);
	return {
		link,
		storePath: resolve(values.store ?? join(dir, `${netPrefix(link)}.log`)),
		keyPath: resolve(values.key ?? join(dir, `${netPrefix(link)}.key`)),
		statusPort: readPort(values['status-port']),
		rejoinAfterMs: readSeconds(values['rejoin-after'] ?? '30', '--rejoin-after') * 1000,
		fhir: readFhir(values.fhir)
	};
}
