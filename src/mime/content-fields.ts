/**
 * The Content-* fields of one MIME entity (RFC 2045, RFC 2183, RFC 3282, RFC 2557) as RFC 3501 body
 * structures report them, with the defaults of RFC 2045 §5.2 and RFC 2046 §5.1.5.
 */
import { firstField, type HeaderField } from './header-block.ts';
import type { CharBudget } from './limits.ts';
import { paramValue, parseParameterizedValue, stripComments, TOKEN } from './params.ts';
import type { Disposition, Param } from './types.ts';

export interface ContentFields {
  type: string;
  subtype: string;
  params: Param[];
  id: string | null;
  description: string | null;
  encoding: string;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  /** The multipart boundary, decoded (RFC 2231) and never clipped by the budget. */
  boundary: string | undefined;
}

/** What a part without Content-Type is: text/plain (RFC 2045 §5.2), or message/rfc822 inside multipart/digest (RFC 2046 §5.1.5). */
export type DefaultType = 'text/plain' | 'message/rfc822';

/** RFC 6838 §4.2 names: at most 127 characters of an RFC 2045 token. */
const MEDIA_NAME = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]{1,127}$/;

function clipParams(params: readonly Param[], budget: CharBudget): Param[] {
  return params.map(([name, value]) => [budget.clip(name, 256), budget.clip(value)]);
}

/** RFC 2045 §5.2: an invalid Content-Type is read as the default, text/plain in US-ASCII. */
function readMediaType(
  value: string | undefined,
  defaultType: DefaultType,
  budget: CharBudget,
): Pick<ContentFields, 'type' | 'subtype' | 'params' | 'boundary'> {
  if (value === undefined) {
    if (defaultType === 'message/rfc822') return { type: 'message', subtype: 'rfc822', params: [], boundary: undefined };
    return { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], boundary: undefined };
  }
  const parsed = parseParameterizedValue(value);
  const slash = parsed.value.indexOf('/');
  const type = parsed.value.slice(0, slash).toLowerCase();
  const subtype = parsed.value.slice(slash + 1).toLowerCase();
  if (slash === -1 || !MEDIA_NAME.test(type) || !MEDIA_NAME.test(subtype)) {
    return { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], boundary: undefined };
  }
  return { type, subtype, params: clipParams(parsed.params, budget), boundary: paramValue(parsed.params, 'boundary') };
}

function readDisposition(value: string | undefined, budget: CharBudget): Disposition | null {
  if (value === undefined) return null;
  const parsed = parseParameterizedValue(value);
  if (!TOKEN.test(parsed.value)) return null;
  return { type: budget.clip(parsed.value.toLowerCase(), 256), params: clipParams(parsed.params, budget) };
}

/** RFC 3282: a comma-separated list of language tags. */
function readLanguages(value: string | undefined, budget: CharBudget): string[] | null {
  if (value === undefined) return null;
  const tags = stripComments(value)
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0)
    .slice(0, 32)
    .map((tag) => budget.clip(tag, 256));
  return tags.length > 0 ? tags : null;
}

function readEncoding(value: string | undefined): string {
  const token = value === undefined ? undefined : /^[^\s;]+/.exec(stripComments(value).trim())?.[0];
  return token ? token.slice(0, 64).toLowerCase() : '7bit';
}

function readText(value: string | undefined, budget: CharBudget): string | null {
  return value === undefined ? null : budget.clip(value);
}

export function readContentFields(fields: readonly HeaderField[], defaultType: DefaultType, budget: CharBudget): ContentFields {
  const location = firstField(fields, 'content-location');
  return {
    ...readMediaType(firstField(fields, 'content-type'), defaultType, budget),
    id: readText(firstField(fields, 'content-id'), budget),
    description: readText(firstField(fields, 'content-description'), budget),
    encoding: readEncoding(firstField(fields, 'content-transfer-encoding')),
    md5: readText(firstField(fields, 'content-md5'), budget),
    disposition: readDisposition(firstField(fields, 'content-disposition'), budget),
    language: readLanguages(firstField(fields, 'content-language'), budget),
    // RFC 2557 §4.4.1: a folded URI is unfolded by removing the white space.
    location: location === undefined ? null : budget.clip(location.replace(/\s+/g, '')),
  };
}
