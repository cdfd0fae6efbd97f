import { nameBasedId } from './ids.js';

/**
 * The one location a self-hosted Reel offers: the machine (or cluster) it runs on. It is the `location` of the
 * default streaming endpoint and of storage accounts registered without one, and the location every project
 * (MK.IO "subscription") is in. `location` given on other resources is kept as a label (clients send Azure region
 * names such as `francecentral`); it does not move anything.
 */
export const reelLocation = {
  name: 'local',
  displayName: 'Local (self-hosted)',
  id: nameBasedId('location:local'),
} as const;

export type ReelLocation = typeof reelLocation;

/** Every location of this Reel (one); a project's `locationName` must be one of them. */
export const reelLocations: readonly ReelLocation[] = [reelLocation];

export function findLocation(name: string): ReelLocation | undefined {
  return reelLocations.find((l) => l.name === name);
}
