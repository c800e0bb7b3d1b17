const { test, expect } = require('@playwright/test');
const path = require('node:path');

// The project's own folder on the machine that built the site (end2end/ is inside it).
const buildRoot = path.resolve(__dirname, '..', '..');

test('the shipped WebAssembly and script name no folder of the build machine', async ({ request }) => {
  for (const file of ['/pkg/archivist.wasm', '/pkg/archivist.js']) {
    const response = await request.get(file);
    expect(response.status(), file).toBe(200);
    const text = (await response.body()).toString('latin1');
    expect(text.length, file).toBeGreaterThan(1000);
    expect(text, file).not.toContain('.cargo/registry');
    expect(text, file).not.toContain(buildRoot);
    // Panic locations are still there, under the neutral prefixes of the release build.
    if (file.endsWith('.wasm')) expect(text, file).toContain('/cargo/registry/');
  }
});
