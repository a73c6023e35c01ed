/**
 * The raw-channel baseline of the catch-up: one plain RTCDataChannel between the same two
 * Chromium processes, carrying the same block bytes in frames of the sync protocol's size
 * with the same flow control (the channel's `bufferedAmount`, low-water mark 256 KiB), and
 * nothing else: no framing codec, no validation, no store. The offer and answer travel
 * through the harness (Node), so no signaling server is involved.
 */
import { FRAME_PAYLOAD } from '../../../src/lib/core/sync/session-limits.js';
import { epochNow } from './probe.js';

const LOW_WATER = 256 * 1024;

let pc: RTCPeerConnection | null = null;
let channel: RTCDataChannel | null = null;
let received = 0;
let firstAt = 0;
let lastAt = 0;

async function gathered(connection: RTCPeerConnection): Promise<string> {
	if (connection.iceGatheringState !== 'complete')
		await new Promise<void>((resolve) => {
			connection.addEventListener('icegatheringstatechange', () => {
				if (connection.iceGatheringState === 'complete') resolve();
			});
		});
	return connection.localDescription!.sdp;
}

function opened(dc: RTCDataChannel): Promise<void> {
	if (dc.readyState === 'open') return Promise.resolve();
	return new Promise((resolve, reject) => {
		dc.onopen = () => resolve();
		dc.onerror = () => reject(new Error('raw channel failed to open'));
	});
}

export const rawChannel = {
	/** Sender: creates the channel and its offer (all ICE candidates gathered). */
	async offer(): Promise<{ sdp: string }> {
		rawChannel.close();
		pc = new RTCPeerConnection({ iceServers: [] });
		channel = pc.createDataChannel('raw', { ordered: true });
		channel.binaryType = 'arraybuffer';
		await pc.setLocalDescription(await pc.createOffer());
		return { sdp: await gathered(pc) };
	},

	/** Receiver: answers and counts the bytes that arrive. */
	async answer({ sdp }: { sdp: string }): Promise<{ sdp: string }> {
		rawChannel.close();
		received = 0;
		firstAt = 0;
		lastAt = 0;
		pc = new RTCPeerConnection({ iceServers: [] });
		pc.ondatachannel = (event) => {
			channel = event.channel;
			channel.binaryType = 'arraybuffer';
			channel.onmessage = (message: MessageEvent<ArrayBuffer>) => {
				if (received === 0) firstAt = epochNow();
				received += message.data.byteLength;
				lastAt = epochNow();
			};
		};
		await pc.setRemoteDescription({ type: 'offer', sdp });
		await pc.setLocalDescription(await pc.createAnswer());
		return { sdp: await gathered(pc) };
	},

	/** Sender: takes the answer and waits for the channel to open. */
	async accept({ sdp }: { sdp: string }): Promise<void> {
		if (!pc || !channel) throw new Error('raw.accept: no offer made');
		await pc.setRemoteDescription({ type: 'answer', sdp });
		await opened(channel);
	},

	/** Sender: sends `blocks` packed into frames of the protocol's payload size; returns when the last frame is queued. */
	async send(blocks: readonly Uint8Array[]): Promise<{ bytes: number; frames: number; sentAt: number; queuedAt: number }> {
		const dc = channel;
		if (!dc || dc.readyState !== 'open') throw new Error('raw.send: channel not open');
		dc.bufferedAmountLowThreshold = LOW_WATER;
		const sentAt = epochNow();
		let bytes = 0;
		let frames = 0;
		let frame = new Uint8Array(FRAME_PAYLOAD);
		let used = 0;
		const flush = async () => {
			if (used === 0) return;
			if (dc.bufferedAmount > LOW_WATER)
				await new Promise<void>((resolve) => dc.addEventListener('bufferedamountlow', () => resolve(), { once: true }));
			dc.send(frame.subarray(0, used));
			bytes += used;
			frames++;
			frame = new Uint8Array(FRAME_PAYLOAD);
			used = 0;
		};
		for (const block of blocks) {
			if (used + block.length > FRAME_PAYLOAD) await flush();
			for (let at = 0; at < block.length;) {
				const n = Math.min(block.length - at, FRAME_PAYLOAD - used);
				frame.set(block.subarray(at, at + n), used);
				used += n;
				at += n;
				if (used === FRAME_PAYLOAD) await flush();
			}
		}
		await flush();
		return { bytes, frames, sentAt, queuedAt: epochNow() };
	},

	/** Receiver: waits until `bytes` have arrived; page times of the first and last. */
	async wait({ bytes, timeoutMs }: { bytes: number; timeoutMs: number }): Promise<{ received: number; firstAt: number; doneAt: number }> {
		const deadline = performance.now() + timeoutMs;
		while (received < bytes) {
			if (performance.now() > deadline) throw new Error(`raw channel: ${received} of ${bytes} bytes after ${timeoutMs} ms`);
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
		return { received, firstAt, doneAt: lastAt };
	},

	close(): void {
		channel?.close();
		pc?.close();
		channel = null;
		pc = null;
	}
};
