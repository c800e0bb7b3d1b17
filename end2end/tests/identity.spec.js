const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');
const { cardCertificate, failOnPageErrors } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');
fs.mkdirSync(screenshots, { recursive: true });

test('a card holder sees their identity on a hydrated page', async ({ browser, baseURL }) => {
  const context = await browser.newContext({
    clientCertificates: cardCertificate(baseURL, 'archivist-1'),
  });
  const page = await context.newPage();
  const assertNoPageErrors = failOnPageErrors(page);
  // Any console error (a resource that answered 404, such as a missing site icon) fails it.
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });

  const response = await page.goto('/');
  expect(response.status()).toBe(200);

  // The WebAssembly has taken over only when this attribute turns true.
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'fi');
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  const iconResponse = await page.request.get(icon);
  expect(iconResponse.status()).toBe(200);
  expect(iconResponse.headers()['content-type']).toContain('image/svg+xml');

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kirjautunut käyttäjä');
  await expect(page.locator('[data-field="holder-name"]')).toHaveText('Virtanen Aino Maria 999000110');
  await expect(page.locator('[data-field="satu"]')).toHaveText('999000110');
  await expect(page.locator('[data-field="issuer"]')).toContainText(
    'DVV TEST Social Welfare and Healthcare Professional CA - G4E',
  );
  await expect(page.locator('[data-field="public-key-sha256"]')).toHaveText(/^[0-9a-f]{64}$/);
  await page.screenshot({ path: path.join(screenshots, 'identity-fi.png'), fullPage: true });

  // Interactivity proves hydration: the language switch runs in the browser only.
  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Inloggad användare');
  await expect(page.getByRole('button', { name: 'Svenska' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');
  // The server renders the remembered language into the document itself.
  const swedish = await page.reload();
  expect(await swedish.text()).toMatch(/<html[^>]* lang="sv"/);
  await page.locator('main[data-hydrated="true"]').waitFor();
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Signed-in user');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page).toHaveTitle("Kanta – Archivist's interface");
  await page.screenshot({ path: path.join(screenshots, 'identity-en.png'), fullPage: true });

  assertNoPageErrors();
  expect(consoleErrors).toEqual([]);
  await context.close();
});

test('a browser without a card gets the guidance page', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const assertNoPageErrors = failOnPageErrors(page);

  const response = await page.goto('/');
  expect(response.status()).toBe(401);
  await expect(page.getByRole('heading', { name: 'Kirjaudu ammattikortilla' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Logga in med yrkeskortet' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Sign in with your professional card' })).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'no-card.png'), fullPage: true });

  assertNoPageErrors();
  await context.close();
});
