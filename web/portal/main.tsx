/** The browser application's entry: styles, links that navigate in place, the session, then the shell. */
import '../ds/styles.css';
import { render } from 'preact';
import { interceptLinks } from '../lib/router.ts';
import { loadSession } from '../lib/session.ts';
import { App } from './App.tsx';

interceptLinks();
// After the first page, a navigation moves focus to the new page's heading (see ds/Page.tsx).
addEventListener('popstate', () => {
  document.body.dataset.navigated = '1';
});
document.addEventListener('click', () => {
  document.body.dataset.navigated = '1';
});
const root = document.getElementById('app') as HTMLElement;
root.textContent = '';
render(<App />, root);
void loadSession();
