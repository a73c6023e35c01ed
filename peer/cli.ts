/**
 * The headless peer's command: parse the options, load or create the identity, start the
 * peer, log until SIGINT/SIGTERM, then shut down cleanly. Resolves with the exit code:
 * 0 stopped cleanly, 1 could not start (key, ledger file), 2 bad command line or link.
 */
import { publicKeyOf, toHex } from '../src/lib/core/index.js';
import { KeyFileError, loadOrCreateKey } from './identity.js';
import { StoreLockedError } from './lock.js';
import { USAGE, UsageError, parsePeerArgs, type PeerOptions } from './options.js';
import { startPeer } from './peer.js';
import type { WrtcModule } from './wrtc.js';

/** Exit codes: stopped cleanly; could not start (key or ledger file); bad command line or link. */
export const EXIT_OK = 0;
export const EXIT_START_FAILED = 1;
export const EXIT_USAGE = 2;

const stamp = (line: string) => `${new Date().toISOString()} ${line}\n`;
const log = (line: string) => process.stdout.write(stamp(line));
const fail = (line: string) => process.stderr.write(`error: ${line}\n`);

/** Runs the peer for `argv` (without node and script) until a signal; resolves with the exit code. */
export async function main(argv: readonly string[], { wrtc }: { wrtc: WrtcModule }): Promise<number> {
	let options: PeerOptions | 'help';
	try {
		options = parsePeerArgs(argv);
	} catch (error) {
		if (!(error instanceof UsageError)) throw error;
		fail(error.message);
		process.stderr.write('(node peer/main.js --help lists the options)\n');
		return EXIT_USAGE;
	}
	if (options === 'help') {
		process.stdout.write(`${USAGE}\n`);
		return EXIT_OK;
	}

	let seed: Uint8Array;
	let created: boolean;
	try {
		({ seed, created } = loadOrCreateKey(options.keyPath));
	} catch (error) {
		if (!(error instanceof KeyFileError)) throw error;
		fail(error.message);
		return EXIT_START_FAILED;
	}
	const author = toHex(publicKeyOf(seed));
	const { link } = options;
	log(`headless peer for network ${link.name ? `"${link.name}" ` : ''}${link.net}`);
	log(`identity ${author} (${created ? 'new key written to' : 'key'} ${options.keyPath})`);

	let peer;
	try {
		peer = await startPeer({
			link,
			storePath: options.storePath,
			seed,
			wrtc,
			log,
			statusPort: options.statusPort,
			rejoinAfterMs: options.rejoinAfterMs,
			fhir: options.fhir
		});
	} catch (error) {
		// Expected ways to fail: the file is in use, holds another network, or cannot be
		// read or written (permissions, disk). Anything else is a bug: its stack is wanted.
		const message = (error as Error).message;
		if (
			error instanceof StoreLockedError ||
			/this store holds network/.test(message) ||
			typeof (error as NodeJS.ErrnoException).code === 'string'
		) {
			fail(message);
			return EXIT_START_FAILED;
		}
		throw error;
	}
	const role = peer.ledger.roster().get(peer.author);
	if (role) log(`this key is a member of the network (role ${role})`);
	else {
		const why =
			peer.ledger.size === 0
				? 'The ledger is empty: it arrives from the first member that accepts this node, and'
				: 'This key is not a member in the local copy of the ledger, and';
		log(`NOT A MEMBER YET. ${why} members sync only with members: an admin must add this key as a member (e.g. role "peer"): ${author}`);
	}
	log(`joining through ${link.signaling.join(', ')}`);

	const signal = await new Promise<NodeJS.Signals>((resolve) => {
		process.once('SIGINT', () => resolve('SIGINT'));
		process.once('SIGTERM', () => resolve('SIGTERM'));
	});
	log(`${signal}: stopping`);
	const force = () => {
		fail('second signal: exiting without closing the ledger cleanly');
		process.exit(EXIT_START_FAILED);
	};
	process.once('SIGINT', force);
	process.once('SIGTERM', force);
	await peer.close();
	log(`stopped; ledger holds ${peer.ledger.size} blocks`);
	return EXIT_OK;
}
