/**
 * A DNS server on loopback for tests, serving a zone given as data. Point the service's one resolver at
 * it with `createResolver({ servers: [dns.address], timeoutMs })`: record checks, delivery and
 * blocklists are then tested through the real code path.
 *
 * - Names with no records (and no records below them) answer NXDOMAIN (node: ENOTFOUND); names with
 *   records of other types only answer NOERROR without answers (NODATA, node: ENODATA).
 * - Names in `servfail` answer SERVFAIL (node: ESERVFAIL); names in `unanswered` get no reply at all
 *   (node: ETIMEOUT once the resolver gives up).
 * - UDP and TCP listen on the same port, so answers too big for UDP (TC bit) are fetched again over TCP.
 * - Records are served with TTL 0 so no cache hides a later `set` or `remove` (node's resolver keeps
 *   none, but other clients may).
 */
import type { AddressInfo, Socket } from 'node:net';
import dns2 from 'dns2';

const { Packet, createTCPServer, createUDPServer } = dns2;
type DnsPacket = InstanceType<typeof Packet>;
type DnsResource = DnsPacket['answers'][number];

/** RFC 1035 §3.3: a <character-string> is one length octet followed by at most 255 octets. */
const MAX_CHARACTER_STRING_BYTES = 255;
const BIND_ATTEMPTS = 10;
/** RFC 1035 §4.1.1 (dns2 has `Packet.RCODE` at run time, but its type declarations omit it). */
const RCODE = { FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export interface ZoneRecords {
  MX?: { exchange: string; priority: number }[];
  /** One entry per record, each a list of strings; strings over 255 bytes are split on the wire. */
  TXT?: string[][];
  A?: string[];
  AAAA?: string[];
  /** For reverse lookups, at `<reversed ip>.in-addr.arpa` / `.ip6.arpa`. */
  PTR?: string[];
}

export type RecordType = keyof ZoneRecords;

/** Lowercased FQDN (no trailing dot) → its records. */
export type Zone = Record<string, ZoneRecords>;

export interface DnsServer {
  port: number;
  /** `127.0.0.1:PORT`, ready for `createResolver({ servers: [address] })`. */
  address: string;
  zone: Zone;
  /** Names answering SERVFAIL whatever their records. */
  servfail: Set<string>;
  /** Names whose queries are dropped, to test timeouts. */
  unanswered: Set<string>;
  /** Every question received, in order. */
  queries: DnsQuery[];
  set<T extends RecordType>(name: string, type: T, records: NonNullable<ZoneRecords[T]>): void;
  /** Removes one type of records of a name, or the whole name. */
  remove(name: string, type?: RecordType): void;
  close(): Promise<void>;
}

export interface DnsQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

const TYPE_NAMES = new Map<number, RecordType>([
  [Packet.TYPE.A, 'A'],
  [Packet.TYPE.AAAA, 'AAAA'],
  [Packet.TYPE.MX, 'MX'],
  [Packet.TYPE.TXT, 'TXT'],
  [Packet.TYPE.PTR, 'PTR'],
]);

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export async function startDnsServer(zone: Zone = {}): Promise<DnsServer> {
  const state = { zone: normalizeZone(zone), servfail: new Set<string>(), unanswered: new Set<string>(), queries: [] as DnsQuery[] };
  const handlerFor =
    (transport: DnsQuery['transport']): Handler =>
    (request, send) => {
      const question = request.questions[0];
      const name = normalizeName(question?.name ?? '');
      state.queries.push({ name, type: TYPE_NAMES.get(question?.type ?? 0) ?? String(question?.type), transport });
      if (state.unanswered.has(name)) return;
      send(answer(request, state));
    };
  const { udp, tcp, port } = await listenOnOnePort(handlerFor('udp'), handlerFor('tcp'));
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    port,
    address: `127.0.0.1:${port}`,
    zone: state.zone,
    servfail: state.servfail,
    unanswered: state.unanswered,
    queries: state.queries,
    set(name, type, records) {
      const key = normalizeName(name);
      state.zone[key] = { ...state.zone[key], [type]: records };
    },
    remove(name, type) {
      const key = normalizeName(name);
      if (type === undefined) delete state.zone[key];
      else delete state.zone[key]?.[type];
    },
    close: () => closeServers(udp, tcp, sockets),
  };
}

function normalizeZone(zone: Zone): Zone {
  return Object.fromEntries(Object.entries(zone).map(([name, records]) => [normalizeName(name), { ...records }]));
}

interface ZoneState {
  zone: Zone;
  servfail: Set<string>;
}

function answer(request: DnsPacket, state: ZoneState): DnsPacket {
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  response.header.ra = 1;
  const question = request.questions[0];
  if (!question) {
    response.header.rcode = RCODE.FORMERR;
    return response;
  }
  const name = normalizeName(question.name);
  if (state.servfail.has(name)) {
    response.header.rcode = RCODE.SERVFAIL;
    return response;
  }
  if (!nameExists(state.zone, name)) {
    response.header.rcode = RCODE.NXDOMAIN;
    return response;
  }
  const type = TYPE_NAMES.get(question.type);
  const records: unknown[] = (type && state.zone[name]?.[type]) || [];
  const base = { name: question.name, type: question.type, class: Packet.CLASS.IN, ttl: 0 };
  response.answers = type ? records.map((record) => ({ ...base, ...rdata(type, record) }) as DnsResource) : [];
  return response;
}

/** RFC 8020: a name exists when it has records or names below it do (an empty non-terminal). */
function nameExists(zone: Zone, name: string): boolean {
  return Object.entries(zone).some(([owner, records]) => (owner === name || owner.endsWith(`.${name}`)) && hasRecords(records));
}

function hasRecords(records: ZoneRecords): boolean {
  return Object.values(records).some((list) => list !== undefined && list.length > 0);
}

function rdata(type: RecordType, record: unknown): Partial<DnsResource> {
  switch (type) {
    case 'A':
    case 'AAAA':
      return { address: record as string };
    case 'MX': {
      const mx = record as { exchange: string; priority: number };
      return { exchange: mx.exchange, priority: mx.priority };
    }
    case 'PTR':
      return { domain: record as string };
    case 'TXT':
      // dns2 writes each string's length in one octet without checking it: longer strings would
      // corrupt the packet, so they are split here, byte-wise, as Buffers (which dns2 accepts).
      return { data: (record as string[]).flatMap(splitCharacterString) as unknown as string[] };
  }
}

function splitCharacterString(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [bytes];
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += MAX_CHARACTER_STRING_BYTES) chunks.push(bytes.subarray(start, start + MAX_CHARACTER_STRING_BYTES));
  return chunks;
}

type Handler = (request: DnsPacket, send: (response: DnsPacket) => unknown) => void;
type UdpServer = ReturnType<typeof createUDPServer>;
type TcpServer = ReturnType<typeof createTCPServer>;

/**
 * UDP on a random port of 127.0.0.1, then TCP on the same port (retrying on another port when that one
 * is taken for TCP). dns2's `createServer().listen()` cannot do this: it drops `address` with port 0.
 */
async function listenOnOnePort(handleUdp: Handler, handleTcp: Handler): Promise<{ udp: UdpServer; tcp: TcpServer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = createUDPServer({ type: 'udp4' });
    udp.on('request', handleUdp);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const port = udp.address().port;
    const tcp = createTCPServer();
    tcp.on('request', handleTcp);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => resolve());
      });
      return { udp, tcp, port: (tcp.address() as AddressInfo).port };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

async function closeServers(udp: UdpServer, tcp: TcpServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
}
