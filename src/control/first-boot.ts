import fs from 'node:fs';
import path from 'node:path';
import type { AccountService } from './auth/account-service.js';
import type { StorageAccountService } from './resources/storage/service.js';
import { reelLocation } from '../shared/locations.js';

/**
 * What a first start creates, so a fresh install works at once: the admin in organization and project `default`,
 * and an embedded Local storage account `local` in project `default`'s own area of the first storage root, so
 * assets work before any cloud storage is registered. Later starts create nothing.
 */
export async function firstBoot(
  services: { accounts: AccountService; storage: StorageAccountService },
  settings: { adminEmail: string; adminPassword: string | undefined; localStorageRoot: string },
): Promise<{ generatedAdminPassword?: string }> {
  const boot = await services.accounts.bootstrap(settings.adminEmail, settings.adminPassword);
  if (boot.created) {
    const root = path.join(settings.localStorageRoot, 'default');
    fs.mkdirSync(root, { recursive: true });
    await services.storage.create(
      boot.projectId,
      { name: 'local', type: 'Local', description: 'Embedded local disk storage', location: reelLocation.name, config: { path: root } },
      { email: settings.adminEmail, userId: boot.adminUserId },
    );
  }
  return { generatedAdminPassword: boot.password };
}
