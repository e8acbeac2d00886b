/**
 * The HTTP API: Fastify with TypeBox (JSON Schema) schemas, errors as problem+json, OpenAPI at /api/openapi.json and
 * its docs page at /api/docs. Request bodies are validated strictly (no type coercion, no unknown
 * fields); query strings and path parameters are coerced from text.
 */
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AppContext } from '../context.ts';
import { registerJmap } from '../jmap/index.ts';
import { registerWebApp, wantsPage } from '../web/index.ts';
import { CSRF_HEADER, registerAccess, SESSION_COOKIE } from './access.ts';
import { noRoute, sendProblem } from './problem.ts';
import { registerRoutes } from './routes/index.ts';
import type { TypeBoxProvider } from './schemas.ts';

/** Portal payloads are small; the largest is a mailing list's 10,000 members. */
const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

function createValidators() {
  const options = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const body = new Ajv({ ...options, coerceTypes: false });
  const text = new Ajv({ ...options, coerceTypes: 'array' });
  return { body, text };
}

export type Api = FastifyInstance;

/**
 * Clients (fetch wrappers, generated SDKs) often send `Content-Type: application/json` with an empty
 * body on a POST or DELETE that takes none: that is no body, not bad JSON. A route that does take a
 * body still gets a 400 for an empty one.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const json = body.toString();
    if (json === '' && !request.routeOptions.schema?.body) return done(null, undefined);
    return parseJson(request, json, done);
  });
}

export async function buildApi(ctx: AppContext): Promise<Api> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ module: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    genReqId: () => crypto.randomUUID(),
    // The router's own refusals (a malformed URL, a path parameter over 100 characters) as problem+json too.
    frameworkErrors: (error, request, reply) => sendProblem(request, reply, error),
  });

  const validators = createValidators();
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? validators.body : validators.text).compile(schema));
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  // Every path outside /api and /assets is a page of the browser application (its router takes it from there).
  const servePage = await registerWebApp(app);
  app.setNotFoundHandler((request, reply) => (wantsPage(request) ? servePage(request, reply) : sendProblem(request, reply, noRoute(request))));
  // Nothing of ours is shown in another site's frame (clickjacking), API answers included.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "frame-ancestors 'none'");
  });

  // JSON only: a text/plain body is refused as an unsupported media type, not parsed as a string.
  app.removeContentTypeParser('text/plain');
  acceptEmptyJsonBodies(app);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Facteur API',
        version: '1',
        description:
          'Every customer-portal operation of Facteur. Errors are application/problem+json. Authenticate with an API token (`Authorization: Bearer fct_…`) or a session cookie (then send the `x-csrf-token` header on changes). Send `Accept-Language: fr` for French messages.',
      },
      components: {
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER },
        },
      },
      security: [{ token: [] }, { session: [], csrf: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  registerAccess(app, ctx);
  await app.register(async (api) => registerRoutes(api.withTypeProvider<TypeBoxProvider>(), ctx), { prefix: '/api' });
  // JMAP (RFC 8620): /.well-known/jmap and /jmap/*, with its own authentication and errors.
  await registerJmap(app, ctx);
  app.get('/api/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());
  await app.ready();
  return app;
}
