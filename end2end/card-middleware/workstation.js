// An archivist's workstation as the browser sees it, with SoftHSM standing in for the card and
// its middleware: a SoftHSM token per card in the reader, holding the card's key (PIN-protected,
// as on a card), its public key and its certificate; an NSS database in the browser's $HOME with
// the stand-in module (server/token-autologin) registered and the demo root trusted; and
// Chromium started by Playwright with that $HOME and no `clientCertificates`, so that the TLS
// handshake's signature is made inside the token.
const { chromium } = require('@playwright/test');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const launchOptions = require('../chromium');

const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '4321';
const SO_PIN = '87654321';
// The CKA_ID that pairs a card's key, public key and certificate (FINEID's authentication key).
const KEY_ID = '45';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (run end2end/card-middleware/run)`);
  return value;
}

const pkiDir = required('ARCHIVIST_E2E_PKI');
const standIn = required('TOKEN_AUTOLOGIN_LIBRARY');
const workRoot = required('ARCHIVIST_CARD_WORK');

function run(command, args, env, input = '') {
  return execFileSync(command, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

class Workstation {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(workRoot, `${name}-`));
    this.home = path.join(this.dir, 'home');
    this.nssdb = `sql:${path.join(this.home, '.pki', 'nssdb')}`;
    this.tokens = path.join(this.dir, 'tokens');
    this.signLog = path.join(this.dir, 'signatures.log');
    const softhsmConf = path.join(this.dir, 'softhsm2.conf');
    fs.mkdirSync(path.join(this.home, '.pki', 'nssdb'), { recursive: true });
    fs.mkdirSync(this.tokens);
    fs.writeFileSync(softhsmConf, `directories.tokendir = ${this.tokens}\nobjectstore.backend = file\n`);
    this.env = {
      HOME: this.home,
      SOFTHSM2_CONF: softhsmConf,
      TOKEN_AUTOLOGIN_MODULE: SOFTHSM,
      TOKEN_AUTOLOGIN_PIN: PIN,
      TOKEN_AUTOLOGIN_SIGN_LOG: this.signLog,
    };
    run('certutil', ['-N', '-d', this.nssdb, '--empty-password'], this.env);
    // The server's certificate is checked for real: the demo root is the one trust anchor added.
    const root = path.join(pkiDir, 'root-ca.pem');
    run('certutil', ['-A', '-d', this.nssdb, '-n', 'DVV TEST demo root', '-t', 'C,,', '-i', root], this.env);
    // modutil loads the module to register it (and asks to confirm on its standard input), so
    // it runs with the stand-in's environment.
    run('modutil', ['-dbdir', this.nssdb, '-add', 'card-middleware', '-libfile', standIn, '-force'], this.env, '\n');
  }

  login(label) {
    return ['--module', SOFTHSM, '--token-label', label, '--login', '--pin', PIN];
  }

  // Puts the demo card `stem` in the reader: a token labelled with the stem holding the card's
  // private key (imported private, behind the PIN, with its public key beside it) and its
  // certificate, all under one CKA_ID so that NSS pairs them.
  insertCard(stem) {
    const key = path.join(pkiDir, `${stem}.key`);
    run('softhsm2-util', ['--init-token', '--free', '--label', stem, '--so-pin', SO_PIN, '--pin', PIN], this.env);
    run('softhsm2-util', ['--import', key, '--token', stem, '--label', 'authentication', '--id', KEY_ID, '--pin', PIN], this.env);
    const der = path.join(this.dir, `${stem}.der`);
    fs.writeFileSync(der, new crypto.X509Certificate(fs.readFileSync(path.join(pkiDir, `${stem}.pem`))).raw);
    run('pkcs11-tool', [...this.login(stem), '--write-object', der, '--type', 'cert', '--id', KEY_ID, '--label', 'authentication'], this.env);
    return this;
  }

  // The card's key is gone (the card pulled out, its certificate still known): the private key
  // objects are deleted from every token.
  removeKeys() {
    for (const label of this.tokenLabels()) {
      // pkcs11-tool deletes one matching object a call.
      for (let left = 4; left > 0 && this.objects(label).includes('Private Key Object'); left--) {
        run('pkcs11-tool', [...this.login(label), '--delete-object', '--type', 'privkey', '--id', KEY_ID], this.env);
      }
      if (this.objects(label).includes('Private Key Object')) throw new Error(`token ${label} still holds a private key`);
    }
    return this;
  }

  // Every token taken out of the reader.
  removeCards() {
    fs.rmSync(this.tokens, { recursive: true, force: true });
    fs.mkdirSync(this.tokens);
    return this;
  }

  tokenLabels() {
    const listed = run('pkcs11-tool', ['--module', SOFTHSM, '--list-token-slots'], this.env);
    return [...listed.matchAll(/token label\s*:\s*(\S+)/g)].map((m) => m[1]);
  }

  objects(label) {
    return run('pkcs11-tool', [...this.login(label), '--list-objects'], this.env);
  }

  // The private keys NSS itself holds (its internal token): `certutil -K` answers "no keys found"
  // with a non-zero exit code when there are none.
  nssPrivateKeys() {
    try {
      return run('certutil', ['-K', '-d', this.nssdb], this.env);
    } catch (error) {
      if (/no keys found/.test(`${error.stdout}${error.stderr}`)) return '';
      throw error;
    }
  }

  // Signatures the token made through the stand-in module since this workstation was set up.
  signatures() {
    if (!fs.existsSync(this.signLog)) return 0;
    return fs.readFileSync(this.signLog, 'utf8').split('\n').filter(Boolean).length;
  }

  // A browser started afresh (its own profile each time, as after a restart).
  async launch(baseURL) {
    const profile = fs.mkdtempSync(path.join(this.dir, 'profile-'));
    return chromium.launchPersistentContext(profile, {
      ...launchOptions,
      env: { ...process.env, ...this.env },
      baseURL,
      // The server's certificate is checked by NSS against the demo root, not ignored.
      ignoreHTTPSErrors: false,
    });
  }
}

module.exports = { Workstation };
