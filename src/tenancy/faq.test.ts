import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Language } from '../shared/errors.ts';
import { defaultFaqDir, type FaqPage, type FaqSettings, loadFaqPages, renderFaqPage } from './faq.ts';

/** Unusual values, so that a page showing them proves they were substituted and not written in the text. */
const SETTINGS: FaqSettings = {
  hostname: 'courrier.hebergeur-test.example',
  ports: { submission: 12587, submissions: 12465, imap: 12143, imaps: 12993, pop3: 12110, pop3s: 12995 },
  webUrl: 'https://portail.hebergeur-test.example:18443',
  limits: { messagesPerMinutePerRecipient: 100, recipientsPerMessage: 100, maxMessageBytes: 50 * 1024 * 1024, standardMessageBytes: 10 * 1024 * 1024 },
};

/** The pages shipped in faq/, rendered as the service would. */
const SHIPPED = loadFaqPages(defaultFaqDir());

function listFaqPages(language: Language, settings: FaqSettings): FaqPage[] {
  return SHIPPED[language].map((source) => renderFaqPage(source, settings));
}

function getFaqPage(slug: string, language: Language, settings: FaqSettings): FaqPage | undefined {
  const source = SHIPPED[language].find((candidate) => candidate.slug === slug);
  return source && renderFaqPage(source, settings);
}

const LANGUAGES: Language[] = ['en', 'fr'];

const EXPECTED_SLUGS = [
  'server-settings',
  'thunderbird',
  'outlook',
  'apple-mail',
  'android',
  'webmail',
  'app-passwords',
  'dns-records',
  'sending-limits',
  'troubleshooting',
];

function page(slug: string, language: Language) {
  const found = getFaqPage(slug, language, SETTINGS);
  assert.ok(found, `${slug} exists in ${language}`);
  return found;
}

