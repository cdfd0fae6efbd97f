/** One elementary stream of a media file, as read from the file itself. */
export interface MediaTrackInfo {
  index: number;
  type: 'video' | 'audio' | 'text' | 'data';
  codec: string;
  profile?: string;
  bitrateBps?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  language?: string;
  durationSec?: number;
  channels?: number;
  sampleRateHz?: number;
}

export interface MediaFileInfo {
  formatName: string;
  durationSec?: number;
  bitrateBps?: number;
  tracks: MediaTrackInfo[];
}

/**
 * Reads track facts from a media file reachable at `url` (a signed Reel file URL, so every storage driver
 * works and only the byte ranges the reader asks for are fetched). Implemented in the media plane.
 */
export interface MediaProber {
  probe(url: string, signal?: AbortSignal): Promise<MediaFileInfo>;
}
