export { FsBlobStore } from './blob/fs.ts';
export type { BlobRef, BlobStore, ByteRange, StagedBlob } from './blob/types.ts';
export { type Engine, migrateToLatest, type OpenStoreOptions, openStore, type Store } from './db.ts';
export { escapeLike, isUniqueViolation } from './dialect.ts';
export { isSealed, KeyringError, SecretKeyring, type SecretPurpose } from './keyring.ts';
export { connectRedis, type Redis, runScript } from './redis.ts';
export type * from './schema.ts';
export { checkKeyring, type RotationResult, resealSecrets, rotateSecretsKey, SEALED_COLUMNS, scrubFreedSecrets, storedSecret } from './secrets.ts';
