/**
 * Where the headless peer keeps its ledger: a LevelDB database (core/storage/level.ts), a
 * directory at the store path. A peer of an earlier version kept a ledger file (an
 * append-only log, core/storage/file.ts) at that same path: the first start finds a file
 * there and migrates it once, then keeps it beside the database as `<path>.file-backup`.
 *
 * The migration copies into `<path>.migrating`, and only a complete copy is put in place:
 * the old file is renamed to the backup, then the copy to `<path>`. A crash before the
 * renames leaves the old file where it was (the next start copies again); a crash between
 * them leaves the backup and the complete copy, and the next start finishes the renames.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CodedError } from '../src/lib/core/errors.js';
import { FileStore } from '../src/lib/core/storage/file.js';
import { LevelStore } from '../src/lib/core/storage/level.js';
import type { OrderKey } from '../src/lib/core/storage/store.js';

/** Blocks copied per append while migrating. */
const PAGE = 5_000;

/** Where the old ledger file is kept once migrated. */
export const backupPath = (path: string) => `${path}.file-backup`;
const migratingPath = (path: string) => `${path}.migrating`;

/** Makes renames in `path`'s directory durable. */
function fsyncParent(path: string): void {
	const fd = openSync(dirname(path), 'r');
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

/**
 * Opens the peer's ledger database at `path`, migrating a ledger file found there first.
 * Rejects as {@link FileStore.open} does when that file cannot be read (it is left as it is),
 * or as {@link LevelStore.open}.
 */
export async function openPeerStore(path: string, log: (line: string) => void = () => {}): Promise<LevelStore> {
	const migrating = migratingPath(path);
	if (!existsSync(path) && existsSync(migrating) && existsSync(backupPath(path))) {
		renameSync(migrating, path);
		fsyncParent(path);
		log(`ledger: finished the migration of ${backupPath(path)} into ${path}`);
	} else if (existsSync(path) && statSync(path).isFile()) {
		await migrateFile(path, log);
	}
	return LevelStore.open(path);
}

/** Copies the ledger file at `path` into a database, then puts the database in its place. */
async function migrateFile(path: string, log: (line: string) => void): Promise<void> {
	const migrating = migratingPath(path);
	const backup = backupPath(path);
	if (existsSync(backup)) throw new CodedError('LEDGER_BACKUP_EXISTS', `${backup} exists: move it away so that ${path} can be migrated`);
	const started = performance.now();
	const old = await FileStore.open(path);
	let copied: number;
	try {
		rmSync(migrating, { recursive: true, force: true }); // a copy a crash cut short
		const db = await LevelStore.open(migrating);
		try {
			copied = await copyStore(old, db);
		} finally {
			await db.close();
		}
	} finally {
		await old.close();
	}
	renameSync(path, backup);
	renameSync(migrating, path);
	fsyncParent(path);
	log(
		`ledger: migrated the ledger file to a database (${copied} blocks, ${Math.round(performance.now() - started)} ms); the file is kept as ${backup}`
	);
}

/** Copies blocks (in order), meta, evidence and the latest checkpoint; returns the block count. */
async function copyStore(from: FileStore, to: LevelStore): Promise<number> {
	let after: OrderKey | null = null;
	for (;;) {
		const page = await from.ordered(after, PAGE);
		if (page.length === 0) break;
		await to.append(page);
		const last = page[page.length - 1]!;
		after = [last.clock, last.id];
	}
	for (const key of from.metaKeys()) await to.putMeta(key, await from.getMeta(key));
	for (const evidence of await from.evidence()) await to.putEvidence(evidence);
	// Checkpoints are derived: the latest is enough to open without folding every block.
	const checkpoint = await from.checkpointAtOrBefore(null);
	if (checkpoint) await to.putCheckpoint(checkpoint);
	const [want, got] = [await from.count(), await to.count()];
	if (want !== got) throw new CodedError('LEDGER_MIGRATION_FAILED', `ledger migration copied ${got} of ${want} blocks`);
	return got;
}
