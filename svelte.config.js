import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { parseOriginList } from './server/origins.js';
import { LOCAL_SIGNALING_SOURCES } from './server/security-headers.js';

/** @typedef {NonNullable<NonNullable<import('@sveltejs/kit').KitConfig['csp']>['directives']>['connect-src']} ConnectSources */

/** @type {import('@sveltejs/kit').Config} */
export default {
	preprocess: vitePreprocess(),
	kit: {
		// The headless peer (peer/) shares the core and is type-checked with the app.
		typescript: { config: (config) => ({ ...config, include: [...config.include, '../peer/**/*.ts'] }) },
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
		// Medical data in the page: no script but our own (the inline start-up script is
		// allowed by hash), network only to this origin and signaling relays on this machine,
		// plus those named in SIGNALING_ORIGINS at build time. server/start.js sends this
		// policy as a header, with the SIGNALING_ORIGINS it is started with (docs/threat-model.md).
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:', 'blob:'],
				'connect-src': /** @type {ConnectSources} */ ([
					'self',
					...LOCAL_SIGNALING_SOURCES,
					...parseOriginList(process.env.SIGNALING_ORIGINS, ['ws:', 'wss:'], 'SIGNALING_ORIGINS')
				]),
				'worker-src': ['self'],
				'object-src': ['none'],
				'base-uri': ['self'],
				'form-action': ['self']
			}
		}
	}
};
