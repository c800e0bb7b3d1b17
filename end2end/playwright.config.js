// Playwright drives Debian's Chromium (/usr/bin/chromium); browser downloads are not possible
// here and never needed. The server is started by .ci/lib.sh (run_end_to_end), which passes
// its address and the demo PKI folder in ARCHIVIST_E2E_URL and ARCHIVIST_E2E_PKI.
const { defineConfig } = require('@playwright/test');
const chromium = require('./chromium');

const baseURL = process.env.ARCHIVIST_E2E_URL || 'https://localhost:3443';

module.exports = defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // One retry: the Playwright worker has been seen to abort (SIGABRT) between tests on a busy
  // machine. A test that fails again still fails the run, and one that passed on its retry is
  // listed as flaky in the output.
  retries: 1,
  reporter: [['list']],
  use: {
    baseURL,
    // The demo root CA is not in the browser's store; the tests check the server's identity
    // through the client certificate exchange instead.
    ignoreHTTPSErrors: true,
    launchOptions: chromium,
  },
});
