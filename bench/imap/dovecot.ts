/**
 * The baseline of bench/imap: a private Dovecot (Debian's dovecot-imapd) on loopback, its
 * configuration written into a temporary folder (after ../shared/reference/baseline/dovecot.conf:
 * IMAP only, plain text allowed on loopback like Facteur's allowPlaintextOnLoopback, any user with
 * password `pass`, maildir, one connection limit raised for the load). Mail is seeded by writing
 * maildir files (flags in the file name, internal date as mtime), which is how a delivery agent leaves
 * them; Dovecot indexes them at the first SELECT, done before the measurement.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOVECOT_PASSWORD = 'pass';

export interface Dovecot {
  port: number;
  base: string;
  /** Writes messages into a user's maildir folder (INBOX when folder is undefined). */
  writeMaildir(user: string, messages: Array<{ raw: Buffer; flags: string[]; internalDate: Date }>): Promise<void>;
  /** Files owned by the mail user: call once every maildir is written, before the first login. */
  fixOwnership(): Promise<void>;
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

const MAILDIR_FLAG: Record<string, string> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' };

export async function startDovecot(base: string, port: number): Promise<Dovecot> {
  await run('bash', ['-c', 'command -v dovecot']).catch(() => {
    throw new Error('dovecot is not installed (Debian: apt-get install dovecot-imapd)');
  });
  for (const dir of ['run', 'state', 'mail']) await mkdir(path.join(base, dir), { recursive: true });
  await run('chmod', ['755', base]);
  const conf = `# bench/imap baseline, written by bench/imap/dovecot.ts
base_dir = ${base}/run
state_dir = ${base}/state
instance_name = bench-imap-dovecot-${port}
log_path = ${base}/dovecot.log
info_log_path = ${base}/dovecot-info.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
mail_location = maildir:${base}/mail/%u/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
mail_max_userip_connections = 1000
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = static
  args = password=${DOVECOT_PASSWORD}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${base}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  process_min_avail = 2
}
service imap {
  process_limit = 2000
}
default_process_limit = 2000
default_client_limit = 4000
`;
  const confFile = path.join(base, 'dovecot.conf');
  await writeFile(confFile, conf);
  let counter = 0;
  const dovecot: Dovecot = {
    port,
    base,
    async writeMaildir(user, messages) {
      const dir = path.join(base, 'mail', user, 'Maildir');
      for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
      for (const m of messages) {
        const flags = m.flags
          .map((f) => MAILDIR_FLAG[f] ?? '')
          .sort()
          .join('');
        const seconds = Math.floor(m.internalDate.getTime() / 1000);
        const file = path.join(dir, 'cur', `${seconds}.M${counter++}P${process.pid}.bench,S=${m.raw.length}:2,${flags}`);
        await writeFile(file, m.raw);
        await utimes(file, m.internalDate, m.internalDate);
      }
    },
    async fixOwnership() {
      await run('chown', ['-R', 'nobody:nogroup', path.join(base, 'mail')]);
    },
    async pids() {
      const master = Number((await readFile(path.join(base, 'run', 'master.pid'), 'utf8')).trim());
      const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(master)]);
      return [master, ...stdout.split('\n').filter(Boolean).map(Number)];
    },
    async stop() {
      const pid = await readFile(path.join(base, 'run', 'master.pid'), 'utf8').catch(() => '');
      if (!pid.trim()) return;
      const master = Number(pid.trim());
      try {
        process.kill(master, 'SIGTERM');
      } catch {
        return;
      }
      // Until the master is gone (its children with it), so that the next start finds the folders free.
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(master, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
  // The master daemonizes but keeps inherited descriptors: no pipes, or execFile would wait for ever.
  await new Promise<void>((resolve, reject) => {
    const master = spawn('dovecot', ['-c', confFile], { stdio: 'ignore' });
    master.once('error', reject);
    master.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dovecot exited with ${code}`))));
  });
  for (let i = 0; i < 40; i++) {
    const up = await run('bash', ['-c', `(echo >/dev/tcp/127.0.0.1/${port}) 2>/dev/null`]).then(
      () => true,
      () => false,
    );
    if (up) return dovecot;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`dovecot did not start: ${await readFile(path.join(base, 'dovecot.log'), 'utf8').catch(() => '')}`);
}
