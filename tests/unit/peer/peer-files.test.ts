/** The headless peer's command line, key file and store lock (no network involved). */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { toHex } from '../../../src/lib/core/index.js';
import { testSecret } from '../../../src/lib/core/testing/fixtures.js';
import { networkLinkUrl } from '../../../src/lib/domain/network-link.js';
import { FileStore, LOG_MAGIC } from '../../../src/lib/core/storage/file.js';
import { EXIT_START_FAILED, main } from '../../../peer/cli.js';
import { KeyFileError, loadOrCreateKey, writeKeyFile } from '../../../peer/identity.js';
import { StoreLockedError, lockStore } from '../../../peer/lock.js';
import { UsageError, parsePeerArgs } from '../../../peer/options.js';

const dir = mkdtempSync(join(tmpdir(), 'clinic-peer-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = 'ab'.repeat(32);
const link = networkLinkUrl('https://clinic.example/', {
	net: net as never,
	secret: 'cd'.repeat(32),
	signaling: ['wss://signal.example/signaling'],
	name: 'North Clinic'
});

describe('peer command line', () => {
	it('reads the network link and puts key and ledger under ~/.clinic-ledger-peer by default', () => {
		const options = parsePeerArgs(['--invite', link], '/home/clinic');
		expect(options).toMatchObject({
			link: { net, name: 'North Clinic', signaling: ['wss://signal.example/signaling'] },
			storePath: `/home/clinic/.clinic-ledger-peer/${net.slice(0, 16)}.log`,
			keyPath: `/home/clinic/.clinic-ledger-peer/${net.slice(0, 16)}.key`,
			statusPort: null,
			rejoinAfterMs: 30_000
		});
	});

	it('takes explicit paths, a status port and the link from a file', () => {
		const file = join(dir, 'invite.txt');
		writeFileSync(file, `${link}\n`);
		const options = parsePeerArgs([
			'--invite-file',
			file,
			'--store',
			'/srv/l.log',
			'--key',
			'/srv/p.key',
			'--status-port',
			'0',
			'--rejoin-after',
			'5'
		]);
		expect(options).toMatchObject({ storePath: '/srv/l.log', keyPath: '/srv/p.key', statusPort: 0, rejoinAfterMs: 5000, link: { net } });
	});

	it.each([
		[[], /no network link/],
		[['--invite', 'https://clinic.example/'], /not a network link/],
		[['--invite', 'https://clinic.example/#network=%%%'], /damaged/],
		[['--invite', link, '--invite-file', 'x'], /either --invite or --invite-file/],
		[['--invite', link, '--status-port', 'http'], /not a port number/],
		[['--invite', link, '--verbose'], /Unknown option '--verbose'/],
		[['--invite-file', join(dir, 'missing.txt')], /cannot read the invite file/]
	])('refuses %j with a usage error', (argv, message) => {
		expect(() => parsePeerArgs(argv)).toThrow(UsageError);
		expect(() => parsePeerArgs(argv)).toThrow(message);
	});
});

describe('peer key file', () => {
	it('is created once with mode 0600 and read back as the same key', () => {
		const path = join(dir, 'keys', 'new.key');
		const first = loadOrCreateKey(path);
		expect(first.created).toBe(true);
		expect(statSync(path).mode & 0o777).toBe(0o600);
		const again = loadOrCreateKey(path);
		expect(again.created).toBe(false);
		expect(toHex(again.seed)).toBe(toHex(first.seed));
	});

	it('refuses a key file others can read, or one that holds no key', () => {
		const path = join(dir, 'open.key');
		writeKeyFile(path, testSecret('peer'));
		chmodSync(path, 0o644);
		expect(() => loadOrCreateKey(path)).toThrow(/chmod 600/);
		const garbage = join(dir, 'garbage.key');
		writeFileSync(garbage, 'not a key\n', { mode: 0o600 });
		expect(() => loadOrCreateKey(garbage)).toThrow(KeyFileError);
		expect(readFileSync(garbage, 'utf8')).toBe('not a key\n');
	});
});

describe('ledger file lock', () => {
	it('refuses a ledger file held by a running process and takes over one left by a dead one', async () => {
		const store = join(dir, 'locked.log');
		const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
		try {
			writeFileSync(`${store}.lock`, `${other.pid}\n`);
			expect(() => lockStore(store)).toThrow(StoreLockedError);
		} finally {
			other.kill();
			await new Promise((resolve) => other.once('exit', resolve));
		}
		const release = lockStore(store);
		expect(readFileSync(`${store}.lock`, 'utf8')).toBe(`${process.pid}\n`);
		release();
		expect(() => statSync(`${store}.lock`)).toThrow();
	});
});

describe('ledger file the peer cannot use', () => {
	it.each([
		[
			'of another format (a version 1 log)',
			new Uint8Array([0, 0, 0, 5, 0xa1, 0x61, 0x6b, 0x61, 0x62]),
			/not a ledger log of this version.*move the file away/
		],
		['with a damaged acknowledged record', null, /fails its checksum and whole records follow/]
	])('%s: the peer refuses to start (exit 1), says what to do, and leaves the file alone', async (_, bytes, message) => {
		const store = join(dir, `unusable-${bytes ? 'format' : 'damaged'}.log`);
		if (bytes) writeFileSync(store, bytes);
		else {
			const file = await FileStore.open(store);
			await file.putMeta('a', 1);
			await file.putMeta('b', 2);
			await file.close();
			const damaged = readFileSync(store);
			damaged[LOG_MAGIC.length + 40]! ^= 0xff;
			writeFileSync(store, damaged);
		}
		const before = readFileSync(store);
		const errors: string[] = [];
		const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => errors.push(String(chunk)) > 0);
		const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
		try {
			const code = await main(['--invite', link, '--store', store, '--key', join(dir, 'unusable.key')], { wrtc: {} as never });
			expect(code).toBe(EXIT_START_FAILED);
		} finally {
			stderr.mockRestore();
			stdout.mockRestore();
		}
		expect(errors.join('')).toMatch(message);
		expect(readFileSync(store)).toEqual(before);
		expect(() => statSync(`${store}.lock`)).toThrow();
	});
});
