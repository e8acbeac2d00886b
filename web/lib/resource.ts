/**
 * Data a page shows, with a status rather than a loading flag: `loading` (nothing yet), `ready`,
 * `error`; `refreshing` keeps showing the data while it is asked again.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Problem } from './api.ts';

export type Resource<T> = { status: 'loading' } | { status: 'error'; problem: Problem } | { status: 'ready' | 'refreshing'; data: T };

function toProblem(error: unknown): Problem {
  return error instanceof Problem ? error : new Problem(0, 'client', 'Error', String(error));
}

/** Loads `fetcher()` when `key` changes; `reload` asks again keeping the data shown. */
export function useResource<T>(fetcher: () => Promise<T>, key: readonly unknown[] = []): [Resource<T>, () => Promise<void>] {
  const [state, setState] = useState<Resource<T>>({ status: 'loading' });
  const load = useCallback(async () => {
    setState((previous) => ('data' in previous ? { status: 'refreshing', data: previous.data } : { status: 'loading' }));
    try {
      const data = await fetcher();
      setState({ status: 'ready', data });
    } catch (error) {
      setState({ status: 'error', problem: toProblem(error) });
    }
  }, key);
  useEffect(() => {
    void load();
  }, [load]);
  return [state, load];
}

export interface PageOf<T> {
  items: T[];
  next: string | null;
}

/**
 * A list the API pages with cursors (`after`): the cursors of the pages seen are kept so that
 * Previous works too. `fetchPage(after)` asks for one page.
 */
export function usePaged<T>(fetchPage: (after: string | undefined) => Promise<PageOf<T>>, key: readonly unknown[] = []) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), key);
  const after = cursors[cursors.length - 1];
  const [page, reload] = useResource(() => fetchPage(after), [...key, after]);
  return {
    page,
    reload,
    number: cursors.length,
    previous: cursors.length > 1 ? () => setCursors(cursors.slice(0, -1)) : undefined,
    next: 'data' in page && page.data.next ? () => setCursors([...cursors, (page as { data: PageOf<T> }).data.next as string]) : undefined,
  };
}
