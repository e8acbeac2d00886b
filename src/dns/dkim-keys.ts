/**
 * DKIM keys of customer domains: an RSA pair per domain, the private half kept to sign outgoing mail,
 * the public half published at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface DkimKey {
  /** PKCS#8, PEM. */
  privateKeyPem: string;
  /** Base64 of the DER SubjectPublicKeyInfo, as the `p=` tag carries it (RFC 6376 §3.6.1). */
  publicKey: string;
}

/** Generates an RSA key pair off the main thread. RFC 8301 §3.2: signers use at least 1024 bits. */
export async function generateDkimKey(bits: number): Promise<DkimKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKey: publicKey.toString('base64') };
}

/** A selector naming the key by its month, e.g. `facteur202611`, so a rotated key gets a new name. */
export function dkimSelector(prefix: string, now: number): string {
  const date = new Date(now);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${prefix}${date.getUTCFullYear()}${month}`;
}

/** The TXT record to publish for a public key (RFC 6376 §3.6.1). */
export function dkimRecordValue(publicKey: string): string {
  return `v=DKIM1; k=rsa; p=${publicKey}`;
}
