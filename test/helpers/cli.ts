/** The `facteur` command as a child process on a test service's data, the way an operator runs it. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { TestService } from './service.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'facteur.js');
/** Generous: a loaded CI machine starts a TypeScript CLI slowly; a hung command still fails the test. */
const CLI_TIMEOUT_MS = 60_000;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI process on the service's data: no config file, no language unless asked. */
export function cliEnv(service: TestService, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...service.env, FACTEUR_LANG: '', ...extra };
  delete env.FACTEUR_CONFIG;
  return env;
}

export function runFacteur(env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `facteur serve` with `env`; resolves once its output shows `ready` (e.g. `MX:`). */
export async function startServe(env: NodeJS.ProcessEnv, ready: string): Promise<ChildProcess> {
  return (await startServeWithOutput(env, ready)).proc;
}

/** `startServe`, with what the process printed so far (its banner names its workers). */
export async function startServeWithOutput(env: NodeJS.ProcessEnv, ready: string): Promise<{ proc: ChildProcess; output(): string }> {
  const proc = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.once('exit', (code) => reject(new Error(`facteur serve exited with ${code}: ${output}`)));
  });
  return { proc, output: () => output };
}

/** SIGKILL, as a crash would: no shutdown code runs. */
export async function killHard(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}
