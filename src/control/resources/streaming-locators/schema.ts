import { nameRule } from '../names.js';

/** Streaming locator names (§13): MK.IO's 260 characters under the media name rule (names.ts). */
export const streamingLocatorName = nameRule(260);
