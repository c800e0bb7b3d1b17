// The card middleware tests (README: "Testing with a card middleware stand-in"), run by
// `end2end/card-middleware/run`, which prepares what they need outside the browser's reach:
// the managed certificate policy and the stand-in module.
const { defineConfig } = require('@playwright/test');
const chromium = require('../chromium');

module.exports = defineConfig({
  testDir: '.',
  testMatch: '*.spec.js',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.ARCHIVIST_E2E_URL,
    // Only for the administrator's context that reads the audit log; the card tests start their
    // own browsers, which check the server against the demo root.
    ignoreHTTPSErrors: true,
    launchOptions: chromium,
  },
});
