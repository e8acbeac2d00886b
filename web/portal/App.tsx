/**
 * The shell: who is logged in decides what shows: the login steps, or the menu of the role's area
 * and the page the URL names. Pages are loaded on demand; a page of another role's area is refused
 * here as the API would refuse its calls anyway.
 */
import type { ComponentType, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Loading } from '../ds/Data.tsx';
import { LiveRegion } from '../ds/Live.tsx';
import { Page } from '../ds/Page.tsx';
import { sessionLost } from '../lib/api.ts';
import type { Area } from '../lib/area.ts';
import { LANGS, type Lang, lang, messages, setLang } from '../lib/i18n.ts';
import { here, match, navigate, type Params, pathOf, type Role } from '../lib/router.ts';
import { logOut, type Session, session } from '../lib/session.ts';
import { common } from '../messages/common.ts';
import { opsArea } from '../ops/area.ts';
import { adminArea } from './admin/area.ts';
import { EnrolPage, LoginPage, SecondFactorPage } from './Login.tsx';
import { userArea } from './user/area.ts';

const AREAS: Record<Role, Area> = { operator: opsArea, customer_admin: adminArea, user: userArea };
const HOME: Record<Role, string> = { operator: '/ops', customer_admin: '/admin', user: '/me' };
const ALL_ROUTES = [...opsArea.routes, ...adminArea.routes, ...userArea.routes];

function LanguageSwitch() {
  const m = messages(common);
  return (
    <label class="language">
      <span class="visually-hidden">{m.language}</span>
      <select value={lang.value} onChange={(event) => setLang((event.currentTarget as HTMLSelectElement).value as Lang)} aria-label={m.language}>
        {LANGS.map((code) => (
          <option key={code} value={code} lang={code}>
            {m.languageName[code]}
          </option>
        ))}
      </select>
    </label>
  );
}

function Routed({ current }: { current: Session }) {
  const m = messages(common);
  const path = pathOf(here.value);
  const found = match(ALL_ROUTES, path);
  const [loaded, setLoaded] = useState<{ path: string; Component: ComponentType<{ params: Params }> } | undefined>(undefined);
  useEffect(() => {
    if (!found || !found.route.roles.includes(current.role)) return;
    let live = true;
    void found.route.load().then((module) => {
      if (live) setLoaded({ path: found.route.path, Component: module.default });
    });
    return () => {
      live = false;
    };
  }, [found?.route, current.role]);
  if (path === '/' || path === '/login') {
    navigate(HOME[current.role], { replace: true });
    return <Loading />;
  }
  if (!found) {
    return (
      <Page title={m.notFound.title}>
        <p>{m.notFound.body}</p>
      </Page>
    );
  }
  if (!found.route.roles.includes(current.role)) {
    return (
      <Page title={m.forbidden.title}>
        <p>{m.forbidden.body}</p>
      </Page>
    );
  }
  if (!loaded || loaded.path !== found.route.path) return <Loading />;
  return <loaded.Component params={found.params} />;
}

function Shell({ current }: { current: Session }) {
  const m = messages(common);
  const area = AREAS[current.role];
  const path = pathOf(here.value);
  // The menu item of the current page: the longest that contains the path (so /me/quarantine is not also /me).
  const currentHref = area
    .nav()
    .filter((item) => path === item.href || path.startsWith(`${item.href}/`))
    .reduce<string | undefined>((best, item) => (best && best.length >= item.href.length ? best : item.href), undefined);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {m.skipToContent}
      </a>
      <header class="sidebar">
        <a class="brand" href={HOME[current.role]}>
          {m.product}
        </a>
        <nav class="nav" aria-label={m.mainNav}>
          <p class="nav-group">{m.roles[current.role]}</p>
          <ul>
            {area.nav().map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={item.href === currentHref ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <div>
        <div class="topbar">
          <LanguageSwitch />
          <button type="button" class="button button-secondary button-small" onClick={() => void logOut().then(() => navigate('/login'))}>
            {m.logOut}
          </button>
        </div>
        <main class="main" id="main" tabIndex={-1}>
          {sessionLost.value ? (
            <div class="notice notice-warn" role="alert">
              <p>{m.sessionLost}</p>
              <a href="/login" onClick={() => void logOut()}>
                {messages(common).login.title}
              </a>
            </div>
          ) : null}
          <Routed current={current} />
        </main>
      </div>
    </div>
  );
}

export function App() {
  const current = session.value;
  if (current === undefined) return <Loading />;
  let body: JSX.Element;
  if (current === null) body = <LoginPage />;
  else if (current.stage === 'totp') body = <SecondFactorPage />;
  else if (current.stage === 'enrol') body = <EnrolPage />;
  else body = <Shell current={current} />;
  return (
    <>
      {current?.stage !== 'full' ? (
        <div class="topbar">
          <LanguageSwitch />
        </div>
      ) : null}
      {body}
      <LiveRegion />
    </>
  );
}
