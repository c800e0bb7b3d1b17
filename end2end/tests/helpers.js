// Shared set-up: a browser context that presents one demo card certificate, and a guard that
// fails the test on any error thrown in the page (hydration panics show up only there).
const path = require('node:path');

const pkiDir = process.env.ARCHIVIST_E2E_PKI;
if (!pkiDir) {
  throw new Error('ARCHIVIST_E2E_PKI must name the demo PKI folder (run the tests through .ci/run)');
}

function cardCertificate(baseURL, stem) {
  return [
    {
      origin: new URL(baseURL).origin,
      certPath: path.join(pkiDir, `${stem}.pem`),
      keyPath: path.join(pkiDir, `${stem}.key`),
    },
  ];
}

// Fails on errors thrown in the page and on anything the Content-Security-Policy blocked
// (those arrive only as console errors).
function failOnPageErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      errors.push(new Error(message.text()));
    }
  });
  return () => {
    if (errors.length > 0) {
      throw new Error(`errors in the page: ${errors.map((e) => e.stack || e.message).join('\n')}`);
    }
  };
}

// A browser context presenting the card `stem`, its first page at `/` once hydrated, and the
// page-error guard.
async function signedInPage(browser, baseURL, stem) {
  const context = await browser.newContext({ clientCertificates: cardCertificate(baseURL, stem) });
  const page = await context.newPage();
  const assertNoPageErrors = failOnPageErrors(page);
  await page.goto('/');
  await page.locator('main[data-hydrated="true"]').waitFor();
  return { context, page, assertNoPageErrors };
}

module.exports = { cardCertificate, failOnPageErrors, pkiDir, signedInPage };
