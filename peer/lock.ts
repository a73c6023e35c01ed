/**
 * One process per ledger file: two writers appending to one log would corrupt it. The
 * lock is a `<store>.lock` file holding the owner's pid; a lock left by a process that
 * no longer runs (killed, crashed) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** The ledger file is in use by another running peer. */
export class StoreLockedError extends Error {
	override readonly name = 'StoreLockedError';
}

function running(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Takes the lock of `storePath`; returns the function that releases it. */
export function lockStore(storePath: string): () => void {
	const path = `${storePath}.lock`;
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
			return () => rmSync(path, { force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
		if (Number.isInteger(owner) && owner !== process.pid && running(owner)) {
			throw new StoreLockedError(`ledger file ${storePath} is in use by process ${owner}: stop that peer first`);
		}
		rmSync(path, { force: true });
	}
	throw new StoreLockedError(`cannot lock ledger file ${storePath} (${path})`);
}
