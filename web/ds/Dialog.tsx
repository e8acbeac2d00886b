/**
 * Confirmation of a destructive action, naming what will be lost: a native modal <dialog> (focus is
 * trapped inside and given back by the browser, Escape cancels).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Problem } from '../lib/api.ts';
import { messages } from '../lib/i18n.ts';
import { common } from '../messages/common.ts';
import { Button } from './Button.tsx';
import { asProblem, ErrorSummary } from './Form.tsx';

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = true,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const m = messages(common);
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="dialog-title" onClose={onClose}>
      <h2 id="dialog-title">{title}</h2>
      <ErrorSummary problem={problem} />
      <div class="dialog-body">{children}</div>
      <div class="dialog-actions">
        <Button
          variant={danger ? 'danger' : 'primary'}
          busy={busy}
          onClick={async () => {
            setBusy(true);
            setProblem(undefined);
            try {
              await onConfirm();
              dialog.current?.close();
            } catch (error) {
              setProblem(asProblem(error));
            } finally {
              setBusy(false);
            }
          }}
        >
          {confirmLabel}
        </Button>
        <Button onClick={() => dialog.current?.close()}>{m.cancel}</Button>
      </div>
    </dialog>
  );
}
