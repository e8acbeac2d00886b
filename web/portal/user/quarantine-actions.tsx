/**
 * What can be done to a held message, from the list and from its preview: release it (optionally
 * allowing its sender for good and teaching the filter), or delete it after a confirmation naming it.
 */
import { useState } from 'preact/hooks';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { announce } from '../../ds/Live.tsx';
import { api, seg } from '../../lib/api.ts';
import { messages } from '../../lib/i18n.ts';
import { user } from '../../messages/user.ts';
import type { QuarantineEntry } from './data.ts';

export const subjectOf = (entry: Pick<QuarantineEntry, 'subject'>) => entry.subject || messages(user).quarantine.noSubject;
export const senderOf = (entry: Pick<QuarantineEntry, 'from' | 'sender'>) => entry.from || entry.sender || '—';

export async function release(entry: QuarantineEntry, options: { allowSender?: boolean; trainAsHam?: boolean } = {}): Promise<void> {
  const reply = await api.post<{ allowedSender: string | null }>(`/quarantine/${seg(entry.id)}/release`, options);
  const m = messages(user).quarantine;
  announce(reply.allowedSender ? m.releasedAllowed(subjectOf(entry), reply.allowedSender) : m.released(subjectOf(entry)));
}

/** The delete confirmation: `ask(entry)` opens it; `dialog` is to render. */
export function useDeleteDialog(onDeleted: (entry: QuarantineEntry) => void | Promise<void>) {
  const [entry, setEntry] = useState<QuarantineEntry | undefined>(undefined);
  const m = messages(user).quarantine;
  const dialog = entry ? (
    <ConfirmDialog
      title={m.deleteTitle}
      confirmLabel={m.delete}
      onClose={() => setEntry(undefined)}
      onConfirm={async () => {
        await api.delete(`/quarantine/${seg(entry.id)}`);
        announce(messages(user).quarantine.deleted(subjectOf(entry)));
        await onDeleted(entry);
      }}
    >
      <p>{m.deleteLost(subjectOf(entry), senderOf(entry))}</p>
    </ConfirmDialog>
  ) : null;
  return { ask: setEntry, dialog };
}
