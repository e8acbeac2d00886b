/**
 * SASL PLAIN (RFC 4616) as POP3 carries it (RFC 5034 §4): strict base64, then
 * `[authzid] NUL authcid NUL passwd` in UTF-8.
 */

export interface PlainCredentials {
  authzid: string;
  authcid: string;
  password: string;
}

/** RFC 5034 §4: any character outside the alphabet, or padding anywhere but the end, is an error. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text === '=') return Buffer.alloc(0); // RFC 5034 §4: an empty initial response
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** RFC 4616 §2: exactly two NULs; authcid and passwd not empty; the whole message valid UTF-8. */
export function parsePlain(message: Buffer): PlainCredentials | undefined {
  let text: string;
  try {
    text = decoder.decode(message);
  } catch {
    return undefined;
  }
  const parts = text.split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid, authcid, password] = parts as [string, string, string];
  if (!authcid || !password) return undefined;
  return { authzid, authcid, password };
}
