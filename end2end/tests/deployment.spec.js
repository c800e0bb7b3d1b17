const { test, expect } = require('@playwright/test');
const path = require('node:path');
const { signedInPage } = require('./helpers');

const screenshots = path.join(__dirname, '..', 'screenshots');

// .ci/run (through link_demo_cards) defines the deployment test of the second demo controller:
// the documents of one test client. archivist-1 and archivist-2 are linked to it; archivist-3
// is not.
const TESTED = '1.2.246.10.12345671.10.0';
const UNDEFINED = '1.2.246.10.12345670.10.0';

test('an archivist checks the test documents and confirms the deployment test once', async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-1');
  await page.getByRole('link', { name: 'Käyttöönottokoe' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Käyttöönottokoe' })).toBeVisible();
  await expect(page.locator(`section[data-controller="${UNDEFINED}"]`)).toHaveAttribute('data-state', 'not_defined');

  const tested = page.locator(`section[data-controller="${TESTED}"]`);
  await expect(tested).toHaveAttribute('data-state', 'in_progress');
  await expect(tested.locator('[data-field="not-ready"]')).toBeVisible();
  const documents = await tested.locator('[data-field="test-documents"] tbody tr').count();
  expect(documents).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(screenshots, 'deployment-test-fi.png'), fullPage: true });

  // Each check is recorded and the page reads the test again.
  for (let remaining = documents; remaining > 0; remaining -= 1) {
    const buttons = tested.locator('[data-action="check-document"]');
    await expect(buttons).toHaveCount(remaining);
    await buttons.first().click();
    await expect(buttons).toHaveCount(remaining - 1);
  }
  await expect(tested.locator('[data-field="checked"]')).toHaveCount(documents);
  await expect(tested.locator('[data-field="progress"]')).toContainText(`${documents} / ${documents}`);

  // The confirmation is asked once more; cancelling sends nothing.
  await tested.locator('[data-action="confirm-open"]').click();
  await expect(tested.getByRole('alertdialog')).toBeVisible();
  await tested.getByRole('button', { name: 'Peruuta' }).click();
  await expect(tested.getByRole('alertdialog')).toHaveCount(0);
  await expect(tested).toHaveAttribute('data-state', 'in_progress');

  await tested.locator('[data-action="confirm-open"]').click();
  await tested.locator('[data-action="confirm-test"]').click();
  await expect(page.locator('[data-field="deployment-outcome"]')).toContainText('Käyttöönottokoe on vahvistettu.');
  await expect(tested).toHaveAttribute('data-state', 'confirmed');
  await expect(tested.locator('[data-field="confirmed-by"]')).toBeVisible();
  await expect(tested.locator('[data-field="production"]')).not.toContainText('Käyttöönottovaiheessa');
  await expect(tested.locator('[data-action="confirm-open"]')).toHaveCount(0);
  await expect(tested.locator('[data-action="check-document"]')).toHaveCount(0);

  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(tested.locator('[data-field="test-state"]')).toHaveText('Bekräftat');
  await page.screenshot({ path: path.join(screenshots, 'deployment-test-sv.png'), fullPage: true });

  // A second confirmation (a replayed request) is refused.
  const session = await (await page.request.get('/api/session')).json();
  const again = await page.request.post('/api/deployment-tests/confirm', {
    form: { csrf_token: session.csrf_token, controller: TESTED },
    headers: { origin: new URL(baseURL).origin },
  });
  expect(again.status()).toBe(409);

  assertNoPageErrors();
  await context.close();
});

test("an archivist of another controller does not see the test", async ({ browser, baseURL }) => {
  const { context, page, assertNoPageErrors } = await signedInPage(browser, baseURL, 'archivist-3');
  await page.goto('/deployment-test');
  await expect(page.getByRole('heading', { level: 1, name: 'Käyttöönottokoe' })).toBeVisible();
  await expect(page.locator('section.deployment-test')).toHaveCount(1);
  await expect(page.locator(`section[data-controller="${TESTED}"]`)).toHaveCount(0);
  const session = await (await page.request.get('/api/session')).json();
  const refused = await page.request.post('/api/deployment-tests/confirm', {
    form: { csrf_token: session.csrf_token, controller: TESTED },
    headers: { origin: new URL(baseURL).origin },
  });
  expect(refused.status()).toBe(404);
  assertNoPageErrors();
  await context.close();
});
