/**
 * TLS material for the mail listeners (SMTP STARTTLS and 465, IMAPS, POP3S) and HTTPS. The operator's
 * certificate when `tls.certFile`/`tls.keyFile` are set; else the one kept in `<dataDir>/tls/`,
 * created self-signed at first start (and again when it has expired, no longer matches its key or no
 * longer names the host). Node cannot create X.509 certificates: node-forge assembles and signs it,
 * node:crypto makes the key and checks the result. Never shells out to `openssl`.
 */
import { createPrivateKey, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import { promisify } from 'node:util';
import type { pki } from 'node-forge';
import { ConfigError } from '../config/index.ts';

/** The part of a pino logger this module uses. */
export interface TlsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TlsOptions {
  dataDir: string;
  /** The service's host name: the certificate's CN and first SAN. */
  hostname: string;
  /** Setting tls.certFile (FACTEUR_TLS_CERT): PEM certificate, chain allowed (leaf first). Empty: not configured. */
  certFile?: string;
  /** Setting tls.keyFile (FACTEUR_TLS_KEY): PEM private key of that certificate. */
  keyFile?: string;
  log?: TlsLog;
  /** Test hook: the current time. */
  now?: Date;
}

export interface TlsCredentials {
  /** PEM private key. */
  key: string;
  /** PEM certificate (with its chain when the configured file has one). */
  cert: string;
  source: 'configured' | 'generated' | 'existing';
  /** SHA-256 fingerprint of the leaf certificate, `AB:CD:…` as openssl prints it. */
  fingerprint256: string;
  /** The files the material was read from or written to (what mail clients can pin). */
  certFile: string;
  keyFile: string;
  validTo: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of a generated certificate: about two years. */
export const SELF_SIGNED_VALIDITY_DAYS = 730;
/** A stored certificate this close to its end is replaced at start rather than used. */
const RENEW_BEFORE_MS = DAY_MS;

const generateKeyPairAsync = promisify(generateKeyPair);

export async function ensureTlsCredentials(options: TlsOptions): Promise<TlsCredentials> {
  const now = options.now ?? new Date();
  if (options.certFile || options.keyFile) return readConfigured(options, now);

  const dir = path.join(options.dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const existing = await readStored(certFile, keyFile, options.hostname, now);
  if (existing.ok) {
    await tightenKeyMode(keyFile, options.log);
    return { ...existing.value, source: 'existing', certFile, keyFile };
  }
  if (existing.reason !== 'missing') {
    options.log?.warn({ event: 'tls.certificate.replaced', reason: existing.reason, certFile }, 'tls.certificate.replaced');
  }

  const generated = await generateSelfSigned(options.hostname, { notBefore: now });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Key first: a crash between the two leaves a mismatched pair, which the next start replaces.
  await writeFileAtomic(keyFile, generated.key, 0o600);
  await writeFileAtomic(certFile, generated.cert, 0o644);
  const x509 = new X509Certificate(generated.cert);
  options.log?.info(
    { event: 'tls.certificate.generated', hostname: options.hostname, fingerprint256: x509.fingerprint256, validTo: x509.validTo, certFile },
    'tls.certificate.generated',
  );
  return {
    key: generated.key,
    cert: generated.cert,
    source: 'generated',
    fingerprint256: x509.fingerprint256,
    certFile,
    keyFile,
    validTo: new Date(x509.validTo),
  };
}

export interface SelfSignedOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Random bytes of the serial number, at least one (tests give their own). */
  serialRandom?: Buffer;
}

/** A new RSA 2048 key and a self-signed certificate for `hostname`, localhost, 127.0.0.1 and ::1. */
export async function generateSelfSigned(hostname: string, options: SelfSignedOptions = {}): Promise<{ key: string; cert: string }> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Loaded only to make a certificate: node-forge is large, and most starts find theirs on disk.
  const { default: forge } = await import('node-forge');
  const signingKey = forge.pki.privateKeyFromPem(key);

  const start = options.notBefore ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(signingKey.n, signingKey.e);
  cert.serialNumber = serialNumberHex(options.serialRandom ?? randomBytes(16));
  // An hour of slack for peers whose clock is a little behind.
  cert.validity.notBefore = new Date(start.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = options.notAfter ?? new Date(start.getTime() + SELF_SIGNED_VALIDITY_DAYS * DAY_MS);
  const name = [{ name: 'commonName', value: hostname.length <= 64 ? hostname : 'Facteur' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    // A server (leaf) profile: clients pin this very certificate rather than trust it as a CA.
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: subjectAltNames(hostname) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(signingKey, forge.md.sha256.create());
  return { key, cert: forge.pki.certificateToPem(cert) };
}

/**
 * A certificate serial from random bytes, as the hex node-forge writes into a DER INTEGER as is: the
 * first byte in 0x40-0x7f. Its high bit clear keeps the number positive; a bit of it set keeps the
 * encoding minimal, which OpenSSL 3 requires (a leading 0x00 before a byte under 0x80 is "illegal
 * padding": about one certificate in 256 was unreadable).
 */
export function serialNumberHex(random: Buffer): string {
  if (random.length === 0) throw new Error('a serial number needs at least one random byte');
  const serial = Buffer.from(random);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial.toString('hex');
}

function subjectAltNames(hostname: string): pki.AltName[] {
  const names: pki.AltName[] = [];
  const seen = new Set<string>();
  for (const entry of [hostname, 'localhost', '127.0.0.1', '::1']) {
    const ip = isIP(entry) !== 0;
    const value = ip ? entry : domainToASCII(entry) || entry;
    if (seen.has(value.toLowerCase())) continue;
    seen.add(value.toLowerCase());
    names.push(ip ? { type: 7, ip: value } : { type: 2, value });
  }
  return names;
}

type StoredResult =
  | { ok: true; value: { key: string; cert: string; fingerprint256: string; validTo: Date } }
  | { ok: false; reason: 'missing' | 'unreadable' | 'expired' | 'not-yet-valid' | 'key-mismatch' | 'hostname' };

async function readStored(certFile: string, keyFile: string, hostname: string, now: Date): Promise<StoredResult> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (error) {
    return { ok: false, reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() - RENEW_BEFORE_MS <= now.getTime()) return { ok: false, reason: 'expired' };
  if (new Date(x509.validFrom).getTime() > now.getTime()) return { ok: false, reason: 'not-yet-valid' };
  if (!keyMatches(x509, key)) return { ok: false, reason: 'key-mismatch' };
  if (!coversHost(x509, hostname)) return { ok: false, reason: 'hostname' };
  return { ok: true, value: { key, cert, fingerprint256: x509.fingerprint256, validTo } };
}

function keyMatches(x509: X509Certificate, keyPem: string): boolean {
  try {
    return x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function coversHost(x509: X509Certificate, hostname: string): boolean {
  return isIP(hostname) !== 0 ? x509.checkIP(hostname) !== undefined : x509.checkHost(domainToASCII(hostname) || hostname) !== undefined;
}

async function readConfigured(options: TlsOptions, now: Date): Promise<TlsCredentials> {
  const certSetting = 'tls.certFile (FACTEUR_TLS_CERT)';
  const keySetting = 'tls.keyFile (FACTEUR_TLS_KEY)';
  if (!options.certFile) throw new ConfigError(`setting ${certSetting} is required when ${keySetting} is set`);
  if (!options.keyFile) throw new ConfigError(`setting ${keySetting} is required when ${certSetting} is set`);
  const certFile = path.resolve(options.certFile);
  const keyFile = path.resolve(options.keyFile);
  const cert = await readSetting(certFile, certSetting);
  const key = await readSetting(keyFile, keySetting);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError(`setting ${certSetting}: ${certFile} is not a PEM certificate (${(error as Error).message})`);
  }
  try {
    createPrivateKey(key);
  } catch (error) {
    throw new ConfigError(`setting ${keySetting}: ${keyFile} is not an unencrypted PEM private key (${(error as Error).message})`);
  }
  if (!keyMatches(x509, key)) {
    throw new ConfigError(`setting ${keySetting}: the key in ${keyFile} does not match the certificate in ${certFile} (${certSetting})`);
  }
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() <= now.getTime()) {
    options.log?.warn({ event: 'tls.certificate.expired', certFile, validTo: x509.validTo }, 'tls.certificate.expired');
  } else if (!coversHost(x509, options.hostname)) {
    options.log?.warn({ event: 'tls.certificate.hostname', certFile, hostname: options.hostname, subject: x509.subject }, 'tls.certificate.hostname');
  }
  options.log?.info(
    { event: 'tls.certificate.configured', certFile, fingerprint256: x509.fingerprint256, validTo: x509.validTo },
    'tls.certificate.configured',
  );
  return { key, cert, source: 'configured', fingerprint256: x509.fingerprint256, certFile, keyFile, validTo };
}

async function readSetting(file: string, setting: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError(`setting ${setting}: cannot read ${file} (${code ?? message})`);
  }
}

/** The key file must not be readable by others; an older or hand-copied one is tightened. */
async function tightenKeyMode(keyFile: string, log: TlsLog | undefined): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(keyFile);
  if ((mode & 0o077) !== 0) {
    await chmod(keyFile, 0o600);
    log?.warn({ event: 'tls.key.mode-fixed', keyFile, was: (mode & 0o777).toString(8) }, 'tls.key.mode-fixed');
  }
}

/** Temp file in the same directory, fsync, rename over the target, fsync the directory. */
async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode); // the umask may have narrowed or the platform ignored `mode`
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
