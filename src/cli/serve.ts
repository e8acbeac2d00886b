/**
 * `facteur serve`: starts the service with the roles configured, prints where it listens (and, at the
 * very first start, the operator login), and stops cleanly on SIGINT or SIGTERM. It imports the
 * composition root alone, so that a serving process does not load the operator commands' modules.
 */
import { loadConfig } from '../config/index.ts';
import { type Service, startService } from '../main.ts';

export async function serve(): Promise<void> {
  const service = await startService(loadConfig());
  process.stdout.write(`${banner(service).join('\n')}\n`);
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the sessions to finish.
      process.stderr.write(`${signal} again: stopping now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: stopping (sessions in progress finish first)\n`);
    await service.close();
    process.stdout.write('Facteur stopped\n');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** What an operator needs at start: where each listener really listens, the TLS certificate, warnings. */
export function banner(service: Service): string[] {
  const { config } = service.ctx;
  const at = (port: number | undefined) => `${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${port}`;
  const lines = [`Facteur is running (${service.ctx.engine}, data in ${config.databaseUrl ? 'PostgreSQL' : config.dataDir}), as ${config.hostname}`];
  if (service.httpUrl) lines.push(`  API:      ${service.httpUrl}/api (HTTP on ${at(service.httpPort)})`, `  API docs: ${service.httpUrl}/api/docs`);
  if (service.mxPort) lines.push(`  MX:       SMTP on ${at(service.mxPort)} (STARTTLS)`);
  if (service.submissionPort) {
    lines.push(`  Submit:   ${at(service.submissionPort)} (STARTTLS) and ${at(service.submissionsPort)} (TLS), AUTH PLAIN/LOGIN`);
  }
  if (service.imapPort) lines.push(`  IMAP:     ${at(service.imapPort)} (STARTTLS) and ${at(service.imapsPort)} (TLS)`);
  if (service.pop3Port) lines.push(`  POP3:     ${at(service.pop3Port)} (STLS) and ${at(service.pop3sPort)} (TLS)`);
  lines.push(
    service.tls.source === 'configured'
      ? `  TLS:      certificate from ${service.tls.certFile}`
      : `  TLS:      self-signed certificate for ${config.hostname} (sha256 ${service.tls.fingerprint256})`,
  );
  if (isLocalName(config.hostname)) {
    lines.push(
      '',
      `!!! WARNING: the host name is "${config.hostname}". Customers would be told to publish "MX 10 ${config.hostname}", and other`,
      '!!! servers cannot reach this service by that name. Set FACTEUR_HOSTNAME to the public name of this machine.',
    );
  }
  if (service.firstOperator) {
    lines.push(
      '',
      'First start: an operator login was created. Write it down, it is shown only once:',
      `  e-mail:   ${service.firstOperator.email}`,
      `  password: ${service.firstOperator.password}`,
      'Log in with POST /api/auth/login; two-factor enrolment is required at the first login.',
    );
  }
  return lines;
}

function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || !name.includes('.') || /^[\d.]+$/.test(name) || name.includes(':');
}
