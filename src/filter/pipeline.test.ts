/** The pipeline: sums, malware, failing safe on errors and on the time budget, and bad input within the budget (issue 5). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EICAR } from './checks/malware.ts';
import { GTUBE } from './checks/message.ts';
import { BASIC_HEADERS, input, makeZip, openTestStore, rawMessage, testContext, withAttachments } from './checks/test-support.ts';
import { builtinChecks, FAILED_SAFE, runChecks } from './pipeline.ts';
import type { Check } from './types.ts';

const fixed = (name: string, score: number): Check => ({
  name,
  run: async () => ({ symbols: [{ name: name.toUpperCase(), score, reason: { en: name, fr: name }, source: name }] }),
});

describe('pipeline: runChecks', () => {
  const ctx = testContext({ filter: { timeBudgetMs: 100 } });

  it('sums the symbols of every check and measures its time', async () => {
    const verdict = await runChecks(ctx, await input(rawMessage(BASIC_HEADERS, 'x')), [fixed('a', 1.5), fixed('b', 2.25), fixed('c', -1)]);
    assert.equal(verdict.score, 2.75);
    assert.deepEqual(
      verdict.symbols.map((s) => s.name),
      ['A', 'B', 'C'],
    );
    assert.equal(verdict.failedSafe, false);
    assert.equal(verdict.malware, null);
    assert.ok(verdict.durationMs >= 0 && verdict.durationMs < 100);
  });

  it('fails safe when the time budget runs out, keeping what finished', async () => {
    const slow: Check = { name: 'slow', run: () => new Promise((resolve) => setTimeout(() => resolve({ symbols: [] }), 2000).unref()) };
    const started = performance.now();
    const verdict = await runChecks(ctx, await input(rawMessage(BASIC_HEADERS, 'x')), [fixed('a', 1), slow]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95 && elapsed < 300, `${elapsed} ms`);
    assert.equal(verdict.failedSafe, true);
    assert.deepEqual(
      verdict.symbols.map((s) => s.name),
      ['A', FAILED_SAFE],
    );
    assert.match(verdict.symbols[1]?.reason.en ?? '', /100 ms \(slow\)/);
    assert.match(verdict.symbols[1]?.reason.fr ?? '', /100 ms/);
  });

  it('fails safe when a check throws', async () => {
    const broken: Check = {
      name: 'broken',
      run: async () => {
        throw new Error('boom');
      },
    };
    const verdict = await runChecks(ctx, await input(rawMessage(BASIC_HEADERS, 'x')), [broken, fixed('a', 1)]);
    assert.equal(verdict.failedSafe, true);
    assert.equal(verdict.score, 1);
    assert.ok(verdict.symbols.some((s) => s.name === FAILED_SAFE && /broken/.test(s.reason.en)));
  });
});

describe('pipeline: the built-in checks on real messages and bad input', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let ctx: ReturnType<typeof testContext>;
  before(async () => {
    store = await openTestStore();
    ctx = testContext({ store });
  });
  after(() => store.dispose());

  const verdictOf = async (raw: Buffer) => runChecks(ctx, await input(raw), builtinChecks(ctx));

  it('holds GTUBE with its reason, passes ordinary mail', async () => {
    const gtube = await verdictOf(rawMessage(BASIC_HEADERS, `Test\n${GTUBE}\n`));
    // Held, not refused: GTUBE is scored between the quarantine and the refusal scores (checks/gtube.ts).
    assert.ok(gtube.score >= ctx.config.filter.quarantineScore && gtube.score < ctx.config.filter.rejectScore, String(gtube.score));
    assert.ok(gtube.symbols.some((s) => s.name === 'GTUBE' && s.reason.fr.includes('GTUBE')));
    const ham = await verdictOf(rawMessage(BASIC_HEADERS, 'Hi Bob,\nthe minutes are attached.\nAlice'));
    assert.ok(ham.score < ctx.config.filter.quarantineScore, JSON.stringify(ham.symbols));
    assert.equal(ham.failedSafe, false);
  });

  it('reports EICAR, plain and zipped, as malware', async () => {
    for (const raw of [
      withAttachments([{ name: 'eicar.com', content: Buffer.from(EICAR) }]),
      withAttachments([{ name: 'a.zip', content: makeZip([{ name: 'b.zip', content: makeZip([{ name: 'eicar.com', content: Buffer.from(EICAR) }]) }]) }]),
    ]) {
      const verdict = await verdictOf(raw);
      assert.equal(verdict.malware?.name, 'Eicar-Test-Signature');
      assert.equal(verdict.failedSafe, false);
    }
  });

  it('holds a zip bomb (fails safe) quickly', async () => {
    const verdict = await verdictOf(withAttachments([{ name: 'bomb.zip', content: makeZip([{ name: 'zeros', content: Buffer.alloc(30 * 1024 * 1024) }]) }]));
    assert.equal(verdict.failedSafe, true);
    assert.equal(verdict.malware, null);
    assert.ok(verdict.durationMs < 1000, `${verdict.durationMs} ms`);
    assert.match(verdict.symbols.find((s) => s.name === FAILED_SAFE)?.reason.en ?? '', /zip bomb/);
  });

  it('gives a verdict on 100 levels of nested MIME', async () => {
    let body = `--b100\r\nContent-Type: text/plain\r\n\r\ninnermost ${GTUBE}\r\n--b100--\r\n`;
    for (let level = 99; level >= 1; level--) body = `--b${level}\r\nContent-Type: multipart/mixed; boundary="b${level + 1}"\r\n\r\n${body}--b${level}--\r\n`;
    const raw = Buffer.from(`${BASIC_HEADERS.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n${body}`);
    const verdict = await verdictOf(raw);
    assert.equal(verdict.failedSafe, false);
    assert.ok(verdict.symbols.some((s) => s.name === 'GTUBE'));
    assert.ok(verdict.symbols.some((s) => s.name === 'MIME_DEEP_NESTING'));
  });

  it('gives a verdict on a 1 MB header', async () => {
    const long = `X-Filler: ${'a'.repeat(998)}`;
    const raw = rawMessage([...BASIC_HEADERS, ...Array.from({ length: 1100 }, () => long)], 'Hello');
    const verdict = await verdictOf(raw);
    assert.equal(verdict.failedSafe, false);
    assert.ok(verdict.symbols.some((s) => s.name === 'HEADER_HUGE'));
  });

  it('gives a verdict on base64 that does not decode and on broken charsets', async () => {
    const raw = rawMessage(
      [...BASIC_HEADERS, 'Content-Type: text/plain; charset=x-unknown-charset', 'Content-Transfer-Encoding: base64'],
      '%%%% not base64 ~~~~\n====AAAA',
    );
    const verdict = await verdictOf(raw);
    assert.equal(verdict.failedSafe, false);
    assert.ok(verdict.symbols.some((s) => s.name === 'BROKEN_ENCODING'));
  });

  it('checks a 20 MB HTML body within the time budget', async () => {
    const paragraph = '<p>Lorem <b>ipsum</b> dolor sit amet, <a href="https://example.org/x">link</a> consectetur adipiscing elit.</p>\r\n';
    const html = paragraph.repeat(Math.ceil((20 * 1024 * 1024) / paragraph.length));
    const raw = rawMessage([...BASIC_HEADERS, 'Content-Type: text/html; charset=utf-8'], `<html><body>${html}</body></html>`);
    const verdict = await verdictOf(raw);
    assert.equal(verdict.failedSafe, false);
    assert.ok(verdict.durationMs < ctx.config.filter.timeBudgetMs, `${verdict.durationMs} ms`);
  });
});
