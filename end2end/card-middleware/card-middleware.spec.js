// The archivist's real browser path: Chromium finds the card's certificate through a PKCS#11
// module (the card middleware), chooses it by the managed policy that `run` writes, and the TLS
// signature is made inside the token. No test here gives the browser a key file.
const { test, expect } = require('@playwright/test');
const { Workstation } = require('./workstation');

const { cardCertificate, failOnPageErrors } = require('../tests/helpers');

// A page that does not answer within this fails the test instead of hanging it (a PIN dialog
// that cannot appear headless would hang the browser).
const NO_HANG = 20_000;

// The first tab of a browser started by `Workstation.launch`.
async function firstPage(context) {
  return context.pages()[0] || context.newPage();
}

async function signIn(context, cardNumber) {
  const page = await firstPage(context);
  const assertNoPageErrors = failOnPageErrors(page);
  const response = await page.goto('/', { timeout: NO_HANG });
  expect(response.status()).toBe(200);
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator('[data-field="card-number"]')).toHaveText(cardNumber);
  assertNoPageErrors();
  return page;
}

test('the card holder signs in with the key in the token, not in the browser', async ({ baseURL }) => {
  const workstation = new Workstation('sign-in').insertCard('archivist-1');
  const browser = await workstation.launch(baseURL);
  try {
    await signIn(browser, '999000110');
    // The handshake's signature was made by the token through the stand-in module...
    expect(workstation.signatures()).toBeGreaterThan(0);
    // ...and the browser's own key store holds no private key it could have used instead.
    expect(workstation.nssPrivateKeys()).toBe('');
  } finally {
    await browser.close();
  }
});

test('with the key gone from the token the browser gets the guidance page without a hang', async ({ baseURL }) => {
  const workstation = new Workstation('pulled-out').insertCard('archivist-1').removeKeys();
  const browser = await workstation.launch(baseURL);
  try {
    const page = await firstPage(browser);
    const assertNoPageErrors = failOnPageErrors(page);
    const response = await page.goto('/', { timeout: NO_HANG });
    expect(response.status()).toBe(401);
    await expect(page.getByRole('heading', { name: 'Kirjaudu ammattikortilla' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Logga in med yrkeskortet' })).toBeVisible();
    expect(workstation.signatures()).toBe(0);
    assertNoPageErrors();
  } finally {
    await browser.close();
  }
});

test('a revoked card in the token is refused in the handshake and the refusal is audited', async ({ baseURL, browser }) => {
  const workstation = new Workstation('revoked').insertCard('revoked');
  const card = await workstation.launch(baseURL);
  try {
    const page = await firstPage(card);
    // The server's alert and its close race: Chromium reports either ERR_BAD_SSL_CLIENT_AUTH_CERT
    // or a socket error (both seen). The audit row below says which refusal it was.
    await expect(page.goto('/', { timeout: NO_HANG })).rejects.toThrow(/net::ERR_/);
    // The token signed the handshake: the refusal is the server's, not a key the browser lacked.
    expect(workstation.signatures()).toBeGreaterThan(0);
  } finally {
    await card.close();
  }

  // An administrator finds the refusal, with what the card presented.
  const admin = await browser.newContext({ clientCertificates: cardCertificate(baseURL, 'archivist-1') });
  const audit = await admin.newPage();
  await audit.goto('/audit?action=tls.certificate_refused');
  const refusal = audit.locator('tr[data-action="tls.certificate_refused"]', { hasText: 'Suljettu' });
  await expect(refusal.first()).toContainText('certificate_revoked');
  await admin.close();
});

test('another card in the reader after a browser restart signs in as its holder', async ({ baseURL }) => {
  const workstation = new Workstation('switch').insertCard('archivist-1');
  const first = await workstation.launch(baseURL);
  try {
    await signIn(first, '999000110');
  } finally {
    await first.close();
  }

  workstation.removeCards().insertCard('archivist-2');
  const second = await workstation.launch(baseURL);
  try {
    await signIn(second, '99900022B');
  } finally {
    await second.close();
  }
});
