const { test, expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;
const { signedInPage } = require('./helpers');

// Every page of the interface through axe-core (WCAG 2.1 A and AA rules): no serious or
// critical violation. The archived display rendition inside its sandboxed frame is left out:
// it is the document exactly as it was archived, which the archive must not change.
const documentOid = process.env.ARCHIVIST_E2E_DOCUMENT;
if (!documentOid) {
  throw new Error('ARCHIVIST_E2E_DOCUMENT must be set (run through .ci/run)');
}

// The serious and critical violations of the page, described (all pages are checked before the
// test fails, so that one run lists everything).
async function violations(page, name) {
  await page.locator('main[data-hydrated="true"]').waitFor();
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .exclude('iframe[data-field="rendition"]')
    .analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  return serious.map((v) => `${name}: ${v}`);
}

test('every page has no serious or critical accessibility violation', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  const found = [];
  const check = async (name) => found.push(...(await violations(page, name)));
  await check('front page');

  for (const [path, name] of [
    ['/search?all=1', 'search'],
    ['/search?client=131052-308U', 'search with a refused field'],
    ['/documents', 'lookup'],
    [`/documents/${documentOid}`, 'document'],
    [`/documents/${documentOid}/cda`, 'stored CDA as text'],
    ['/deployment-test', 'deployment test'],
    ['/audit', 'audit log'],
    ['/admin', 'administration'],
    ['/no-such-page', 'not found'],
  ]) {
    await page.goto(path);
    await check(name);
  }

  // A client's documents, from a search result.
  await page.goto('/search?status=all');
  await page.locator('[data-field="results"] tbody tr a[href^="/client"]').first().click();
  await expect(page.locator('[data-field="client-sets"]').first()).toBeVisible();
  await check('client');

  await page.goto(`/documents/${documentOid}`);
  const compare = page.locator('[data-action="compare"]').first();
  if ((await compare.count()) > 0) {
    await compare.click();
    await expect(page.locator('[data-field="header-comparison"]')).toBeVisible();
    await check('comparison');
  }

  // The same in Swedish and English: the texts change, the structure must stay sound.
  await page.goto('/search?all=1');
  for (const language of ['Svenska', 'English']) {
    await page.getByRole('button', { name: language }).click();
    await check(`search in ${language}`);
  }
  expect(found, found.join('\n')).toEqual([]);

  // The choice is remembered: the next page is rendered in English by the server.
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'English' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'Suomi' }).click();

  assertNoPageErrors();
  await context.close();
});
