// @hey-api/openapi-ts configuration for the orderflow TypeScript SDK (see ../README.md).
// generate.sh runs `openapi-ts -f openapi-ts.config.mjs`; ORDERFLOW_OPENAPI overrides the input.
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@hey-api/openapi-ts';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  input: process.env.ORDERFLOW_OPENAPI ?? here('../../openapi.json'),
  output: {
    path: here('./generated/orderflow'),
    // The SDK is compiled by tsc with NodeNext resolution, so relative imports need `.js`.
    module: { extension: '.js' },
  },
  // Error logs go to stderr only (no openapi-ts-error-*.log files in the tree).
  logs: { file: false },
  plugins: [
    '@hey-api/client-fetch', // fetch-based runtime, copied into the output: no runtime dependency
    '@hey-api/typescript', // types for every schema, request and response (incl. problem+json errors)
    '@hey-api/sdk', // one function per operationId: createMerchant(), merchantSaveDraft(), ...
  ],
});
