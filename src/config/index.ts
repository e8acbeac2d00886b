/**
 * Loads the configuration in two steps: raw values (file, then FACTEUR_* environment), then the
 * typed, validated and frozen config with defaults and derived values. An invalid value stops
 * start-up with a message naming the setting and its environment variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type Config, ConfigSchema, ENV_OVERRIDES } from './schema.ts';

export type { Config } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A config file; default FACTEUR_CONFIG, else ./facteur.config.json when present. */
  file?: string;
  /** Values that win over file and environment (tests). */
  overrides?: Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function envValue(settingPath: string, raw: string): unknown {
  if (['dns.servers', 'dns.mxHosts', 'roles', 'secrets.keys'].includes(settingPath)) {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
  return raw;
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function envNameOf(settingPath: string): string {
  const entry = Object.entries(ENV_OVERRIDES).find(([, target]) => target === settingPath);
  return entry ? ` (${entry[0]})` : '';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.FACTEUR_CONFIG ?? (existsSync('facteur.config.json') ? 'facteur.config.json' : undefined);
  let raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, settingPath] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, settingPath, envValue(settingPath, value));
  }
  raw = deepMerge(raw, options.overrides ?? {});

  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw));
  const firstError = Value.Errors(ConfigSchema, withDefaults).First();
  if (firstError) {
    const setting = firstError.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    throw new ConfigError(`invalid setting ${setting}${envNameOf(setting)}: ${firstError.message} (got ${JSON.stringify(firstError.value)})`);
  }
  const config = withDefaults as Config;
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('invalid setting databaseUrl (FACTEUR_DATABASE_URL): expected a postgres:// URL or nothing');
  }
  if (config.clockStart && Number.isNaN(Date.parse(config.clockStart))) {
    throw new ConfigError(`invalid setting clockStart (FACTEUR_CLOCK_START): expected an ISO 8601 instant (got ${JSON.stringify(config.clockStart)})`);
  }
  config.dataDir = path.resolve(config.dataDir);
  if (!config.publicUrl) config.publicUrl = `http://${config.hostname}:${config.ports.http}`;
  if (config.dns.mxHosts.length === 0) config.dns.mxHosts = [config.hostname];
  if (!config.dns.spfInclude) config.dns.spfInclude = `spf.${config.hostname}`;
  config.srs.domain = (config.srs.domain || config.hostname).trim().toLowerCase().replace(/\.$/, '');
  return deepFreeze(config);
}
