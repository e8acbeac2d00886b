/** An area of the application (customer admin, user self-service, operator console): its routes and menu. */
import type { Route } from './router.ts';

export interface NavItem {
  href: string;
  label: string;
}

export interface Area {
  routes: readonly Route[];
  /** The menu, in the current language (read when the shell renders). */
  nav(): NavItem[];
}
