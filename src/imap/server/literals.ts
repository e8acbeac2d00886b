/**
 * The literals a command streamed instead of keeping (APPEND's messages, CATENATE's TEXT parts): each
 * goes to a spool of the mailstore as its bytes arrive (in memory while small, then a temporary file,
 * as SMTP's DATA does), so a 50 MB APPEND costs no more memory than a 1 MB one. The connection writes
 * them while the command is read; the command reads them back once it runs; they are removed after.
 */
import path from 'node:path';
import type { AppContext } from '../../context.ts';
import { Spool } from '../../mailstore/index.ts';
import { AppError, text } from '../../shared/errors.ts';

export class SpooledLiteral {
  /** Whether a NUL byte came (allowed only in a literal8, RFC 3516 §4.4). */
  hasNul = false;
  private readonly spool: Spool;
  /** A failed write (disk full): the rest is dropped, and the command answers NO. */
  private failure: unknown;
  private disposed = false;
  private last: Promise<void> = Promise.resolve();

  constructor(
    app: AppContext,
    readonly size: number,
    readonly binary: boolean,
  ) {
    this.spool = new Spool(path.join(app.config.dataDir, 'tmp'));
  }

  /**
   * Adds bytes. Writes are chained, so that `dispose` (the client left mid-literal) waits for the one in
   * flight rather than racing it and leaving a file behind.
   */
  write(data: Buffer): Promise<void> {
    this.last = this.last.then(() => this.append(data));
    return this.last;
  }

  private async append(data: Buffer): Promise<void> {
    if (this.failure || this.disposed || data.length === 0) return;
    if (!this.binary && !this.hasNul && data.includes(0)) this.hasNul = true;
    try {
      await this.spool.write(data);
    } catch (error) {
      this.failure = error;
    }
  }

  /** The bytes, from the start. */
  read(): AsyncGenerator<Buffer> {
    if (this.failure) {
      throw new AppError('temp', 'spool-failed', text('The message could not be received, try again', 'Le message n’a pas pu être reçu, réessayez'), {
        cause: this.failure,
      });
    }
    return this.spool.read();
  }

  async dispose(): Promise<void> {
    await this.last;
    this.disposed = true;
    await this.spool.dispose();
  }
}
