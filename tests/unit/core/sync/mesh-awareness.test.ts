/**
 * Presence over y-webrtc in Node: a peer's removal that came from a peer is not repeated to
 * the connections (mesh.ts, #keepRemoteRemovals: the repeat raced the leaving peer's close and
 * crashed @roamhq/wrtc); every other awareness change still is. No native WebRTC here: the
 * room's connections are stand-ins that record what would be sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { Replicator, type Ledger } from '../../../../src/lib/core/index.js';
import { Mesh } from '../../../../src/lib/core/sync/mesh.js';
import { foundNetwork } from '../../../../src/lib/core/testing/fixtures.js';

const SECRET = '11'.repeat(32);

describe('awareness repeats in the mesh', () => {
	const open: { mesh: Mesh; ledger: Ledger }[] = [];
	afterEach(async () => {
		for (const { mesh, ledger } of open.splice(0)) {
			mesh.destroy();
			await ledger.close();
		}
	});

	/** A mesh with no signaling, its room open, and one stand-in connection recording sends. */
	async function meshWithConn(wrtc: unknown) {
		const ledger = await foundNetwork({});
		const mesh = new Mesh({ replicator: new Replicator(ledger), secret: SECRET, signaling: [], ...(wrtc ? { wrtc } : {}) });
		open.push({ mesh, ledger });
		await mesh.provider.key;
		const room = mesh.provider.room!;
		const sent: Uint8Array[] = [];
		(room.webrtcConns as Map<string, unknown>).set('stand-in', { peer: { send: (m: Uint8Array) => sent.push(m) }, destroy() {} });
		return { mesh, room, sent };
	}

	/** Another node's awareness: its update with a state, then the update that removes it. */
	function remoteNode(clientID: number) {
		const doc = new Y.Doc();
		doc.clientID = clientID;
		const other = new Awareness(doc);
		other.setLocalStateField('node', { author: 'other' });
		const joined = encodeAwarenessUpdate(other, [clientID]);
		other.setLocalState(null);
		const left = encodeAwarenessUpdate(other, [clientID]);
		other.destroy();
		return { joined, left };
	}

	it('in Node, repeats a peer joining and local changes, never a peer leaving', async () => {
		const { mesh, room, sent } = await meshWithConn({});
		for (const clientID of [7, 8, 9]) {
			const { joined, left } = remoteNode(clientID);
			sent.length = 0;
			applyAwarenessUpdate(mesh.provider.awareness, joined, room);
			expect(sent.length, `client ${clientID} joining is repeated`).toBe(1);
			expect(mesh.presence().map((p) => p.clientId)).toContain(clientID);

			sent.length = 0;
			applyAwarenessUpdate(mesh.provider.awareness, left, room);
			expect(sent, `client ${clientID} leaving is not repeated`).toEqual([]);
			expect(mesh.presence().map((p) => p.clientId)).not.toContain(clientID);
		}
		// A change of this node's own, and a removal this node makes itself (a timed-out peer), still go out.
		sent.length = 0;
		mesh.setPresence({ heads: 3 });
		expect(sent.length).toBe(1);
		applyAwarenessUpdate(mesh.provider.awareness, remoteNode(10).joined, room);
		sent.length = 0;
		applyAwarenessUpdate(mesh.provider.awareness, remoteNode(10).left, 'timeout');
		expect(sent.length).toBe(1);
	});

	it('in a browser (no wrtc given), y-webrtc repeats the removal as it always did', async () => {
		const { mesh, room, sent } = await meshWithConn(undefined);
		const { joined, left } = remoteNode(7);
		applyAwarenessUpdate(mesh.provider.awareness, joined, room);
		sent.length = 0;
		applyAwarenessUpdate(mesh.provider.awareness, left, room);
		expect(sent.length).toBe(1);
	});

	it("the room's disconnect takes the replaced handler off: nothing is sent after it", async () => {
		const { mesh, room, sent } = await meshWithConn({});
		mesh.provider.disconnect();
		sent.length = 0;
		applyAwarenessUpdate(mesh.provider.awareness, remoteNode(7).joined, room);
		mesh.setPresence({ heads: 4 });
		expect(sent).toEqual([]);
	});
});