test('R-T4 FAQ pages exist in French and English with the same slugs', () => {
  const en = listFaqPages('en', SETTINGS);
  const fr = listFaqPages('fr', SETTINGS);
  assert.deepEqual(
    en.map((p) => p.slug),
    EXPECTED_SLUGS,
  );
  assert.deepEqual(
    fr.map((p) => p.slug),
    EXPECTED_SLUGS,
  );
  for (const p of [...en, ...fr]) {
    assert.match(p.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case slug');
    assert.ok(p.title.length > 0, `${p.slug} has a title`);
    assert.ok(p.body.length > 500, `${p.slug} has real content`);
    assert.ok(p.topics.length > 0, `${p.slug} has topics`);
  }
  for (const [i, p] of en.entries()) assert.deepEqual(fr[i]?.topics, p.topics, `${p.slug}: topics do not depend on the language`);
});

test('R-T4 FAQ French pages are really French', () => {
  const frenchWords = /\b(vous|votre|vos|les|des|une|avec|pour)\b/g;
  for (const slug of EXPECTED_SLUGS) {
    const en = page(slug, 'en');
    const fr = page(slug, 'fr');
    assert.notEqual(fr.title, en.title, `${slug}: the French title is translated`);
    assert.notEqual(fr.body, en.body, `${slug}: the French body is translated`);
    assert.ok((fr.body.match(frenchWords) ?? []).length >= 10, `${slug}: the French body reads as French`);
    assert.ok((en.body.match(frenchWords) ?? []).length <= 2, `${slug}: the English body is not French`);
    assert.doesNotMatch(en.body, /[éèàùç]/, `${slug}: no French words left in the English body`);
  }
});

test('R-T4 FAQ server-settings page shows the service host name and every port', () => {
  for (const language of LANGUAGES) {
    const { body } = page('server-settings', language);
    assert.ok(body.includes(`\`${SETTINGS.hostname}\``), `${language}: host name`);
    for (const [name, port] of Object.entries(SETTINGS.ports)) assert.match(body, new RegExp(`\\b${port}\\b`), `${language}: ${name} port ${port}`);
    assert.ok(body.includes(SETTINGS.webUrl), `${language}: web URL`);
    assert.match(body, /STARTTLS/);
    assert.match(body, /SSL\/TLS/);
    assert.match(body, /POP3/);
  }
  assert.match(page('server-settings', 'en').body, /full e-mail address/);
  assert.match(page('server-settings', 'fr').body, /adresse e-mail complète/);
});

test('R-T4 FAQ mail-program pages use the service settings', () => {
  for (const slug of ['thunderbird', 'outlook', 'apple-mail', 'android']) {
    for (const language of LANGUAGES) {
      const { body } = page(slug, language);
      assert.ok(body.includes(SETTINGS.hostname), `${slug} ${language}: host name`);
      assert.match(body, /\b12993\b/, `${slug} ${language}: IMAPS port`);
      assert.match(body, /\b12465\b/, `${slug} ${language}: submissions port`);
    }
  }
  for (const slug of ['webmail', 'app-passwords', 'troubleshooting']) {
    for (const language of LANGUAGES) assert.ok(page(slug, language).body.includes(SETTINGS.webUrl), `${slug} ${language}: web URL`);
  }
});

test('R-T4 FAQ pages never hard-code a host name or a standard port', () => {
  const other: FaqSettings = { ...SETTINGS, hostname: 'mx.other-provider.example', webUrl: 'https://webmail.other-provider.example' };
  for (const language of LANGUAGES) {
    for (const p of listFaqPages(language, other)) {
      assert.doesNotMatch(p.body, /\b(143|993|110|995|465|587|2143|2993|2110|2995|2465|2587)\b/, `${p.slug} ${language}: no literal port`);
      assert.ok(!p.body.includes(SETTINGS.hostname), `${p.slug} ${language}: no host name from elsewhere`);
      assert.doesNotMatch(p.body, /undefined|NaN|\[object Object\]|\$\{/, `${p.slug} ${language}: fully rendered`);
    }
  }
});

test('R-T4 FAQ sending-limits page states the contract limits and explains the replies', () => {
  const en = page('sending-limits', 'en').body;
  const fr = page('sending-limits', 'fr').body;
  assert.match(en, /one single recipient \| 100 \|/);
  assert.match(en, /Recipients per message.* \| 100 \|/);
  assert.match(en, /attachments included \| 50 MB \|/);
  assert.match(en, /guaranteed \| 10 MB \|/);
  assert.match(fr, /même destinataire \| 100 \|/);
  assert.match(fr, /pièces jointes comprises \| 50 Mo \|/);
  assert.match(fr, /garantie \| 10 Mo \|/);
  for (const body of [en, fr]) {
    for (const code of ['452 4.5.3', '552 5.3.4', '535 5.7.8']) assert.ok(body.includes(code), code);
  }
});

test('R-T4 FAQ troubleshooting page covers certificates, authentication and unblocking', () => {
  const en = page('troubleshooting', 'en').body;
  const fr = page('troubleshooting', 'fr').body;
  assert.match(en, /## Certificate warning/);
  assert.match(en, /## Authentication fails/);
  assert.match(en, /change its password/);
  assert.match(en, /support ticket/);
  assert.match(fr, /## Alerte de certificat/);
  assert.match(fr, /changez son mot de passe/);
  assert.match(fr, /ticket de support/);
});

test('R-T4 FAQ DNS page explains MX, SPF, DKIM and DMARC and points to the portal values', () => {
  for (const language of LANGUAGES) {
    const { body } = page('dns-records', language);
    for (const record of ['MX', 'SPF', 'DKIM', 'DMARC']) assert.match(body, new RegExp(`## ${record}\\b`), `${language}: ${record}`);
  }
  assert.match(page('dns-records', 'en').body, /exact value/);
  assert.match(page('dns-records', 'fr').body, /valeur exacte/);
});

test('R-T4 FAQ unknown slug gives undefined', () => {
  assert.equal(getFaqPage('no-such-page', 'en', SETTINGS), undefined);
  assert.equal(getFaqPage('no-such-page', 'fr', SETTINGS), undefined);
  assert.equal(getFaqPage('', 'en', SETTINGS), undefined);
  assert.equal(getFaqPage('Thunderbird', 'en', SETTINGS), undefined, 'slugs are exact');
});

test('R-T4 FAQ getFaqPage returns the listed page, as a fresh copy', () => {
  for (const language of LANGUAGES) {
    for (const listed of listFaqPages(language, SETTINGS)) assert.deepEqual(getFaqPage(listed.slug, language, SETTINGS), listed);
  }
  page('webmail', 'en').topics.push('changed');
  assert.ok(!page('webmail', 'en').topics.includes('changed'));
});

test('R-T4 R-M5 FAQ sending-limits page shows the limits in force, not the contract numbers written in the text', () => {
  const MB = 1024 * 1024;
  const limits = { messagesPerMinutePerRecipient: 37, recipientsPerMessage: 42, maxMessageBytes: 25 * MB, standardMessageBytes: 7 * MB };
  const en = getFaqPage('sending-limits', 'en', { ...SETTINGS, limits })?.body ?? '';
  const fr = getFaqPage('sending-limits', 'fr', { ...SETTINGS, limits })?.body ?? '';
  assert.match(en, /one single recipient \| 37 \|/);
  assert.match(en, /Recipients per message.* \| 42 \|/);
  assert.match(en, /attachments included \| 25 MB \|/);
  assert.match(en, /guaranteed \| 7 MB \|/);
  assert.match(en, /a message of 25 MB holds about 18 MB of files/, 'the attachment size is computed from the limit (Base64, RFC 2045 §6.8)');
  assert.match(fr, /même destinataire \| 37 \|/);
  assert.match(fr, /pièces jointes comprises \| 25 Mo \|/);
  for (const body of [en, fr]) assert.doesNotMatch(body, /\b(100|50)\b/, 'no contract number left in the text');
});

test('R-T4 FAQ folders are checked when read: a page missing in one language, an unknown placeholder or a bad name is refused', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'facteur-faq-'));
  try {
    await mkdir(path.join(dir, 'en'));
    await mkdir(path.join(dir, 'fr'));
    const page = (title: string, body: string) => `---\ntitle: ${title}\ntopics: a, b\n---\n${body}\n`;
    await writeFile(path.join(dir, 'en', '01-setup.md'), page('Setup', 'Server {{hostname}} port {{ports.imaps}}'));
    await writeFile(path.join(dir, 'fr', '01-setup.md'), page('Réglages', 'Serveur {{ hostname }} port {{ports.imaps}}'));
    const loaded = loadFaqPages(dir);
    const rendered = renderFaqPage(loaded.fr[0] as never, SETTINGS);
    assert.deepEqual(rendered, { slug: 'setup', title: 'Réglages', topics: ['a', 'b'], body: `Serveur ${SETTINGS.hostname} port 12993` });

    await writeFile(path.join(dir, 'en', '02-extra.md'), page('Extra', 'text'));
    assert.throws(() => loadFaqPages(dir), /differ between languages/);
    await writeFile(path.join(dir, 'fr', '02-extra.md'), page('Extra', 'port {{ports.smtp}}'));
    assert.throws(() => loadFaqPages(dir), /unknown placeholder \{\{ports\.smtp\}\}/);
    await writeFile(path.join(dir, 'fr', '02-extra.md'), page('Extra', 'text'));
    await writeFile(path.join(dir, 'en', 'Notes.md'), page('Notes', 'text'));
    assert.throws(() => loadFaqPages(dir), /NN-slug\.md/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
