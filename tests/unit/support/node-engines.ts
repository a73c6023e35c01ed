// Setup of the Node test projects (vite.config.ts): the fixtures sign and verify with Node's
// OpenSSL, the headless peer's engines, instead of noble's JavaScript (src/lib/core/testing/
// fixtures.ts `useTestEngines`). Same strict rule (`precheckSignature` in front of both),
// byte-identical signatures; ed25519 was three quarters of the CPU of the tests that build
// ledgers. Chromium's tests keep noble, and the engines' agreement is tested on its own.
import { createNodeVerifier } from '../../../src/lib/core/crypto/node-verifier.js';
import { nodeSigner } from '../../../src/lib/core/crypto/node-signer.js';
import { useTestEngines } from '../../../src/lib/core/testing/fixtures.js';

useTestEngines({ signer: nodeSigner, verifier: await createNodeVerifier() });
