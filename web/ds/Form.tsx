/**
 * A form that calls the API: busy while it runs, and on a problem+json answer an error summary at the
 * top (focused, so it is read at once) whose line links to the field the API named, which shows the
 * same message. The server stays the authority on what is valid.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Problem } from '../lib/api.ts';
import { messages } from '../lib/i18n.ts';
import { common } from '../messages/common.ts';

export interface FormState {
  busy: boolean;
  problem: Problem | undefined;
  /** The API's message for `field` (as the API names it), if the last answer concerned it. */
  errorFor(field: string): string | undefined;
  onSubmit(event: Event): void;
  /** Runs `action` as the form's submission would (for buttons outside a submit). */
  run(action: () => Promise<void>): Promise<void>;
  clear(): void;
}

export function asProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  return new Problem(0, 'client', 'Error', error instanceof Error ? error.message : String(error));
}

export function useForm(submit: () => Promise<void>): FormState {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return {
    busy,
    problem,
    errorFor: (field) => {
      // The API names a field `name`, `members.0`, or (for a schema refusal) `/name`.
      const named = problem?.field?.replace(/^\//, '').replaceAll('/', '.');
      return named && (named === field || named.startsWith(`${field}.`)) ? problem?.detail : undefined;
    },
    onSubmit: (event) => {
      event.preventDefault();
      if (!busy) void run(submit);
    },
    run,
    clear: () => setProblem(undefined),
  };
}

/** The error summary: the API's message, and a link to the field it concerns. */
export function ErrorSummary({ problem, fieldIds = {} }: { problem: Problem | undefined; fieldIds?: Record<string, string> }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (problem) box.current?.focus();
  }, [problem]);
  if (!problem) return null;
  const m = messages(common);
  const target = problem.field ? (fieldIds[problem.field] ?? problem.field.split('.')[0]) : undefined;
  return (
    <div class="error-summary" ref={box} tabIndex={-1}>
      <h2 id="error-summary-title">{m.errorSummary}</h2>
      <div role="alert">
        {target ? (
          <a
            href={`#${target}`}
            onClick={(event) => {
              event.preventDefault();
              document.getElementById(target)?.focus();
            }}
          >
            {problem.detail || problem.title}
          </a>
        ) : (
          <p>{problem.detail || problem.title}</p>
        )}
      </div>
    </div>
  );
}

export function Form({ form, children, fieldIds, label }: { form: FormState; children: ComponentChildren; fieldIds?: Record<string, string>; label?: string }) {
  return (
    <form class="form" onSubmit={form.onSubmit} noValidate aria-label={label}>
      <ErrorSummary problem={form.problem} fieldIds={fieldIds} />
      {children}
    </form>
  );
}
