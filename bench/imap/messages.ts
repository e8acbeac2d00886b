/**
 * Deterministic test mail for bench/imap: the same bytes go to Facteur and to Dovecot. Messages of
 * 2–20 KB with the headers real mail carries (Received chain, DKIM-Signature, Authentication-Results,
 * List-Id on some), a third multipart/alternative (text + HTML), a tenth multipart/mixed with a base64
 * attachment, and initial flags (most read, a few flagged or answered).
 */

/** mulberry32: a small seeded PRNG, so both servers get the same messages and the same load. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'invoice meeting project budget quarterly report review schedule update deadline contract proposal ' +
  'customer support release planning agenda minutes travel expense approval hiring onboarding security ' +
  'incident migration database backup network outage holiday newsletter webinar feedback survey design ' +
  'prototype launch marketing analytics dashboard renewal licence training workshop conference lunch'
).split(' ');
const NAMES = ['Alice Martin', 'Bruno Lefèvre', 'Chloé Dubois', 'David Chen', 'Emma Rossi', 'François Petit', 'Grace Okafor', 'Hugo Bernard'];
const DOMAINS = ['example.org', 'partner.example.net', 'lists.example.com', 'client.example.fr'];

export interface BenchMessage {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
  subject: string;
}

/** The words searched by the load (SEARCH SUBJECT / BODY): every one appears in some subjects. */
export const SEARCH_WORDS = WORDS.slice(0, 16);

function sentence(rand: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)] as string);
  const s = out.join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
}

function paragraphText(rand: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = sentence(rand, 6 + Math.floor(rand() * 8));
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

function base64Lines(rand: () => number, bytes: number): string {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = Math.floor(rand() * 256);
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

function address(rand: () => number): { name: string; email: string } {
  const name = NAMES[Math.floor(rand() * NAMES.length)] as string;
  const domain = DOMAINS[Math.floor(rand() * DOMAINS.length)] as string;
  const local = name
    .normalize('NFD')
    .replace(/[^\w ]/g, '')
    .toLowerCase()
    .replace(' ', '.');
  return { name, email: `${local}@${domain}` };
}

/** Message `index` of `to`'s mailbox: same index, same bytes. */
export function makeMessage(index: number, to: string, seed = 1): BenchMessage {
  const rand = prng(seed * 1_000_003 + index);
  const from = address(rand);
  const date = new Date(Date.UTC(2026, 0, 1) + index * 3_600_000 + Math.floor(rand() * 3_600_000));
  const subjectWords = 3 + Math.floor(rand() * 5);
  const subject = `${rand() < 0.2 ? 'Re: ' : ''}${sentence(rand, subjectWords).slice(0, -1)} #${index}`;
  const target = 2048 + Math.floor(rand() * 18 * 1024);
  const messageId = `<${index}.${Math.floor(rand() * 1e9).toString(36)}@${from.email.split('@')[1]}>`;
  const headers = [
    `Return-Path: <${from.email}>`,
    `Received: from mail.${from.email.split('@')[1]} (mail.${from.email.split('@')[1]} [192.0.2.${index % 250}])\r\n\tby mx.bench.test with ESMTPS id ${index.toString(36)}\r\n\tfor <${to}>; ${date.toUTCString().replace('GMT', '+0000')}`,
    `Received: from [10.0.0.${index % 200}] by mail.${from.email.split('@')[1]} with ESMTPSA; ${date.toUTCString().replace('GMT', '+0000')}`,
    `Authentication-Results: mx.bench.test; dkim=pass header.d=${from.email.split('@')[1]}; spf=pass smtp.mailfrom=${from.email}; dmarc=pass`,
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${from.email.split('@')[1]}; s=s1;\r\n\th=from:to:subject:date:message-id; bh=${base64Lines(rand, 32).replace(/\r\n/g, '')};\r\n\tb=${base64Lines(rand, 128).replace(/\r\n/g, '\r\n\t ')}`,
    `From: "${from.name}" <${from.email}>`,
    `To: <${to}>`,
    ...(rand() < 0.3 ? [`Cc: "${address(rand).name}" <${address(rand).email}>`] : []),
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    ...(rand() < 0.2 ? [`In-Reply-To: <${index - 1}.reply@example.org>`, `References: <${index - 1}.reply@example.org>`] : []),
    ...(rand() < 0.15 ? ['List-Id: <news.lists.example.com>', '<mailto:unsubscribe@lists.example.com>'.replace(/^/, 'List-Unsubscribe: ')] : []),
    'MIME-Version: 1.0',
  ];
  const kind = rand();
  const headerBytes = headers.join('\r\n').length;
  const bodyBytes = Math.max(200, target - headerBytes - 200);
  let body: string;
  if (kind < 0.1) {
    const boundary = `mixed-${index}`;
    const textPart = paragraphText(rand, Math.floor(bodyBytes * 0.3));
    const attachment = base64Lines(rand, Math.floor(bodyBytes * 0.5));
    headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
    body = [
      'This is a multi-part message in MIME format.',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      textPart,
      `--${boundary}`,
      `Content-Type: application/pdf; name="report-${index}.pdf"`,
      `Content-Disposition: attachment; filename="report-${index}.pdf"`,
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      `--${boundary}--`,
      '',
    ].join('\r\n');
  } else if (kind < 0.4) {
    const boundary = `alt-${index}`;
    const text = paragraphText(rand, Math.floor(bodyBytes * 0.4));
    const html = `<html><body>${text
      .split('\r\n')
      .map((l) => `<p>${l}</p>`)
      .join('\r\n')}</body></html>`;
    headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = [
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      text,
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      html,
      `--${boundary}--`,
      '',
    ].join('\r\n');
  } else {
    headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = `${paragraphText(rand, bodyBytes)}\r\n`;
  }
  const flags: string[] = [];
  const f = rand();
  if (f < 0.7) flags.push('\\Seen');
  if (f < 0.05) flags.push('\\Flagged');
  if (f > 0.6 && f < 0.65) flags.push('\\Answered');
  return { raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`), flags, internalDate: date, subject };
}
