/**
 * How Reel reads an asset container (AMS layout, §17.5): the `.ism` server manifest names the renditions;
 * without one, every MP4 at the top level is a rendition and the manifest is called `manifest`.
 * Shared by listPaths (control plane) and the origin (media plane), so both agree on URLs.
 */
export const synthesizedManifestName = 'manifest';

const mp4Pattern = /\.(mp4|m4v|m4a|ismv|isma|cmfv|cmfa)$/i;

/** The manifest name (without `.ism`) for a container's top-level file names. */
export function manifestNameOf(fileNames: readonly string[]): string {
  const ism = fileNames.filter((n) => /\.ism$/i.test(n)).sort()[0];
  return ism ? ism.slice(0, -4) : synthesizedManifestName;
}

/** Files a player may download through a Download-enabled locator: the media files. */
export function downloadableFiles(fileNames: readonly string[]): string[] {
  return fileNames.filter((n) => mp4Pattern.test(n)).sort();
}

export function isMp4Name(name: string): boolean {
  return mp4Pattern.test(name);
}
