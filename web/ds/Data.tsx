/** Showing data: loading, errors with a retry, empty states that say what to do, tables and their pager. */
import type { ComponentChildren } from 'preact';
import { messages } from '../lib/i18n.ts';
import type { Resource } from '../lib/resource.ts';
import { common } from '../messages/common.ts';
import { Button } from './Button.tsx';

export function Loading() {
  const m = messages(common);
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {m.loading}
    </p>
  );
}

/** Renders `children(data)` when ready; a spinner while loading; the API's message and Retry on error. */
export function Load<T>({ resource, retry, children }: { resource: Resource<T>; retry?: () => void; children: (data: T) => ComponentChildren }) {
  if (resource.status === 'loading') return <Loading />;
  if (resource.status === 'error') {
    const m = messages(common);
    return (
      <div class="notice notice-error" role="alert">
        <p>{resource.problem.detail || resource.problem.title}</p>
        {retry ? <Button onClick={retry}>{m.retry}</Button> : null}
      </div>
    );
  }
  return <>{children(resource.data)}</>;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}

export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  /** A numeric column is right-aligned. */
  numeric?: boolean;
}

export function Table<T>({ caption, columns, rows, rowKey }: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.label} scope="col" class={column.numeric ? 'numeric' : undefined}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td key={column.label} data-label={column.label} class={column.numeric ? 'numeric' : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Pager({ number, previous, next, label }: { number: number; previous?: () => void; next?: () => void; label: string }) {
  const m = messages(common);
  if (!previous && !next) return null;
  return (
    <nav class="pager" aria-label={label}>
      <Button onClick={previous} disabled={!previous}>
        {m.previous}
      </Button>
      <span aria-live="polite">{m.pageNumber(number)}</span>
      <Button onClick={next} disabled={!next}>
        {m.next}
      </Button>
    </nav>
  );
}

/** A status said in words and shown with an icon: never colour alone. */
export function Status({ tone, children }: { tone: 'ok' | 'warn' | 'error' | 'info'; children: ComponentChildren }) {
  const icon = { ok: '✓', warn: '!', error: '✗', info: 'i' }[tone];
  return (
    <span class={`status status-${tone}`}>
      <span aria-hidden="true" class="status-icon">
        {icon}
      </span>
      {children}
    </span>
  );
}
