const { test, expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;
const path = require('node:path');
const { cardCertificate, failOnPageErrors, signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// archivist-1 is an administrator, archivist-2 an archivist (.ci/lib.sh, link_demo_cards). Each
// test ends the notice it wrote, so that the other tests' pages are as they were.

async function writeNotice(page, { kind, fi, sv, en, ends, closes }) {
  const form = page.locator('[data-section="notices"] form.notice-form').first();
  await form.locator('[data-field="notice-kind"]').selectOption(kind);
  await form.locator('[data-field="notice-text-fi"]').fill(fi);
  await form.locator('[data-field="notice-text-sv"]').fill(sv);
  await form.locator('[data-field="notice-text-en"]').fill(en);
  if (ends) {
    await form.locator('[data-field="notice-ends"]').fill(ends);
  }
  if (closes) {
    await form.locator('[data-field="notice-closes"]').check();
  }
  await form.locator('[data-action="save-notice"]').click();
  await expect(page.locator('[data-field="notice-result"]')).toContainText('Tiedote tallennettiin');
}

async function endNotice(page, text) {
  const row = page.locator('[data-field="notice-list"] tr', { hasText: text }).first();
  await row.locator('[data-action="end-notice"]').click();
  await expect(page.locator('[data-field="notice-end-result"]')).toContainText('Tiedote päätettiin');
  await expect(row).toHaveAttribute('data-state', 'ended');
}

async function openAdministration(browser, baseURL) {
  const admin = await signedInPage(browser, baseURL, 'archivist-1');
  await admin.page.goto('/admin');
  await admin.page.locator('main[data-hydrated="true"]').waitFor();
  return admin;
}

test('an administrator writes a notice and archivists see it in their language on every page', async ({ browser, baseURL }) => {
  const admin = await openAdministration(browser, baseURL);
  await writeNotice(admin.page, {
    kind: 'disruption',
    fi: 'Haku on hidas <b>tänään</b>',
    sv: 'Sökningen är långsam i dag',
    en: 'Search is slow today',
  });

  const archivist = await signedInPage(browser, baseURL, 'archivist-2');
  const banner = archivist.page.locator('[data-field="notices"]');
  await expect(banner).toHaveAttribute('role', 'status');
  // The administrator's markup is shown as text.
  await expect(banner.locator('[data-field="notice-text"]')).toHaveText('Haku on hidas <b>tänään</b>');
  await archivist.page.getByRole('button', { name: 'Svenska' }).click();
  await expect(banner.locator('[data-field="notice-text"]')).toHaveText('Sökningen är långsam i dag');
  await expect(banner.locator('.notice-kind')).toHaveText('Störning');
  await archivist.page.getByRole('button', { name: 'English' }).click();
  await expect(banner.locator('[data-field="notice-text"]')).toHaveText('Search is slow today');
  await archivist.page.screenshot({ path: path.join(screenshots, 'notice-banner.png'), fullPage: true });
  const results = await new AxeBuilder({ page: archivist.page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await archivist.page.getByRole('button', { name: 'Suomi' }).click();

  // Without a card: the sign-in guidance (401) shows it in all three languages.
  const anonymous = await browser.newContext();
  const guidance = await anonymous.newPage();
  const response = await guidance.goto('/');
  expect(response.status()).toBe(401);
  await expect(guidance.locator('[data-field="notices"] p[lang="sv"]')).toContainText('Sökningen är långsam i dag');
  await expect(guidance.locator('[data-field="notices"] p[lang="en"]')).toContainText('Search is slow today');
  await expect(guidance.locator('[data-field="notices"] p[lang="fi"]')).toContainText('Haku on hidas <b>tänään</b>');
  await guidance.screenshot({ path: path.join(screenshots, 'notice-guidance.png'), fullPage: true });
  await anonymous.close();

  await endNotice(admin.page, 'Haku on hidas');
  await archivist.page.reload();
  await expect(archivist.page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(archivist.page.locator('[data-field="notices"]')).toHaveCount(0);
  admin.assertNoPageErrors();
  archivist.assertNoPageErrors();
  await admin.context.close();
  await archivist.context.close();
});

test('a maintenance window closes the service to archivists, in their language, not to administrators', async ({ browser, baseURL }) => {
  const admin = await openAdministration(browser, baseURL);
  await writeNotice(admin.page, {
    kind: 'maintenance',
    fi: 'Arkiston huoltokatko',
    sv: 'Arkivets serviceavbrott',
    en: 'Archive maintenance',
    ends: '2099-01-01T00:00',
    closes: true,
  });

  const context = await browser.newContext({ clientCertificates: cardCertificate(baseURL, 'archivist-2') });
  const page = await context.newPage();
  const assertNoPageErrors = failOnPageErrors(page);
  for (const [language, heading, text] of [
    ['fi', 'Palvelu on suljettu huoltokatkon ajaksi', 'Arkiston huoltokatko'],
    ['sv', 'Tjänsten är stängd under ett serviceavbrott', 'Arkivets serviceavbrott'],
    ['en', 'The service is closed for maintenance', 'Archive maintenance'],
  ]) {
    await context.addCookies([{ name: 'archivist-language', value: language, url: baseURL }]);
    const response = await page.goto('/search');
    expect(response.status()).toBe(503);
    expect(Number(response.headers()['retry-after'])).toBeGreaterThan(3600);
    await expect(page.locator('html')).toHaveAttribute('lang', language);
    const first = page.locator('main section').first();
    await expect(first.locator('h1')).toHaveText(heading);
    await expect(first.locator('[data-field="maintenance-text"]')).toHaveText(text);
    await page.screenshot({ path: path.join(screenshots, `maintenance-${language}.png`), fullPage: true });
  }

  // The administrator is still let in, and opens the service again.
  await admin.page.reload();
  await expect(admin.page.locator('main[data-hydrated="true"]')).toBeVisible();
  await endNotice(admin.page, 'Arkiston huoltokatko');
  const open = await page.goto('/search');
  expect(open.status()).toBe(200);
  assertNoPageErrors();
  admin.assertNoPageErrors();
  await context.close();
  await admin.context.close();
});
