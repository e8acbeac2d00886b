/**
 * Form fields with their label, hint and error linked to the input (aria-describedby), as GOV.UK's
 * fields do: an error is read with its field, and `aria-invalid` marks it.
 */
import type { ComponentChildren, JSX } from 'preact';
import { messages } from '../lib/i18n.ts';
import { common } from '../messages/common.ts';

interface Common {
  id: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  optional?: boolean;
}

function describedBy(id: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function Frame({ id, label, hint, error, optional, children }: Common & { children: ComponentChildren }) {
  const m = messages(common);
  return (
    <div class={`field${error ? ' field-error' : ''}`}>
      <label for={id}>
        {label}
        {optional ? <span class="muted"> ({m.optional})</span> : null}
      </label>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="error-message" id={`${id}-error`}>
          <span class="visually-hidden">{m.errorPrefix} </span>
          {error}
        </p>
      ) : null}
      {children}
    </div>
  );
}

export function TextField({
  id,
  label,
  hint,
  error,
  optional,
  value,
  onValue,
  ...rest
}: Common & { value: string; onValue: (value: string) => void } & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'id' | 'label'>) {
  return (
    <Frame id={id} label={label} hint={hint} error={error} optional={optional}>
      <input
        {...rest}
        id={id}
        name={rest.name ?? id}
        value={value}
        onInput={(event) => onValue((event.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        required={!optional}
      />
    </Frame>
  );
}

export function TextArea({
  id,
  label,
  hint,
  error,
  optional,
  value,
  onValue,
  rows = 5,
}: Common & { value: string; onValue: (value: string) => void; rows?: number }) {
  return (
    <Frame id={id} label={label} hint={hint} error={error} optional={optional}>
      <textarea
        id={id}
        name={id}
        rows={rows}
        value={value}
        onInput={(event) => onValue((event.currentTarget as HTMLTextAreaElement).value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        required={!optional}
      />
    </Frame>
  );
}

export function SelectField<T extends string>({
  id,
  label,
  hint,
  error,
  value,
  options,
  onValue,
}: Common & { value: T; options: readonly { value: T; label: string }[]; onValue: (value: T) => void }) {
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <select
        id={id}
        name={id}
        value={value}
        onChange={(event) => onValue((event.currentTarget as HTMLSelectElement).value as T)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Frame>
  );
}

export function Checkbox({
  id,
  label,
  hint,
  checked,
  onValue,
}: {
  id: string;
  label: string;
  hint?: string;
  checked: boolean;
  onValue: (value: boolean) => void;
}) {
  return (
    <div class="field field-checkbox">
      <input
        type="checkbox"
        id={id}
        name={id}
        checked={checked}
        onChange={(event) => onValue((event.currentTarget as HTMLInputElement).checked)}
        aria-describedby={hint ? `${id}-hint` : undefined}
      />
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}
