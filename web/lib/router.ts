/**
 * Routes are a table: a path pattern, the page (loaded on demand, so an area's code is fetched only
 * by those who open it), its title and the roles that may see it. The URL is the state: links are
 * plain <a href>, the history API moves between pages, and each navigation sets the document's title
 * and moves focus to the page's heading (what a screen reader user expects after a page change).
 */
import { signal } from '@preact/signals';
import type { ComponentType } from 'preact';

export type Role = 'operator' | 'customer_admin' | 'user';
export type Params = Record<string, string>;

export interface Route {
  /** `/domains/:id`: segments starting with `:` are parameters. */
  path: string;
  roles: readonly Role[];
  load: () => Promise<{ default: ComponentType<{ params: Params }> }>;
}

/** The current path and query, e.g. `/accounts?q=ana`. */
export const here = signal(currentLocation());

function currentLocation(): string {
  return window.location.pathname + window.location.search;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentLocation()) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  here.value = currentLocation();
}

/** The query of the current location as a record (the first value of each name). */
export function queryOf(location: string): Record<string, string> {
  const index = location.indexOf('?');
  return index < 0 ? {} : Object.fromEntries(new URLSearchParams(location.slice(index + 1)));
}

export function pathOf(location: string): string {
  const index = location.indexOf('?');
  return index < 0 ? location : location.slice(0, index);
}

export function match(routes: readonly Route[], path: string): { route: Route; params: Params } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Params = {};
    const fits = pattern.every((segment, i) => {
      const part = parts[i] as string;
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(part);
        return true;
      }
      return segment === part;
    });
    if (fits) return { route, params };
  }
  return undefined;
}

/** Same-origin links navigate without reloading the application; new tabs and downloads keep the browser's way. */
export function interceptLinks(): void {
  window.addEventListener('popstate', () => {
    here.value = currentLocation();
  });
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download') || link.origin !== window.location.origin) return;
    if (link.pathname.startsWith('/api/')) return;
    event.preventDefault();
    navigate(link.pathname + link.search);
  });
}
