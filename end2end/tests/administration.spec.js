const { test, expect } = require('@playwright/test');
const path = require('node:path');
const { signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// archivist-1 is an administrator; archivist-4 is linked to nothing (.ci/lib.sh, link_demo_cards).
const THIRD = '1.2.246.10.12345672.10.0';

test('an administrator links a card after confirming, and unlinks it again', async ({ browser, baseURL }) => {
  const admin = await signedInPage(browser, baseURL, 'archivist-1');
  const page = admin.page;
  await page.getByRole('link', { name: 'Ylläpito' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Ylläpito');

  await page.locator('[data-field="link-card-number"]').fill('999000442');
  await page.locator('[data-field="link-controller"]').selectOption(THIRD);
  await page.locator('[data-action="link"]').click();
  // Nothing happens before the confirmation.
  await expect(page.locator('[data-field="confirm-card"]')).toHaveText('999000442');
  await expect(page.locator('[data-field="confirm-controller"]')).toContainText(THIRD);
  await page.screenshot({ path: path.join(screenshots, 'admin-confirm-link.png'), fullPage: true });
  await page.locator('[data-action="confirm-link"]').click();
  await expect(page.locator('[data-field="link-result"]')).toContainText('Kortti liitettiin');
  const row = page.locator(`tr[data-card="999000442"][data-controller="${THIRD}"]`);
  await expect(row.locator('[data-field="status"]')).toHaveText('voimassa');

  // The card holder sees the controller on the next request.
  const archivist = await signedInPage(browser, baseURL, 'archivist-4');
  await expect(archivist.page.locator(`[data-controller="${THIRD}"]`)).toBeVisible();

  await row.locator('[data-action="unlink"]').click();
  await page.locator('[data-action="confirm-unlink"]').click();
  await expect(page.locator('[data-field="unlink-result"]')).toContainText('Liitos poistettiin');
  await expect(row.locator('[data-field="status"]')).toHaveText('poistettu');
  await archivist.page.reload();
  await expect(archivist.page.locator('[data-field="not-linked"]')).toBeVisible();

  // Both changes are on the audit page, made in the administrator's name.
  await page.goto('/audit?action=admin.card_&card=999000442');
  await expect(page.locator('[data-field="audit-scope"]')).toContainText('koko lokin');
  await expect(page.locator('tr[data-action="admin.card_linked"]')).toHaveCount(1);
  await expect(page.locator('tr[data-action="admin.card_unlinked"]')).toHaveCount(1);
  await expect(page.locator('tr[data-action="admin.card_linked"]')).toContainText('999000110');
  await page.screenshot({ path: path.join(screenshots, 'audit-admin.png'), fullPage: true });

  // A controller created ahead of its first document can be linked at once.
  await page.goto('/admin');
  await page.locator('[data-field="new-controller-oid"]').fill('1.2.246.10.12345699.10.0');
  await page.locator('[data-field="new-controller-name"]').fill('Testilän hyvinvointialue');
  await page.locator('[data-action="create-controller"]').click();
  await expect(page.locator('tr[data-controller-row="1.2.246.10.12345699.10.0"]')).toContainText(
    'Testilän hyvinvointialue',
  );
  await expect(
    page.locator('[data-field="link-controller"] option[value="1.2.246.10.12345699.10.0"]'),
  ).toHaveCount(1);
  await page.screenshot({ path: path.join(screenshots, 'admin-controllers.png'), fullPage: true });

  admin.assertNoPageErrors();
  archivist.assertNoPageErrors();
  await admin.context.close();
  await archivist.context.close();
});

test('an archivist who is not an administrator gets no administration page', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-2');
  await expect(page.getByRole('link', { name: 'Ylläpito' })).toHaveCount(0);
  const response = await page.goto('/admin');
  expect(response.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sivua ei löytynyt');
  // The server answered as for an unknown path; the browser's router, which knows the route,
  // takes that page over as it is (no hydration error) and it stays a working page.
  await page.locator('main[data-hydrated="true"]').waitFor();
  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sidan hittades inte');
  await page.getByRole('button', { name: 'Suomi' }).click();

  await page.goto('/audit');
  await expect(page.locator('[data-field="audit-scope"]')).toContainText('sinulle liitettyjen');
  assertNoPageErrors();
  await context.close();
});
