/**
 * Errors as application/problem+json (RFC 9457), in the caller's language. One mapping table from
 * error kinds to HTTP statuses; unexpected errors answer a fixed text with a correlation id and go
 * to the log in full.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind, isAppError, type Language, type Text, text } from '../shared/errors.ts';

export const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  exists: 409,
  conflict: 409,
  busy: 409,
  limit: 429,
  'too-big': 413,
  'over-quota': 507,
  temp: 503,
  perm: 422,
};

const TITLES: Record<ErrorKind, Text> = {
  invalid: text('Invalid request', 'Requête invalide'),
  unauthenticated: text('Authentication required', 'Authentification requise'),
  forbidden: text('Not allowed', 'Non autorisé'),
  'not-found': text('Not found', 'Introuvable'),
  exists: text('Already exists', 'Existe déjà'),
  conflict: text('Conflict', 'Conflit'),
  busy: text('Operation in progress', 'Opération en cours'),
  limit: text('Limit reached', 'Limite atteinte'),
  'too-big': text('Too large', 'Trop volumineux'),
  'over-quota': text('Over quota', 'Quota dépassé'),
  temp: text('Temporarily unavailable', 'Temporairement indisponible'),
  perm: text('Cannot be done', 'Impossible'),
};

export const PROBLEM_TYPE = 'application/problem+json';

/** The answer to a request no route takes; also what a caller gets for a route it must not know about. */
export function noRoute(request: FastifyRequest): AppError {
  const path = request.url.split('?')[0];
  return new AppError('not-found', 'no-route', text(`No route ${request.method} ${path}`, `Aucune route ${request.method} ${path}`));
}

/** French when the client prefers it (Accept-Language), else English. */
export function languageOf(request: FastifyRequest): Language {
  const header = request.headers['accept-language'];
  const first = typeof header === 'string' ? header.split(',')[0]?.trim().toLowerCase() : undefined;
  return first?.startsWith('fr') ? 'fr' : 'en';
}

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string; type?: string; limit?: number };
}

const TYPE_NAMES: Record<string, Text> = {
  string: text('a string', 'une chaîne de caractères'),
  integer: text('a whole number', 'un nombre entier'),
  number: text('a number', 'un nombre'),
  boolean: text('true or false', 'true ou false'),
  object: text('an object', 'un objet'),
  array: text('a list', 'une liste'),
  null: text('null', 'null'),
};

/** The schema keyword that failed, said in both languages (Ajv's own messages are English only). */
function reasonOf(item: ValidationItem): Text {
  const limit = item.params?.limit;
  switch (item.keyword) {
    case 'type': {
      const names = (item.params?.type ?? '').split(',').map((t) => TYPE_NAMES[t] ?? text(t, t));
      return text(`must be ${names.map((n) => n.en).join(' or ')}`, `doit être ${names.map((n) => n.fr).join(' ou ')}`);
    }
    case 'maxLength':
      return text(`must have at most ${limit} characters`, `doit comporter au plus ${limit} caractères`);
    case 'minLength':
      return text(`must have at least ${limit} characters`, `doit comporter au moins ${limit} caractères`);
    case 'minimum':
      return text(`must be at least ${limit}`, `doit valoir au moins ${limit}`);
    case 'maximum':
      return text(`must be at most ${limit}`, `doit valoir au plus ${limit}`);
    case 'maxItems':
      return text(`must have at most ${limit} items`, `doit comporter au plus ${limit} éléments`);
    case 'pattern':
      return text('has not the expected form', "n'a pas la forme attendue");
    case 'const':
    case 'enum':
    case 'anyOf':
      return text('is not one of the allowed values', "n'est pas l'une des valeurs permises");
    default:
      return text(item.message ?? 'is invalid', 'est invalide');
  }
}

