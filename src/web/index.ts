/**
 * The browser application (portal, self-service, operator console) as the HTTP service serves it:
 * one HTML page for every path that is not the API, with a strict Content-Security-Policy, and the
 * hashed files esbuild built (scripts/web-build.mjs) under /assets/ with year-long caching. The page
 * only calls the public API; nothing here reads the database.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface Manifest {
  script: string;
  style: string;
  files: Record<string, { bytes: number; gzip: number }>;
}

/**
 * No inline script or style, no eval, nothing framed or framing us, forms and fetches to this origin
 * only. `img-src data:` is for the QR code of the 2FA enrolment, drawn in the browser.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** The built application's folder: FACTEUR_WEB_DIR, else node_modules/.cache/facteur-web of the project. */
export function webDir(): string {
  if (process.env.FACTEUR_WEB_DIR) return process.env.FACTEUR_WEB_DIR;
  // The project is the first folder upwards with a package.json: from src/web (tsx) and from the
  // bundle in node_modules/.cache/facteur alike.
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'node_modules/.cache/facteur-web');
}

function page(manifest: Manifest): string {
  // The language and title are set by the application once it knows the user's; these are for the first paint.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Facteur</title>
<link rel="stylesheet" href="/assets/${manifest.style}">
<script type="module" src="/assets/${manifest.script}"></script>
</head>
<body>
<div id="app"><noscript>Facteur needs JavaScript. / Facteur a besoin de JavaScript.</noscript></div>
</body>
</html>
`;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cross-origin-opener-policy', 'same-origin');
}

/**
 * Is this a browser asking for a page (not the API, not a file)? Browsers navigating ask for text/html;
 * a program asking for anything else at an unknown path gets the API's problem+json 404.
 */
export function wantsPage(request: FastifyRequest): boolean {
  const url = request.url.split('?')[0] ?? '';
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (url.startsWith('/api/') || url === '/api' || url.startsWith('/assets/')) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

/**
 * Registers /assets/* and returns the function that answers a page request. When the application was
 * not built, pages say so (503) rather than pretend.
 */
export async function registerWebApp(app: FastifyInstance): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const dir = webDir();
  const manifest = await readFile(path.join(dir, 'manifest.json'), 'utf8')
    .then((text) => JSON.parse(text) as Manifest)
    .catch(() => undefined);
  const html = manifest ? page(manifest) : undefined;

  app.get('/assets/*', { schema: { hide: true }, config: { access: 'anonymous' } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    // Only names the build produced: no path walking, and the manifest is the list.
    const known = manifest && (name in manifest.files || ((name.endsWith('.map') || name.endsWith('.LEGAL.txt')) && !name.includes('..')));
    if (!known || name.includes('..') || name.startsWith('/')) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    const body = await readFile(path.join(dir, 'assets', name)).catch(() => undefined);
    if (!body) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .type(TYPES[path.extname(name)] ?? 'application/octet-stream')
      .send(body);
  });

  return (_request, reply) => {
    securityHeaders(reply).header('cache-control', 'no-cache');
    if (!html) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web application was not built: run `npm run bundle`. / L’application web n’a pas été construite : lancez `npm run bundle`.');
    }
    return reply.type('text/html; charset=utf-8').send(html);
  };
}
