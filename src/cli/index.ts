#!/usr/bin/env node
/**
 * Entry of the `facteur` command. `facteur serve` loads the service alone; every other command loads
 * the operator commands (main.ts) and what they use. A serving process thus holds only its roles'
 * code (about 20 MB less resident memory for an IMAP-only process, bench/imap).
 */
import { printError } from './output.ts';

// `facteur … | head`: the reader went away; that is the end of the output, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

if (process.argv[2] === 'serve' && process.argv.length === 3) {
  try {
    await (await import('./serve.ts')).serve();
  } catch (error) {
    process.exitCode = printError(error);
  }
} else {
  await import('./main.ts');
}
