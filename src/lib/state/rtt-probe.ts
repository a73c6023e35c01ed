/**
 * Round-trip times of the WebRTC sessions, as their links measure them (the browser's
 * ICE statistics): sampled every second, the latest per connection label kept.
 */
import type { SyncSession } from '$lib/core/index.js';

export class RttProbe {
	/** Last measured round-trip time per connection label (ms). */
	#rtt = new Map<string, number>();

	/** Measures every open WebRTC session; forgets connections that are gone. */
	async measure(sessions: readonly SyncSession[]): Promise<void> {
		const live = new Set<string>();
		for (const session of sessions) {
			if (session.linkKind !== 'webrtc' || session.state === 'closed') continue;
			live.add(session.label);
			const ms = await session.roundTripMs();
			if (ms !== null) this.#rtt.set(session.label, ms);
		}
		for (const label of this.#rtt.keys()) if (!live.has(label)) this.#rtt.delete(label);
	}

	/** The latest round-trip time of the connection `label`, when known. */
	of(label: string): number | null {
		return this.#rtt.get(label) ?? null;
	}

	clear(): void {
		this.#rtt.clear();
	}
}
