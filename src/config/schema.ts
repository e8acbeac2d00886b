/**
 * The configuration schema. Its defaults are the documentation: every setting, its default and its
 * environment override are here. The contract's numbers (§6 limits) are the defaults of the
 * classes created at first start; the operator changes them per class afterwards, without code.
 */
import { type Static, Type as T } from '@sinclair/typebox';

const port = (fallback: number) => T.Integer({ minimum: 0, maximum: 65535, default: fallback });

export const ConfigSchema = T.Object(
  {
    dataDir: T.String({ default: './data', minLength: 1, description: 'Where the SQLite file, blobs, keys and certificates live.' }),
    databaseUrl: T.String({ default: '', description: 'postgres://… to use PostgreSQL; empty for the embedded SQLite file.' }),
    redisUrl: T.String({ default: '', description: 'redis://… to share limits, locks and the change feed between nodes.' }),
    redisKeyPrefix: T.String({
      default: 'facteur:',
      minLength: 1,
      description: 'Prefix of every Redis key and channel of this service: several services can share one Redis.',
    }),
    rspamdUrl: T.String({ default: '', description: 'http://host:port of an Rspamd normal worker; empty for the built-in scorer.' }),
    clamd: T.String({ default: '', description: 'host:port or socket path of clamd; empty for the built-in malware checks.' }),
    hostname: T.String({ default: 'localhost', minLength: 1, description: "This service's public host name (MX, HELO, links)." }),
    publicUrl: T.String({ default: '', description: 'Base URL of the web interface; defaults to http://<hostname>:<http port>.' }),
    listenHost: T.String({ default: '0.0.0.0', description: 'Address the listeners bind to.' }),
    workers: T.Integer({
      default: 0,
      minimum: 0,
      maximum: 256,
      description: '`facteur serve`: worker processes sharing the listeners and the data; 0 for one per core, 1 for a single process (no primary).',
    }),
    roles: T.Array(T.Union([T.Literal('mx'), T.Literal('submission'), T.Literal('imap'), T.Literal('pop3'), T.Literal('web'), T.Literal('worker')]), {
      default: ['mx', 'submission', 'imap', 'pop3', 'web', 'worker'],
    }),
    ports: T.Object(
      {
        mx: port(2525),
        submission: port(2587),
        submissions: port(2465),
        imap: port(2143),
        imaps: port(2993),
        pop3: port(2110),
        pop3s: port(2995),
        http: port(8080),
      },
      { default: {} },
    ),
    dns: T.Object(
      {
        servers: T.Array(T.String(), { default: [], description: 'DNS servers (host or host:port); empty for the system resolver.' }),
        timeoutMs: T.Integer({ default: 3000, minimum: 100 }),
        mxHosts: T.Array(T.String(), { default: [], description: "The provider's MX hosts customers must publish; defaults to [hostname]." }),
        spfInclude: T.String({ default: '', description: 'The SPF record customers include; defaults to spf.<hostname>.' }),
        dkimSelectorPrefix: T.String({ default: 'facteur', pattern: '^[a-z0-9][a-z0-9-]{0,40}$' }),
        dkimKeyBits: T.Integer({ default: 2048, minimum: 1024, maximum: 4096 }),
        dkimGraceDays: T.Number({
          default: 7,
          minimum: 0,
          description: 'After a DKIM rotation, how long the previous key stays listed: longer than the queue lifetime, so signatures in transit verify.',
        }),
      },
      { default: {} },
    ),
    tls: T.Object(
      {
        certFile: T.String({ default: '', description: 'PEM certificate (chain allowed) for TLS; empty: self-signed one in <dataDir>/tls.' }),
        keyFile: T.String({ default: '', description: 'PEM private key of tls.certFile.' }),
      },
      { default: {} },
    ),
    operator: T.Object(
      {
        email: T.String({ default: '', description: 'The first operator login, created at first start.' }),
        password: T.String({ default: '', description: 'Its password; generated and printed once when empty.' }),
      },
      { default: {} },
    ),
    auth: T.Object(
      {
        sessionTtlMinutes: T.Integer({ default: 12 * 60, minimum: 5 }),
        minPasswordLength: T.Integer({ default: 10, minimum: 8, maximum: 128 }),
        loginFailuresPerAccount: T.Integer({
          default: 10,
          minimum: 1,
          description: 'Failed logins of one account from one client IP per window before that pair is throttled (never the account alone).',
        }),
        loginFailuresPerIp: T.Integer({ default: 50, minimum: 1, description: 'Failed logins from one client IP per window, any account.' }),
        loginFailuresPerNetwork: T.Integer({ default: 200, minimum: 1, description: 'Failed logins from one IPv4 /24 or IPv6 /64 per window.' }),
        loginWindowSeconds: T.Integer({ default: 15 * 60, minimum: 1 }),
        secureCookies: T.Union([T.Literal('auto'), T.Boolean()], { default: 'auto', description: "'auto': Secure when publicUrl is https." }),
      },
      { default: {} },
    ),
    limits: T.Object(
      {
        messagesPerMinutePerRecipient: T.Integer({ default: 100, minimum: 1, description: 'Contract §6.' }),
        recipientsPerMessage: T.Integer({ default: 100, minimum: 1, description: 'Contract §6.' }),
        maxMessageBytes: T.Integer({ default: 50 * 1024 * 1024, minimum: 1024, description: 'Contract §6: 50 MB, attachments included.' }),
        standardMessageBytes: T.Integer({ default: 10 * 1024 * 1024, minimum: 1024, description: 'Contract §6: the size shown as guaranteed.' }),
      },
      { default: {} },
    ),
    operations: T.Object(
      {
        leaseSeconds: T.Integer({ default: 60, minimum: 5, description: 'A running operation whose process stops heart-beating is failed after this.' }),
      },
      { default: {} },
    ),
    delivery: T.Object(
      {
        smtpPort: port(25),
        maxQueueDays: T.Number({ default: 5, exclusiveMinimum: 0, description: 'Lifetime of a queued message before it expires with a DSN to its sender.' }),
        concurrencyPerDomain: T.Integer({ default: 5, minimum: 1, description: 'Simultaneous connections per destination domain (per worker).' }),
        retryMinutes: T.Array(T.Number({ minimum: 0 }), {
          default: [1, 5, 15, 30, 60, 120, 240],
          minItems: 1,
          description: 'Back-off after the 1st, 2nd, … failed attempt; the last value repeats.',
        }),
        retryJitter: T.Number({ default: 0.1, minimum: 0, maximum: 1, description: 'Random fraction added to each back-off, so retries spread out.' }),
        connectTimeoutMs: T.Integer({ default: 30_000, minimum: 10 }),
        responseTimeoutMs: T.Integer({ default: 300_000, minimum: 10, description: 'RFC 5321 §4.5.3.2: wait for a greeting or reply.' }),
        leaseSeconds: T.Integer({ default: 900, minimum: 5, description: 'A taken row whose worker stops renewing its lease is taken again after this.' }),
        pollSeconds: T.Number({ default: 5, minimum: 0.01 }),
        batchSize: T.Integer({ default: 200, minimum: 1, description: 'Rows taken per round.' }),
      },
      { default: {} },
    ),
    srs: T.Object(
      {
        domain: T.String({
          default: '',
          description: 'Domain of SRS addresses for forwarded mail (its MX and SPF must be this service); defaults to hostname.',
        }),
        secret: T.String({ default: '', description: 'HMAC secret of SRS addresses; empty: generated at first use and kept in the database.' }),
        maxAgeDays: T.Integer({ default: 21, minimum: 1, maximum: 1000, description: 'How long a bounce to an SRS address is accepted after the forward.' }),
      },
      { default: {} },
    ),
    filter: T.Object(
      {
        quarantineScore: T.Number({ default: 6, description: 'Default spam score at or above which a message is held in quarantine (R-S1).' }),
        rejectScore: T.Number({ default: 15, description: 'Default score at or above which the MX refuses at DATA (550 5.7.1), when every recipient agrees.' }),
        blockedAction: T.Union([T.Literal('reject'), T.Literal('quarantine')], {
          default: 'quarantine',
          description: 'What a sender on a block list gets: refused for that recipient, or held as "blocked sender" (R-S2).',
        }),
        timeBudgetMs: T.Integer({
          default: 5000,
          minimum: 10,
          description: 'Longest the checks of one message may take; past it the message is held, never delivered unscanned.',
        }),
        dnsblZones: T.Array(T.String(), {
          default: [],
          description: 'DNS blocklists for the connecting IP, e.g. zen.spamhaus.org (queried through the one resolver).',
        }),
        uriblZones: T.Array(T.String(), { default: [], description: 'DNS blocklists for domains of URLs in the body, e.g. dbl.spamhaus.org.' }),
        riskyAttachments: T.Array(T.String(), {
          default: [
            'exe',
            'scr',
            'com',
            'pif',
            'bat',
            'cmd',
            'vbs',
            'vbe',
            'js',
            'jse',
            'wsf',
            'wsh',
            'hta',
            'msi',
            'cpl',
            'jar',
            'docm',
            'xlsm',
            'pptm',
            'dotm',
            'xltm',
          ],
          description: 'File name extensions treated as malware (executables, macro documents), also inside zip archives (R-V1).',
        }),
        quarantineDays: T.Number({ default: 30, exclusiveMinimum: 0, description: 'Held messages are deleted after this (R-S4).' }),
        vaultDays: T.Number({
          default: 365,
          exclusiveMinimum: 0,
          description: 'Outbound mail carrying malware is kept this long in the vault, then purged (R-V1).',
        }),
        digestLinkDays: T.Number({ default: 14, exclusiveMinimum: 0, description: 'Validity of the release and delete links of a digest (R-S3).' }),
        rspamdMode: T.Union([T.Literal('replace'), T.Literal('complement')], {
          default: 'complement',
          description: 'With rspamdUrl set: Rspamd alone decides (replace), or its symbols add to the built-in checks (complement).',
        }),
        outboundBlocks: T.Boolean({ default: false, description: 'Refuse outbound mail scored as spam (otherwise only recorded for the abuse handling).' }),
      },
      { default: {} },
    ),
    mailAccess: T.Object(
      {
        allowPlaintextOnLoopback: T.Boolean({
          default: false,
          description:
            'IMAP and POP3: allow passwords before STARTTLS/STLS when the client connects from loopback (tests, a local webmail). Never from elsewhere.',
        }),
        loginTimeoutSeconds: T.Integer({
          default: 120,
          minimum: 1,
          description: 'IMAP: a connection that has not logged in is closed after this long without input from the client.',
        }),
        autologoutMinutes: T.Integer({
          default: 30,
          minimum: 30,
          description: 'IMAP: a logged-in client is logged out after this long without activity (RFC 3501 §5.4: at least 30 minutes).',
        }),
      },
      { default: {} },
    ),
    faqDir: T.String({
      default: '',
      description: 'A folder of FAQ pages (<lang>/NN-slug.md) replacing the ones shipped in faq/; empty for those.',
    }),
    secrets: T.Object(
      {
        keys: T.Array(T.String(), {
          default: [],
          description:
            'Keys sealing the secrets stored in the database (DKIM private keys, TOTP, SRS and link secrets), as id:base64 (32 bytes); the first seals. Empty: the key file.',
        }),
        keyFile: T.String({
          default: '',
          description: 'The key file used when secrets.keys is empty; defaults to <dataDir>/secrets.key (created at first start, mode 0600).',
        }),
      },
      { default: {} },
    ),
    retention: T.Object(
      {
        expungeHistoryPerFolder: T.Integer({
          default: 10_000,
          minimum: 1,
          description:
            'Expunged UIDs remembered per folder for QRESYNC (RFC 7162 §3.2.5.2); a client older than that history gets every UID it may know and is gone.',
        }),
        traceDays: T.Number({
          default: 365,
          exclusiveMinimum: 0,
          description: 'Message trace rows (R-M6) are kept this long: a French host keeps traffic data one year.',
        }),
        finishedQueueDays: T.Number({
          default: 30,
          exclusiveMinimum: 0,
          description: 'Outbound queue rows that are delivered, bounced or expired are kept this long.',
        }),
        operationsDays: T.Number({ default: 365, exclusiveMinimum: 0, description: 'Finished operations (the journal, R-T5) are kept this long.' }),
      },
      { default: {} },
    ),
    clockStart: T.String({
      default: '',
      description:
        "An ISO 8601 instant the service's clock starts from, then running at normal speed; empty for the system clock. For tests and drills that replay a date (a CLI process then shares the test's time); never in production.",
    }),
    logLevel: T.Union(
      [T.Literal('fatal'), T.Literal('error'), T.Literal('warn'), T.Literal('info'), T.Literal('debug'), T.Literal('trace'), T.Literal('silent')],
      {
        default: 'info',
      },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** Environment overrides: FACTEUR_* variable -> setting path. Lists are comma-separated. */
export const ENV_OVERRIDES: Record<string, string> = {
  FACTEUR_DATA_DIR: 'dataDir',
  FACTEUR_DATABASE_URL: 'databaseUrl',
  FACTEUR_REDIS_URL: 'redisUrl',
  FACTEUR_REDIS_KEY_PREFIX: 'redisKeyPrefix',
  FACTEUR_RSPAMD_URL: 'rspamdUrl',
  FACTEUR_CLAMD: 'clamd',
  FACTEUR_HOSTNAME: 'hostname',
  FACTEUR_PUBLIC_URL: 'publicUrl',
  FACTEUR_LISTEN_HOST: 'listenHost',
  FACTEUR_ROLES: 'roles',
  FACTEUR_WORKERS: 'workers',
  FACTEUR_MX_PORT: 'ports.mx',
  FACTEUR_SUBMISSION_PORT: 'ports.submission',
  FACTEUR_SUBMISSIONS_PORT: 'ports.submissions',
  FACTEUR_IMAP_PORT: 'ports.imap',
  FACTEUR_IMAPS_PORT: 'ports.imaps',
  FACTEUR_POP3_PORT: 'ports.pop3',
  FACTEUR_POP3S_PORT: 'ports.pop3s',
  FACTEUR_HTTP_PORT: 'ports.http',
  FACTEUR_DNS_SERVERS: 'dns.servers',
  FACTEUR_MX_HOSTS: 'dns.mxHosts',
  FACTEUR_SPF_INCLUDE: 'dns.spfInclude',
  FACTEUR_DKIM_KEY_BITS: 'dns.dkimKeyBits',
  FACTEUR_DKIM_GRACE_DAYS: 'dns.dkimGraceDays',
  FACTEUR_SRS_DOMAIN: 'srs.domain',
  FACTEUR_SRS_SECRET: 'srs.secret',
  FACTEUR_SRS_MAX_AGE_DAYS: 'srs.maxAgeDays',
  FACTEUR_TLS_CERT: 'tls.certFile',
  FACTEUR_TLS_KEY: 'tls.keyFile',
  FACTEUR_OPERATOR_EMAIL: 'operator.email',
  FACTEUR_OPERATOR_PASSWORD: 'operator.password',
  FACTEUR_OPERATION_LEASE_SECONDS: 'operations.leaseSeconds',
  FACTEUR_DELIVERY_PORT: 'delivery.smtpPort',
  FACTEUR_DELIVERY_MAX_QUEUE_DAYS: 'delivery.maxQueueDays',
  FACTEUR_DELIVERY_CONCURRENCY: 'delivery.concurrencyPerDomain',
  FACTEUR_ALLOW_PLAINTEXT_LOOPBACK: 'mailAccess.allowPlaintextOnLoopback',
  FACTEUR_SECRETS_KEYS: 'secrets.keys',
  FACTEUR_SECRETS_KEY_FILE: 'secrets.keyFile',
  FACTEUR_RETENTION_EXPUNGE_HISTORY: 'retention.expungeHistoryPerFolder',
  FACTEUR_RETENTION_TRACE_DAYS: 'retention.traceDays',
  FACTEUR_RETENTION_QUEUE_DAYS: 'retention.finishedQueueDays',
  FACTEUR_RETENTION_OPERATIONS_DAYS: 'retention.operationsDays',
  FACTEUR_LOG_LEVEL: 'logLevel',
  FACTEUR_CLOCK_START: 'clockStart',
  FACTEUR_FAQ_DIR: 'faqDir',
};
