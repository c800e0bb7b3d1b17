const { test, expect } = require('@playwright/test');
const crypto = require('node:crypto');
const path = require('node:path');
const { signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// .ci/run picks these from the archived demo data: a later version of a set in archivist-1's
// first controller (with a PDF rendition), its stored SHA-256, and a document of a controller
// archivist-1 is not linked to.
const documentOid = process.env.ARCHIVIST_E2E_DOCUMENT;
const documentSha256 = process.env.ARCHIVIST_E2E_DOCUMENT_SHA256;
const otherDocument = process.env.ARCHIVIST_E2E_OTHER_DOCUMENT;
if (!documentOid || !documentSha256 || !otherDocument) {
  throw new Error('ARCHIVIST_E2E_DOCUMENT, _DOCUMENT_SHA256 and _OTHER_DOCUMENT must be set (run through .ci/run)');
}

test('an archivist finds a document by OID and sees it as archived', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  await page.getByRole('link', { name: 'Hae asiakirja OID-tunnisteella' }).click();
  await page.getByLabel('Asiakirjan OID').fill(documentOid);
  await page.getByRole('button', { name: 'Avaa asiakirja' }).click();
  await expect(page).toHaveURL(new RegExp(`/documents\\?oid=${documentOid.replaceAll('.', '\\.')}$`));
  await expect(page.locator(`[data-document="${documentOid}"]`)).toBeVisible();
  // The form is a plain GET (it works before the WebAssembly has loaded), so this is a new page:
  // the language buttons below act only once it has been hydrated.
  await page.locator('main[data-hydrated="true"]').waitFor();

  // The display form in its sandboxed frame, from its own endpoint.
  const frame = page.locator('iframe[data-field="rendition"]');
  await expect(frame).toHaveAttribute('sandbox', '');
  await expect(frame).toHaveAttribute('src', `/api/documents/${documentOid}/rendition`);
  // The rendition is the archived XHTML as it is (often a fragment without a body element).
  await expect(page.frameLocator('iframe[data-field="rendition"]').locator(':root')).not.toBeEmpty();

  // The digest shown is the stored one, and the download is byte for byte what was archived.
  await expect(page.locator('[data-field="raw-sha256"]')).toHaveText(documentSha256);
  const downloaded = page.waitForEvent('download');
  await page.locator('[data-action="raw-download"]').click();
  const file = await (await downloaded).path();
  const bytes = require('node:fs').readFileSync(file);
  expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(documentSha256);

  await expect(page.getByRole('heading', { level: 2, name: 'Metatiedot' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Arkiston lisäämät tiedot' })).toBeVisible();
  await expect(page.locator('[data-field="signature"] [data-integrity="valid"]').first()).toBeVisible();
  // The structured rendition as a labelled tree; its boxes open and close from the keyboard.
  const tree = page.locator('[data-field="structured"]');
  await expect(tree.locator('li[data-name="asiakas"] > details > summary .tree-label')).toHaveText('Asiakas');
  await expect(tree.locator('li[data-name="palvelutehtava"] [data-field="code"]')).toHaveText(/\(\d+\)$/);
  const clientBox = tree.locator('li[data-name="asiakas"] > details');
  await clientBox.locator('> summary').focus();
  await page.keyboard.press('Enter');
  await expect(clientBox).not.toHaveAttribute('open', '');
  await page.keyboard.press('Enter');
  await expect(clientBox).toHaveAttribute('open', '');
  await page.screenshot({ path: path.join(screenshots, 'document-fi.png'), fullPage: true });

  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Versionshistorik' })).toBeVisible();
  await expect(tree.locator('li[data-name="asiakas"] > details > summary .tree-label')).toHaveText('Klient');
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Data added by the archive' })).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'document-en.png'), fullPage: true });

  assertNoPageErrors();
  await context.close();
});

test('the version history opens the earlier version', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  await page.goto(`/documents/${documentOid}`);
  await page.locator('main[data-hydrated="true"]').waitFor();
  const versions = page.locator('[data-field="versions"] tbody tr');
  await expect(versions.first().locator('[aria-current="page"]')).toBeVisible();
  // .ci/run picks a later version, so its set has at least one earlier version.
  expect(await versions.count()).toBeGreaterThan(1);
  const earlier = versions.nth(1).getByRole('link').first();
  // The earlier version compared with this one: the older on the left, changes in words.
  await versions.nth(1).locator('[data-action="compare"]').click();
  await expect(page).toHaveURL(/\/compare\?a=.*&b=/);
  await expect(page.getByRole('heading', { level: 1, name: 'Versioiden vertailu' })).toBeVisible();
  await expect(page.locator('[data-field="header-comparison"] tbody tr').first()).toBeVisible();
  await expect(page.locator('[data-field="display-comparison"]')).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'compare-fi.png'), fullPage: true });
  await page.goBack();
  await page.locator('main[data-hydrated="true"]').waitFor();
  await earlier.click();
  await expect(page.locator('[data-field="status"]')).toHaveAttribute('data-status', /replaced|nullified/);
  await expect(page.locator(`[data-document="${documentOid}"]`)).toHaveCount(0);
  assertNoPageErrors();
  await context.close();
});

test("another controller's document is not found, exactly like a missing one", async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  const other = await page.goto(`/documents/${otherDocument}`);
  expect(other.status()).toBe(404);
  const missing = await page.request.get('/documents/1.2.246.10.99999999.10.0.1');
  expect(missing.status()).toBe(404);
  const raw = await page.request.get(`/api/documents/${otherDocument}/raw`);
  expect(raw.status()).toBe(404);
  const malformed = await page.goto('/documents/not.an-oid');
  expect(malformed.status()).toBe(422);
  await expect(page.locator('[data-field="invalid-oid"]')).toBeVisible();
  assertNoPageErrors();
  await context.close();
});

test('an archivist searches, pages and opens a result', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  await page.getByRole('link', { name: 'Hae asiakirjoja' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Asiakirjojen haku' })).toBeVisible();
  const versions = page.locator('select[data-field="status-filter"]');
  await versions.selectOption('all');
  await page.getByRole('button', { name: 'Hae', exact: true }).click();
  await expect(page).toHaveURL(/\/search\?.*status=all/);
  await expect(versions).toHaveValue('all');
  const rows = page.locator('[data-field="results"] tbody tr');
  await expect(rows.first()).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'search-fi.png'), fullPage: true });
  const first = await rows.first().getAttribute('data-document');
  await rows.first().getByRole('link').first().click();
  await expect(page.locator(`[data-document="${first}"]`).first()).toBeVisible();
  await page.goBack();
  await expect(rows.first()).toBeVisible();

  // The column headers sort: the client column from the start, then the other way round.
  const clientHeader = page.locator('[data-field="results"] th').filter({ has: page.locator('a[data-sort="client"]') });
  await clientHeader.getByRole('link').click();
  await expect(page).toHaveURL(/sort=client&order=asc/);
  await expect(clientHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(versions).toHaveValue('all');
  await clientHeader.getByRole('link').click();
  await expect(page).toHaveURL(/sort=client&order=desc/);
  await expect(clientHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(rows.first()).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'search-sorted-fi.png'), fullPage: true });

  await page.goto('/search?client=131052-308U');
  await expect(page.locator('[data-field="invalid-search"]')).toContainText('henkilötunnus');
  assertNoPageErrors();
  await context.close();
});
