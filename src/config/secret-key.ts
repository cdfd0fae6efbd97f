import fs from 'node:fs';
import path from 'node:path';
import { randomSecret } from '../shared/ids.js';
import type { Config } from './schema.js';

/**
 * The secret that seals credentials and signs file URLs: configured, or generated once into the data dir, so a
 * restart (or another process on the same data dir) keeps reading what was sealed before.
 */
export function loadSecretKey(config: Pick<Config, 'secretKey' | 'dataDir'>): string {
  if (config.secretKey) return config.secretKey;
  const file = path.join(config.dataDir, 'secret.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomSecret(32), { mode: 0o600, flag: 'wx' });
  return fs.readFileSync(file, 'utf8').trim();
}
