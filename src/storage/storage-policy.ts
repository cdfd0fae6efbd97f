import type { AddressPolicy } from '../shared/address-policy.js';
import { localAreasOf, type LocalAreaSettings } from './local-areas.js';

/** What the operator lets storage accounts reach. */
export interface StoragePolicy {
  /** The directories a project's Local accounts may use (local-areas.ts). */
  localAreas(projectName: string): string[];
  /** The addresses Azure and S3 accounts may connect to (the drivers check it again on every connection). */
  address: AddressPolicy;
}

/** Each project its own Local areas, cloud accounts only the addresses the operator allows. */
export function createStoragePolicy(settings: LocalAreaSettings & { allowPrivate: boolean; allowedHosts: readonly string[] }): StoragePolicy {
  return {
    localAreas: (projectName) => localAreasOf(projectName, { roots: settings.roots, grants: settings.grants }),
    address: { allowPrivate: settings.allowPrivate, allowedHosts: settings.allowedHosts },
  };
}
