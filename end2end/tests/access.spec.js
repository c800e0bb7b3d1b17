const { test, expect } = require('@playwright/test');
const path = require('node:path');
const { signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// .ci/run archives the demo documents and links the demo cards: archivist-1 to the first two
// demo controllers (and makes it an administrator), archivist-4 to none.

test('an archivist sees the controllers linked to the card', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  await expect(page.getByRole('heading', { level: 2, name: 'Käyttöoikeudet' })).toBeVisible();
  await expect(page.locator('[data-field="card-number"]')).toHaveText('999000110');
  const controllers = page.locator('[data-field="controllers"] li');
  await expect(controllers).toHaveCount(2);
  await expect(page.locator('[data-controller="1.2.246.10.12345670.10.0"]')).toBeVisible();
  await expect(page.locator('[data-controller="1.2.246.10.12345671.10.0"]')).toBeVisible();
  await expect(page.locator('[data-controller="1.2.246.10.12345672.10.0"]')).toHaveCount(0);
  await expect(page.locator('[data-field="administrator"]')).toBeVisible();
  await expect(page.locator('[data-field="not-linked"]')).toHaveCount(0);
  await page.screenshot({ path: path.join(screenshots, 'access-linked-fi.png'), fullPage: true });

  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Behörigheter' })).toBeVisible();

  assertNoPageErrors();
  await context.close();
});

test('a card linked to no controller is told what to do', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-4');
  await expect(page.locator('[data-field="card-number"]')).toHaveText('999000442');
  await expect(page.locator('[data-field="not-linked"]')).toContainText('ylläpitäjää');
  await expect(page.locator('[data-field="controllers"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('[data-field="not-linked"]')).toContainText('not linked to any controller');
  await page.screenshot({ path: path.join(screenshots, 'access-not-linked-en.png'), fullPage: true });

  assertNoPageErrors();
  await context.close();
});
