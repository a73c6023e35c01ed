// Setup of the Chromium test project (vite.config.ts): the fixtures verify with the engine
// the app picks in this browser (`detectVerifier`: WebCrypto's Ed25519 once it is checked to
// compute the reference's equation), not noble's JavaScript (src/lib/core/testing/fixtures.ts
// `useTestEngines`). They keep signing with noble, whose answers come within a microtask.
// Agreement of the engines is tested on its own (crypto.browser.test.ts, worker-verifier.test.ts).
import { detectVerifier, nobleSigner } from '../../src/lib/core/index.js';
import { useTestEngines } from '../../src/lib/core/testing/fixtures.js';

useTestEngines({ signer: nobleSigner, verifier: await detectVerifier() });
