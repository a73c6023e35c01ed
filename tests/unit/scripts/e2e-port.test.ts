// The end-to-end server's port when another process holds it (a server left over from an
// interrupted run): the tests move to a free port, or, when E2E_PORT asks for the busy
// one, stop at once naming the holder; the server itself never moves silently off a
// port it was told to keep.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseE2ePort, portHolder } from '../../../scripts/e2e-port.js';
import { startServer } from '../../../server/start.js';

const CLI = fileURLToPath(new URL('../../../scripts/e2e-port.js', import.meta.url));

/** Whether this process can listen on `port` now. */
function free(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
	});
}

describe('a busy end-to-end port', () => {
	let holder: ChildProcess;
	let busy: number;

	beforeAll(async () => {
		// Another process, as a leftover server would be.
		holder = spawn(
			process.execPath,
			['-e', "require('node:net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })"],
			{ stdio: ['ignore', 'pipe', 'inherit'] }
		);
		busy = await new Promise<number>((resolve, reject) => {
			holder.stdout!.once('data', (chunk) => resolve(Number(String(chunk).trim())));
			holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
		});
	});

	afterAll(() => {
		holder.kill();
	});

	it('names the process that holds it', () => {
		expect(portHolder(busy)).toMatch(new RegExp(`^pid ${holder.pid} \\(.*node`));
	});

	it('without E2E_PORT: another, free port, with a notice naming the holder', async () => {
		const notices: string[] = [];
		const port = await chooseE2ePort({ preferred: busy, log: (line: string) => notices.push(line) });
		expect(port).not.toBe(busy);
		expect(await free(port)).toBe(true);
		expect(notices).toHaveLength(1);
		expect(notices[0]).toMatch(
			new RegExp(`^Port ${busy} is busy, held by pid ${holder.pid} \\(.*\\); the end-to-end tests use port ${port}\\.$`)
		);
	});

	it('a free preferred or requested port is used as it is', async () => {
		const port: number = await chooseE2ePort({ preferred: busy, log: () => {} });
		expect(await chooseE2ePort({ preferred: port, log: () => {} })).toBe(port);
		expect(await chooseE2ePort({ requested: port })).toBe(port);
	});

	it('with E2E_PORT on the busy port: refused at once, naming the holder', async () => {
		await expect(chooseE2ePort({ requested: busy })).rejects.toThrow(`E2E_PORT ${busy} is busy, held by pid ${holder.pid} (`);
		for (const bad of [0, -1, 70_000, 1.5, Number.NaN]) await expect(chooseE2ePort({ requested: bad })).rejects.toThrow(RangeError);
		const cli = spawnSync(process.execPath, [CLI], { env: { ...process.env, E2E_PORT: String(busy) }, encoding: 'utf8' });
		expect(cli.status).toBe(1);
		expect(cli.stdout).toBe('');
		expect(cli.stderr).toContain(`E2E_PORT ${busy} is busy, held by pid ${holder.pid}`);
	});

	it('the CLI prints the port Playwright then uses', () => {
		const env = { ...process.env };
		delete env.E2E_PORT;
		const cli = spawnSync(process.execPath, [CLI], { env, encoding: 'utf8' });
		expect(cli.status).toBe(0);
		expect(cli.stdout.trim()).toMatch(/^\d+$/);
	});

	it('the server told to keep its port (strictPort) fails on a busy one instead of moving', async () => {
		const root = mkdtempSync(join(tmpdir(), 'clinic-e2e-port-'));
		try {
			writeFileSync(join(root, 'index.html'), '<!doctype html>');
			await expect(startServer({ port: busy, strictPort: true, root })).rejects.toMatchObject({ code: 'EADDRINUSE' });
			// Without it, a clinic's server still moves to the next free port (with a warning, in the CLI).
			const moved = await startServer({ port: busy, root });
			expect(moved.port).not.toBe(busy);
			await moved.close();
		} finally {
			rmSync(root, { recursive: true, force: true });
		}
	});
});
