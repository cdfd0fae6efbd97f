import { nameRule } from '../names.js';

/** Streaming policy names (§12): MK.IO's 260 characters under the media name rule (names.ts). */
export const streamingPolicyName = nameRule(260);
