/**
 * mailparser, loaded at its first use: it is large (html-to-text, he, linkify-it, iconv-lite), and
 * only an IMAP BODY/TEXT search or a quarantine preview needs a whole decoded message, so a serving
 * process that never does either does not hold it (bench/imap: about 8 MB of resident memory).
 */
let loaded: Promise<typeof import('mailparser')> | undefined;

export function loadMailparser(): Promise<typeof import('mailparser')> {
  loaded ??= import('mailparser');
  return loaded;
}
