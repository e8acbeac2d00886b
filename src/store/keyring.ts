/**
 * Secrets at rest: DKIM private keys, TOTP secrets and the service's own secrets (SRS, digest links) are
 * stored sealed with AES-256-GCM under a key that is not in the database, so a dump or a backup of the
 * database alone reveals none of them.
 *
 * - Keys come from the `secrets.keys` setting (`FACTEUR_SECRETS_KEYS`: `id:base64` items, the first
 *   one seals) or, when it is empty, from a key file in the data directory (`secrets.key`, mode 0600,
 *   created at first start; one `id base64` line per key, the first one seals).
 * - A sealed value is `fs1:<key id>:<base64url(iv | tag | ciphertext)>`: the key id travels with each
 *   value, so a rotation re-seals row by row and a value sealed under any key still in the ring opens.
 * - The additional data is the value's purpose (`dkim`, `totp`, `setting:<name>`): a sealed value copied
 *   into another kind of column does not open.
 * - With a key file, `facteur secrets rotate-key` rewrites the file while services run: a process
 *   re-reads it when it meets a key id it does not know, or when it seals and the file has changed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

export const SEALED_PREFIX = 'fs1:';
const KEY_BYTES = 32;
/** GCM's recommended nonce length (NIST SP 800-38D §8.2). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,40}$/;

export interface SecretKey {
  id: string;
  key: Buffer;
}

export type SecretPurpose = 'dkim' | 'totp' | `setting:${string}`;

export class KeyringError extends Error {
  override name = 'KeyringError';
}

export function newSecretKey(): SecretKey {
  return { id: `k${randomBytes(5).toString('hex')}`, key: randomBytes(KEY_BYTES) };
}

function parseKey(id: string, encoded: string, where: string): SecretKey {
  if (!KEY_ID.test(id)) throw new KeyringError(`${where}: key id "${id}" must be 1-40 letters, digits, _ or -`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== KEY_BYTES) throw new KeyringError(`${where}: key "${id}" must be ${KEY_BYTES} bytes in base64`);
  return { id, key };
}

/** `id:base64` items of the `secrets.keys` setting. */
export function parseConfiguredKeys(items: readonly string[]): SecretKey[] {
  return items.map((item) => {
    const colon = item.indexOf(':');
    if (colon <= 0) throw new KeyringError('secrets.keys (FACTEUR_SECRETS_KEYS): each item is id:base64-key');
    return parseKey(item.slice(0, colon), item.slice(colon + 1).trim(), 'secrets.keys (FACTEUR_SECRETS_KEYS)');
  });
}

function parseKeyFile(text: string, file: string): SecretKey[] {
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [id, encoded, ...rest] = line.split(/\s+/);
      if (!id || !encoded || rest.length > 0) throw new KeyringError(`${file}: each line is "<key id> <base64 key>"`);
      return parseKey(id, encoded, file);
    });
  if (keys.length === 0) throw new KeyringError(`${file}: no key`);
  return keys;
}

function keyFileText(keys: readonly SecretKey[]): string {
  const lines = keys.map((k) => `${k.id} ${k.key.toString('base64')}`);
  return `# Facteur secrets keys, one "id base64" a line: the first one seals. Keep this file out of database backups.\n${lines.join('\n')}\n`;
}

/** Writes the key file whole (temporary name, fsync, rename, directory fsync), readable by its owner only. */
export function writeKeyFile(file: string, keys: readonly SecretKey[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const body = keyFileText(keys);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Reads the key file, creating it with one new key when absent (two processes starting together agree: `wx`). */
function loadOrCreateKeyFile(file: string): SecretKey[] {
  try {
    return parseKeyFile(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const key = newSecretKey();
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, keyFileText([key]));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parseKeyFile(readFileSync(file, 'utf8'), file);
}

function fileStamp(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat ? `${stat.mtimeMs}:${stat.size}:${stat.ino}` : '';
}

export class SecretKeyring {
  private keys: SecretKey[];
  private stamp: string;

  private constructor(
    keys: SecretKey[],
    /** The key file, when the keys come from one (else they are configured and never change). */
    readonly file: string | undefined,
  ) {
    this.keys = keys;
    this.stamp = file ? fileStamp(file) : '';
  }

  /** From the setting when it names keys, else from (or into) the key file. */
  static open(options: { configuredKeys: readonly string[]; file: string }): SecretKeyring {
    if (options.configuredKeys.length > 0) return new SecretKeyring(parseConfiguredKeys(options.configuredKeys), undefined);
    return new SecretKeyring(loadOrCreateKeyFile(options.file), options.file);
  }

  /** A ring of given keys (tests, tools). */
  static of(keys: SecretKey[]): SecretKeyring {
    return new SecretKeyring(keys, undefined);
  }

  /** Re-reads the key file (after a rotation by another process). */
  reload(): void {
    if (!this.file) return;
    this.keys = parseKeyFile(readFileSync(this.file, 'utf8'), this.file);
    this.stamp = fileStamp(this.file);
  }

  private reloadIfChanged(): void {
    if (this.file && fileStamp(this.file) !== this.stamp) this.reload();
  }

  /** The key that seals. */
  current(): SecretKey {
    this.reloadIfChanged();
    return this.keys[0] as SecretKey;
  }

  ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  /** Key file only: a new key becomes the one that seals; the others stay, so what they sealed still opens. */
  addSealingKey(): SecretKey {
    if (!this.file) throw new KeyringError('the keys are configured (secrets.keys): put the new key first there');
    this.reload();
    const key = newSecretKey();
    writeKeyFile(this.file, [key, ...this.keys]);
    this.reload();
    return key;
  }

  /** Key file only: forgets every key but the one that seals; returns the ids forgotten. */
  retireOtherKeys(): string[] {
    if (!this.file) return [];
    this.reload();
    const [sealing, ...others] = this.keys;
    if (!sealing || others.length === 0) return [];
    writeKeyFile(this.file, [sealing]);
    this.reload();
    return others.map((k) => k.id);
  }

  private find(id: string): SecretKey | undefined {
    let key = this.keys.find((k) => k.id === id);
    if (!key && this.file) {
      this.reload();
      key = this.keys.find((k) => k.id === id);
    }
    return key;
  }

  seal(purpose: SecretPurpose, plaintext: string): string {
    const { id, key } = this.current();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /**
   * The plaintext of a stored value. A value that is not sealed (written before sealing existed, and
   * not yet sealed by the sweep at start) is returned as it is.
   */
  open(purpose: SecretPurpose, stored: string): string {
    if (!isSealed(stored)) return stored;
    const id = sealedKeyId(stored);
    const key = this.find(id);
    if (!key) throw new KeyringError(`a secret is sealed with key "${id}", which this process does not have (secrets.keys or the key file)`);
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length + id.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new KeyringError('a sealed secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new KeyringError(`a secret sealed with key "${id}" does not open (altered, or sealed for another use)`, { cause: error });
    }
  }

  /** Whether a stored value is sealed under the key that seals now. */
  isCurrent(stored: string): boolean {
    return isSealed(stored) && sealedKeyId(stored) === this.current().id;
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

export function sealedKeyId(stored: string): string {
  const end = stored.indexOf(':', SEALED_PREFIX.length);
  return end < 0 ? '' : stored.slice(SEALED_PREFIX.length, end);
}
