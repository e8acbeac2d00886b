/** A Python script run as a mail client would be (imaplib, smtplib): its output, or an error with it. */
import { spawn } from 'node:child_process';

export function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script, ...args]);
    let out = '';
    const collect = (chunk: Buffer) => {
      out += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`python3 ${script} failed (${code}): ${out}`))));
  });
}
