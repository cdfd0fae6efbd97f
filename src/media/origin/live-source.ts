import type { AssetLocation, BuiltPresentation } from './presentation-builder.js';

/** A presentation that is being recorded now, and where its bytes are read from while it grows. */
export interface LivePlayback {
  /** `presentation.live` is set while the stream may still grow; segments already sliced to the DVR window. */
  presentation: BuiltPresentation;
  location: AssetLocation;
  /**
   * Resolves at the recording's next change (a part or segment written, or the end), after which a fresh
   * `forAsset`/`forPreviewLocator` answer shows it: LL-HLS blocking playlist reloads and preload-hinted parts
   * wait on it. Absent: the source cannot say, and such requests are answered at once.
   */
  nextUpdate?(): Promise<void>;
}

/**
 * The live runtime as the origin sees it (owned here, implemented by `media/live`). The origin asks it before
 * building a presentation from storage: an asset a running live output records into plays live; after the
 * output stops (the archive is written), the asset plays as VOD again.
 */
export interface LiveSource {
  /** The live presentation of an asset being recorded (the live output's archive so far), or undefined. */
  forAsset(assetId: string): LivePlayback | undefined;
  /** A running event's preview (its preview locator GUID), or undefined. */
  forPreviewLocator(locatorId: string): LivePlayback | undefined;
}
