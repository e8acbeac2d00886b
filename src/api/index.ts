export { CSRF_HEADER, SESSION_COOKIE } from './access.ts';
export { type Api, buildApi } from './app.ts';
