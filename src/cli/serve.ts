/**
 * `facteur serve`: starts the service with the roles configured, prints where it listens (and, at the
 * very first start, the operator login), and stops cleanly on SIGINT or SIGTERM. It imports the
 * composition root alone, so that a serving process does not load the operator commands' modules.
 */
import { loadConfig } from '../config/index.ts';
import { startService } from '../main.ts';

export async function serve(): Promise<void> {
  const service = await startService(loadConfig());
  const { config } = service.ctx;
  const lines = [`Facteur is running (${service.ctx.engine}, data in ${config.databaseUrl ? 'PostgreSQL' : config.dataDir})`];
  if (service.httpUrl) lines.push(`  API:      ${service.httpUrl}/api`, `  API docs: ${service.httpUrl}/api/docs`);
  if (service.mxPort) lines.push(`  MX:       SMTP on port ${service.mxPort} (STARTTLS)`);
  if (service.submissionPort) lines.push(`  Submit:   port ${service.submissionPort} (STARTTLS) and ${service.submissionsPort} (TLS), AUTH PLAIN/LOGIN`);
  if (service.imapPort) lines.push(`  IMAP:     port ${service.imapPort} (STARTTLS) and ${service.imapsPort} (TLS)`);
  if (service.pop3Port) lines.push(`  POP3:     port ${service.pop3Port} (STLS) and ${service.pop3sPort} (TLS)`);
  lines.push(
    service.tls.source === 'configured'
      ? `  TLS:      certificate from ${service.tls.certFile}`
      : `  TLS:      self-signed certificate for ${config.hostname} (sha256 ${service.tls.fingerprint256})`,
  );
  if (service.firstOperator) {
    lines.push(
      '',
      'First start: an operator login was created. Write it down, it is shown only once:',
      `  e-mail:   ${service.firstOperator.email}`,
      `  password: ${service.firstOperator.password}`,
      'Log in with POST /api/auth/login; two-factor enrolment is required at the first login.',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
