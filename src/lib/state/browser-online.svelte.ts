/** Whether the browser says it has a network connection, followed through its online and offline events. */
import type { LogLine } from './sync-views.js';

export class BrowserOnline {
	#online = $state(true);
	get online() {
		return this.#online;
	}

	/** Follows the browser's events (logging each change) until the returned function is called. */
	watch(say: (text: string, tone?: LogLine['tone']) => void): () => void {
		if (typeof window === 'undefined') return () => {};
		const online = () => {
			this.#online = true;
			say('the browser is online again', 'good');
		};
		const offline = () => {
			this.#online = false;
			say('the browser went offline: peers are unreachable until it is back', 'warn');
		};
		window.addEventListener('online', online);
		window.addEventListener('offline', offline);
		this.#online = navigator.onLine;
		return () => {
			window.removeEventListener('online', online);
			window.removeEventListener('offline', offline);
		};
	}
}
