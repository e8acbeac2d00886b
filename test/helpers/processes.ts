/**
 * Which process serves a TCP connection, read from Linux's /proc (the connection's socket inode in
 * /proc/net/tcp{,6}, then the process whose descriptors hold it): tests of the worker processes check
 * that two sessions really are on two workers, whatever the way connections are handed out.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The inode of the server's end of the connection from `clientPort` to `serverPort`. */
async function serverSocketInode(serverPort: number, clientPort: number): Promise<string | undefined> {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      const remote = Number.parseInt(fields[2]?.split(':')[1] ?? '', 16);
      if (local === serverPort && remote === clientPort) return fields[9];
    }
  }
  return undefined;
}

/** The one of `pids` that holds the server's end of the connection from `clientPort` to `serverPort`. */
export async function servingPid(serverPort: number, clientPort: number, pids: readonly number[]): Promise<number | undefined> {
  const inode = await serverSocketInode(serverPort, clientPort);
  if (!inode) return undefined;
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === `socket:[${inode}]`) return pid;
    }
  }
  return undefined;
}

/** The worker pids `facteur serve` prints in its banner (`Workers:  2 processes (pids 11, 12)`). */
export function workerPids(banner: string): number[] {
  const listed = /Workers: +\d+ processes \(pids ([\d, ]+)\)/.exec(banner)?.[1];
  return listed ? listed.split(',').map((pid) => Number(pid.trim())) : [];
}

/** The child processes of `pid` (a primary's workers), from /proc. */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}
