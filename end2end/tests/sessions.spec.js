const { test, expect } = require('@playwright/test');
const path = require('node:path');
const { signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// archivist-1 is linked to two demo controllers (see .ci/lib.sh, link_demo_cards).
const SECOND = '1.2.246.10.12345671.10.0';

test('an archivist chooses the controller to work in, and it is kept', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  const workingIn = page.locator('[data-field="working-in"]');
  await expect(workingIn).toContainText('Kaikki liitetyt rekisterinpitäjät');

  const choice = page.getByLabel('Rekisterinpitäjä, jonka aineistoa käsittelet');
  await choice.selectOption(SECOND);
  const secondName = (await choice.locator(`option[value="${SECOND}"]`).textContent()).trim();
  await page.locator('[data-action="choose-controller"]').click();
  await expect(workingIn).toContainText(secondName);

  // Kept in the session, not in the page: a reload shows the same choice.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(workingIn).toContainText(secondName);
  await expect(choice).toHaveValue(SECOND);
  await page.screenshot({ path: path.join(screenshots, 'controller-chosen-fi.png'), fullPage: true });

  // The session cookie is out of the page's reach and never sent to another site.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-archivist-session');
  expect(session).toBeTruthy();
  expect(session.httpOnly).toBe(true);
  expect(session.secure).toBe(true);
  expect(session.sameSite).toBe('Strict');

  assertNoPageErrors();
  await context.close();
});

test('signing out ends the session and says what to do with the card', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-2');
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();

  await expect(page).toHaveURL(/\/signed-out$/);
  await expect(page.locator('[data-field="signed-out"]')).toBeVisible();
  await expect(page.locator('[data-action="sign-out"]')).toHaveCount(0);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === '__Host-archivist-session')).toBeUndefined();
  await page.screenshot({ path: path.join(screenshots, 'signed-out.png'), fullPage: true });

  // Signing in again is a new session with the card.
  await page.getByRole('link', { name: /Kirjaudu uudelleen|Sign in again/ }).click();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator('[data-field="card-number"]')).toHaveText('99900022B');
  await expect(page.locator('[data-action="sign-out"]')).toBeVisible();

  assertNoPageErrors();
  await context.close();
});
