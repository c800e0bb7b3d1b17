// Debian's Chromium (browser downloads are not possible here and never needed) with the flags
// every test run uses: headless, and nothing that reaches out to the network by itself.
module.exports = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
