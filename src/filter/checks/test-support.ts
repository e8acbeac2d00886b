/** Helpers shared by the filter's tests: a context without a service, messages built inline, a store on the test engine. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import pg from 'pg';
import { loadConfig } from '../../config/index.ts';
import { createResolver } from '../../dns/index.ts';
import { createLogger } from '../../log/index.ts';
import { ManualClock } from '../../shared/clock.ts';
import { openStore, type Store } from '../../store/index.ts';
import type { FilterInput } from '../types.ts';
import { type FilterContext, messageInput } from './message.ts';

export const NOW = Date.parse('2026-11-26T10:00:00Z');

export function testContext(options: { filter?: Record<string, unknown>; dnsServers?: string[]; store?: Store } = {}): FilterContext {
  const config = loadConfig({ env: {}, overrides: { logLevel: 'silent', filter: options.filter ?? {}, dns: { servers: options.dnsServers ?? [] } } });
  return {
    config,
    db: options.store?.db as FilterContext['db'],
    resolver: createResolver({ servers: options.dnsServers ?? ['127.0.0.1:9'], timeoutMs: 200 }),
    clock: new ManualClock(NOW),
    log: createLogger('silent'),
  };
}

/** A message from header lines and a body; lines are joined with CRLF. */
export function rawMessage(headers: string[], body: string): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`, 'utf8');
}

export const BASIC_HEADERS = [
  'From: Alice Martin <alice@example.org>',
  'To: bob@example.net',
  'Subject: Minutes of the meeting',
  'Date: Thu, 26 Nov 2026 09:00:00 +0000',
  'Message-ID: <1234@example.org>',
  'MIME-Version: 1.0',
];

export function input(raw: Buffer | string, fields: Partial<FilterInput> = {}): Promise<FilterInput> {
  return messageInput(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw, fields);
}

/** A multipart/mixed message with one text part and attachments given as [filename, content-type, base64 body]. */
export function withAttachments(attachments: Array<{ name: string; type?: string; content: Buffer; encoding?: 'base64' | 'quoted-printable' }>): Buffer {
  const parts = attachments.map((a) => {
    const encoding = a.encoding ?? 'base64';
    const body =
      encoding === 'base64'
        ? (a.content.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
        : a.content.toString('latin1').replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return [
      '--BOUNDARY',
      `Content-Type: ${a.type ?? 'application/octet-stream'}; name="${a.name}"`,
      `Content-Disposition: attachment; filename="${a.name}"`,
      `Content-Transfer-Encoding: ${encoding}`,
      '',
      body,
    ].join('\r\n');
  });
  return Buffer.from(
    [
      ...BASIC_HEADERS,
      'Content-Type: multipart/mixed; boundary="BOUNDARY"',
      '',
      '--BOUNDARY',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please find the file attached.',
      ...parts,
      '--BOUNDARY--',
      '',
    ].join('\r\n'),
    'utf8',
  );
}

export const engine = process.env.FACTEUR_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** A migrated store on the engine of FACTEUR_TEST_ENGINE: a temporary SQLite file, or a schema of its own on PostgreSQL. */
export async function openTestStore(): Promise<Store & { dispose(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-filter-'));
  let url = '';
  let schema = '';
  if (engine === 'postgres') {
    const base = process.env.FACTEUR_TEST_DATABASE_URL;
    if (!base) throw new Error('FACTEUR_TEST_ENGINE=postgres needs FACTEUR_TEST_DATABASE_URL');
    schema = `t_${path
      .basename(dataDir)
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()}`;
    const u = new URL(base);
    u.searchParams.set('options', `-c search_path=${schema}`);
    url = u.toString();
  }
  const store = await openStore({ databaseUrl: url, dataDir });
  return {
    ...store,
    async dispose() {
      await store.close();
      if (schema) {
        const client = new pg.Client({ connectionString: process.env.FACTEUR_TEST_DATABASE_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A zip archive of the given entries (deflated unless `store`), with `size` overriding the declared uncompressed size. */
export function makeZip(entries: Array<{ name: string; content: Buffer; store?: boolean; declaredSize?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.store ? entry.content : deflateRawSync(entry.content);
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.content);
    const size = entry.declaredSize ?? entry.content.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(entry.store ? 0 : 8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(entry.store ? 0 : 8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
