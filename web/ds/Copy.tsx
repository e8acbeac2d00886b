/** A value to copy (a DNS record, a host name): shown as code, with a Copy button that says "Copied". */
import { useState } from 'preact/hooks';
import { messages } from '../lib/i18n.ts';
import { common } from '../messages/common.ts';
import { announce } from './Live.tsx';

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [done, setDone] = useState(false);
  const m = messages(common);
  return (
    <button
      type="button"
      class="button button-secondary button-small"
      aria-label={`${done ? m.copied : m.copy}: ${label}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value);
          setDone(true);
          announce(m.copied);
          setTimeout(() => setDone(false), 2000);
        } catch {
          announce(m.copyFailed);
        }
      }}
    >
      {done ? m.copied : m.copy}
    </button>
  );
}

export function CopyValue({ value, label }: { value: string; label: string }) {
  return (
    <div class="copy-value">
      <code>{value}</code>
      <CopyButton value={value} label={label} />
    </div>
  );
}
