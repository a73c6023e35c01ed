/**
 * The sync log: the last lines said about the network (sessions, catch-ups, refusals,
 * signaling), a line said again and again kept once with a count. Lines are published
 * to {@link SyncLog.lines} when the sync picture is redrawn, not on every line.
 */
import type { LogLine } from './sync-views.js';

/** Lines kept in the sync log. */
const LOG_LINES = 200;

export class SyncLog {
	#published = $state.raw<LogLine[]>([]);
	/** The log as last published. */
	get lines(): LogLine[] {
		return this.#published;
	}

	/** The log as said so far; published on the next {@link flush}. */
	#lines: LogLine[] = [];
	#changed = false;
	#onChange: () => void;

	/** `onChange` is called after each line (the owner schedules a redraw). */
	constructor(onChange: () => void) {
		this.#onChange = onChange;
	}

	say(text: string, tone: LogLine['tone'] = 'info'): void {
		const last = this.#lines.at(-1);
		// A line said again and again (a peer re-sending the same bad block) is one line with a count.
		if (last && last.text === text) this.#lines[this.#lines.length - 1] = { ...last, at: Date.now(), times: last.times + 1 };
		else this.#lines.push({ at: Date.now(), text, tone, times: 1 });
		if (this.#lines.length > LOG_LINES) this.#lines.splice(0, this.#lines.length - LOG_LINES);
		this.#changed = true;
		this.#onChange();
	}

	/** Publishes the lines said since the last flush. */
	flush(): void {
		if (!this.#changed) return;
		this.#changed = false;
		this.#published = [...this.#lines];
	}
}
