/**
 * The locations a self-hosted Reel offers. MK.IO lists its cloud regions; Reel runs where it is installed, so it
 * has one location, `local`, which streaming endpoints, live events and projects name. Its id is fixed so every
 * install answers the same (clients store it).
 */
export interface ReelLocation {
  id: string;
  name: string;
  displayName: string;
}

export const localLocation: ReelLocation = { id: '6c6f6361-6c00-4000-8000-000000000001', name: 'local', displayName: 'Local' };

export const reelLocations: readonly ReelLocation[] = [localLocation];

export function findLocation(name: string): ReelLocation | undefined {
  return reelLocations.find((l) => l.name === name);
}
