// Meeting in a room: fresh secrets and room names for each run, waiting until a node
// reaches the signaling relay, and checking that its sessions really run over WebRTC.
import { randomBytes } from 'node:crypto';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const newSecret = () => randomBytes(32).toString('hex');
export const newRoom = (what) => `sync-bench-${what}-${randomBytes(6).toString('hex')}`;

/** Waits until the page's node (ledger mesh or Yjs provider) is connected to the signaling relay. */
export async function signalingUp(node, call) {
	for (let i = 0; i < 200; i++) {
		const status = await node.call(call);
		if ((status.connections?.signaling ?? status.signaling) > 0) return;
		await sleep(25);
	}
	throw new Error(`${node.name}: not connected to signaling after 5 s`);
}

/** Throws unless every session of the report runs over a WebRTC data channel. */
export function assertWebRTC(node, report, expected) {
	const kinds = report.sessions.map((s) => s.linkKind);
	if (kinds.length < expected || kinds.some((k) => k !== 'webrtc'))
		throw new Error(`${node.name}: expected ${expected} webrtc sessions, got [${kinds.join(', ')}]`);
	return kinds;
}