/** Turns Fastify's schema validation errors into an AppError naming the field. */
function fromValidation(error: FastifyError & { validation: ValidationItem[]; validationContext?: string }): AppError {
  const item: ValidationItem = error.validation[0] ?? {};
  const base = `${item.instancePath ?? ''}`;
  const field = item.params?.missingProperty
    ? `${base}/${item.params.missingProperty}`
    : item.params?.additionalProperty
      ? `${base}/${item.params.additionalProperty}`
      : base || '/';
  const where = error.validationContext && error.validationContext !== 'body' ? ` (${error.validationContext})` : '';
  if (item.keyword === 'additionalProperties') {
    return new AppError('invalid', 'unknown-field', text(`Unknown field ${field}${where}`, `Champ inconnu ${field}${where}`), { field });
  }
  if (item.keyword === 'required') {
    return new AppError('invalid', 'missing-field', text(`Missing field ${field}${where}`, `Champ manquant ${field}${where}`), { field });
  }
  const reason = reasonOf(item);
  return new AppError(
    'invalid',
    'invalid-field',
    text(`Invalid value for ${field}${where}: ${reason.en}`, `Valeur invalide pour ${field}${where} : ${reason.fr}`),
    {
      field,
    },
  );
}

/** Errors Fastify raises itself (bad JSON, too large, wrong content type) as AppErrors. */
function fromFastify(error: FastifyError): AppError | undefined {
  if ((error as { validation?: unknown }).validation) return fromValidation(error as FastifyError & { validation: ValidationItem[] });
  switch (error.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(
        'invalid',
        'invalid-json',
        text('The request body is empty: send a JSON object', 'Le corps de la requête est vide : envoyez un objet JSON'),
        {
          field: '/',
        },
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid', 'invalid-json', text('The request body is not valid JSON', "Le corps de la requête n'est pas du JSON valide"), {
        field: '/',
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('too-big', 'body-too-large', text('The request body is too large', 'Le corps de la requête est trop volumineux'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid', 'unsupported-media-type', text('Send the body as application/json', 'Envoyez le corps en application/json'));
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid', 'invalid-url', text('The URL is malformed', "L'URL est mal formée"));
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('invalid', 'invalid-url', text('A path parameter is too long', 'Un paramètre du chemin est trop long'));
  }
  if (error instanceof SyntaxError) {
    return new AppError('invalid', 'invalid-json', text('The request body is not valid JSON', "Le corps de la requête n'est pas du JSON valide"), {
      field: '/',
    });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('invalid', 'bad-request', text(error.message, error.message));
  }
  return undefined;
}

/** Fields are named the same way wherever the error comes from: `licences.basic`, not `/licences/basic`. */
function fieldName(field: string | undefined): string | undefined {
  return field?.replace(/^\//, '').replaceAll('/', '.') || undefined;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, raw: unknown): FastifyReply {
  const language = languageOf(request);
  const error = isAppError(raw) ? raw : fromFastify(raw as FastifyError);
  if (!error) {
    request.log.error({ err: raw, event: 'api.internal_error' }, 'api.internal_error');
    return reply
      .code(500)
      .type(PROBLEM_TYPE)
      .send({
        type: 'urn:facteur:problem:internal',
        title: language === 'fr' ? 'Erreur interne' : 'Internal error',
        status: 500,
        detail: language === 'fr' ? `Erreur interne (référence ${request.id})` : `Internal error (reference ${request.id})`,
        code: 'internal',
        instance: request.id,
      });
  }
  const status = STATUS_OF[error.kind];
  if (error.kind === 'limit' && typeof error.details?.retryAfterSeconds === 'number') reply.header('retry-after', String(error.details.retryAfterSeconds));
  return reply
    .code(status)
    .type(PROBLEM_TYPE)
    .send({
      type: `urn:facteur:problem:${error.code}`,
      title: TITLES[error.kind][language],
      status,
      detail: error.text[language],
      code: error.code,
      ...(fieldName(error.field) ? { field: fieldName(error.field) } : {}),
      ...(error.details ? { details: error.details } : {}),
      instance: request.id,
    });
}
