/**
 * Long operations (R-T5): the API answers 202 with the operation, which the page polls at
 * /api/operations/:id until it ends, showing its progress; a failure becomes a Problem in the user's
 * language (with its field), like any other API error. A conflicting change is refused by the API
 * with 409 and its message before anything starts: the form shows it as it shows every error.
 */
import { api, Problem, seg } from '../../lib/api.ts';
import { formatNumber, lang, messages } from '../../lib/i18n.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import type { Operation } from './types.ts';

const POLL_MS = 250;

/** Waits for `started` to end, reporting each state seen; resolves with the finished operation or throws its problem. */
export async function untilDone(started: Operation, onProgress: (op: Operation) => void): Promise<Operation> {
  let op = started;
  onProgress(op);
  while (op.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    op = await api.get<Operation>(`/operations/${seg(op.id)}`);
    onProgress(op);
  }
  if (op.status === 'failed') {
    const error = op.error;
    const detail = error ? error[lang.value] : '';
    throw new Problem(error?.kind === 'busy' ? 409 : 400, error?.code ?? 'failed', detail, detail, error?.field);
  }
  return op;
}

/** What an operation kind is called in the user's language. */
export function kindLabel(kind: string): string {
  return messages(subscriptionTexts).kinds[kind] ?? kind;
}

/** A running operation's progress: a labelled progress bar and its percentage in words. */
export function OperationProgress({ op, what }: { op: Operation | undefined; what: string }) {
  if (!op || op.status !== 'running') return null;
  const m = messages(subscriptionTexts).operation;
  return (
    <div class="notice" role="status">
      <p>
        {m.running(what)} — {formatNumber(op.progress)} %
      </p>
      <progress max={100} value={op.progress} aria-label={m.progress(what)} />
    </div>
  );
}
