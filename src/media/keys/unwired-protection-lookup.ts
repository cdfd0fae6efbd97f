import type { ProtectionLookup } from '../../shared/content-protection.js';

/**
 * A ProtectionLookup that knows no locator: key delivery answers 404 to everything. Stands in until the store's
 * implementation of ProtectionLookup is wired in main.ts and origin-main.ts.
 * TODO(lead): replace with the store's ProtectionLookup at merge, then delete this file.
 */
export const unwiredProtectionLookup: ProtectionLookup = {
  locatorKeys: async () => undefined,
  contentKeyPolicy: async () => undefined,
};
