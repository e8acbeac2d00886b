import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePunycode, toAsciiDomain, toUnicodeDomain } from './idn.ts';

// RFC 3492 §7.1 sample strings (a selection: the labels as given there, lower-cased).
const SAMPLES: [string, string][] = [
  ['egbpdaj6bu4bxfgehfvwxn', 'ليهمابتكلموشعربي؟'], // (A) Arabic (Egyptian)
  ['ihqwcrb4cv8a8dqg056pqjye', '他们为什么不说中文'], // (B) Chinese (simplified)
  ['proprostnemluvesky-uyb24dma41a', 'Pročprostěnemluvíčesky'.toLowerCase()], // (D) Czech, lower-cased
  ['b1abfaaepdrnnbgefbadotcwatmq2g4l', 'почемужеонинеговорятпорусски'], // (L) Russian
  ['3b-ww4c5e180e575a65lsy2b', '3年b組金八先生'.toLowerCase()], // (J) Japanese
];

test('RFC 3492 §7.1 sample strings decode', () => {
  for (const [encoded, decoded] of SAMPLES) assert.equal(decodePunycode(encoded), decoded, encoded);
});

test('malformed punycode is refused, not guessed', () => {
  assert.equal(decodePunycode('abc-!!'), undefined);
  assert.equal(decodePunycode('99999999999'), undefined);
});

test('R-T3 IDN domains are stored in ASCII and shown in Unicode', () => {
  assert.equal(toAsciiDomain('Café-Exemple.TEST'), 'xn--caf-exemple-dbb.test');
  assert.equal(toUnicodeDomain('xn--caf-exemple-dbb.test'), 'café-exemple.test');
  assert.equal(toUnicodeDomain('plain.test'), 'plain.test');
  assert.equal(toAsciiDomain('exa mple.test'), undefined);
});
