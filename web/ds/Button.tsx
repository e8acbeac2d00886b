/** Buttons: one primary action per view, secondary for the rest, danger for what destroys. */
import type { ComponentChildren, JSX } from 'preact';
import { messages } from '../lib/i18n.ts';
import { common } from '../messages/common.ts';

type Variant = 'primary' | 'secondary' | 'danger' | 'link';

export function Button({
  variant = 'secondary',
  busy = false,
  children,
  type = 'button',
  ...rest
}: { variant?: Variant; busy?: boolean; children: ComponentChildren } & Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'children'>) {
  return (
    <button {...rest} type={type} class={`button button-${variant}`} aria-busy={busy ? 'true' : undefined} disabled={busy || rest.disabled}>
      {busy ? <span class="spinner" aria-hidden="true" /> : null}
      {children}
      {busy ? <span class="visually-hidden"> {messages(common).working}</span> : null}
    </button>
  );
}

export function LinkButton({ href, children, variant = 'secondary' }: { href: string; children: ComponentChildren; variant?: Variant }) {
  return (
    <a href={href} class={`button button-${variant}`}>
      {children}
    </a>
  );
}
