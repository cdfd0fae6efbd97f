import { useEffect, useRef, useState } from 'react';
import { Alert, Box, Loader, Overlay, Center } from '@mantine/core';

interface ShakaErrorLike {
  code?: number;
  category?: number;
  severity?: number;
  data?: unknown[];
  message?: string;
}

/** Shaka's request types (shaka.net.NetworkingEngine.RequestType) for licence and AES-128 key requests. */
const LICENSE_REQUEST = 2;
const KEY_REQUEST = 6;

/** Key systems (EME names) of the DRM names in listPaths' `drm` section. */
export const keySystems: Record<string, string> = {
  clearKey: 'org.w3.clearkey',
  widevine: 'com.widevine.alpha',
  playReady: 'com.microsoft.playready',
  fairPlay: 'com.apple.fps',
};

/** What a protected stream needs: the licence servers by key system, and a token for key and licence requests. */
export interface PlaybackProtection {
  /** Key system (e.g. `org.w3.clearkey`) → licence URL. */
  licenseServers: Record<string, string>;
  /** Sent as `Authorization: Bearer …` on licence and AES-128 key requests only, never on manifests or segments. */
  token?: string;
}

/** A Shaka error as a sentence (its numeric codes are documented in shaka.util.Error). */
export function describeShakaError(e: ShakaErrorLike): string {
  const data = Array.isArray(e.data) ? e.data : [];
  switch (e.code) {
    case 1001:
      if ((data[4] === LICENSE_REQUEST || data[4] === KEY_REQUEST) && (data[1] === 401 || data[1] === 403)) {
        return `The key delivery refused the ${data[4] === KEY_REQUEST ? 'key' : 'licence'} request (HTTP ${String(data[1])}): this stream needs a valid playback token. Enter one above.`;
      }
      return `The stream answered HTTP ${String(data[1])} for ${String(data[0])}`;
    case 1002:
      return `The stream could not be reached (${String(data[0])}). Is the streaming endpoint running, and does this browser resolve its host name?`;
    case 1003:
      return `The stream timed out (${String(data[0])})`;
    case 4032:
    case 4040:
      return "This browser cannot decode the stream's codecs";
    case 6001:
      return "This browser has no content decryption module for the stream's DRM (Chromium without Widevine plays ClearKey and AES-128 only)";
    case 6007:
      // A licence request failed: the network error is inside.
      return data[0] && typeof data[0] === 'object' ? describeShakaError(data[0]) : 'The licence request failed';
    case 6012:
      return "The stream is protected, but listPaths named no licence server for the browser's DRM";
    case 7000:
      return 'Loading was interrupted';
    default:
      return `Playback failed (Shaka error ${e.code ?? '?'}${e.message ? `: ${e.message}` : ''})`;
  }
}

/**
 * An embedded Shaka Player (loaded on first use: it is most of the console's bytes). Starts muted so browsers
 * allow it to play at once; the native controls unmute, seek and go full screen. With `protection`, Shaka gets
 * the licence servers (ClearKey for CENC/CBCS) and adds the token to licence and AES-128 key requests only.
 */
export function ShakaPlayer({ src, title, protection }: { src: string; title: string; protection?: PlaybackProtection }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // The effect re-runs when the servers or the token change, not on every render's new object.
  const protectionKey = protection ? JSON.stringify(protection) : '';

  useEffect(() => {
    const drm = protectionKey ? (JSON.parse(protectionKey) as PlaybackProtection) : undefined;
    let cancelled = false;
    let destroy: (() => Promise<void>) | undefined;
    setError(null);
    setLoading(true);
    void (async () => {
      try {
        const { default: shaka } = await import('shaka-player');
        if (cancelled || !video.current) return;
        shaka.polyfill.installAll();
        if (!shaka.Player.isBrowserSupported()) {
          setError('This browser cannot play adaptive streams (it has no Media Source Extensions).');
          return;
        }
        const player = new shaka.Player();
        destroy = () => player.destroy();
        if (drm) {
          player.configure({ drm: { servers: drm.licenseServers } });
          const bearer = drm.token ? `Bearer ${drm.token}` : undefined;
          if (bearer) {
            player.getNetworkingEngine()?.registerRequestFilter((type, request) => {
              if (type === LICENSE_REQUEST || type === KEY_REQUEST) request.headers['Authorization'] = bearer;
            });
          }
        }
        await player.attach(video.current);
        if (cancelled) {
          void player.destroy();
          return;
        }
        player.addEventListener('error', (event) => {
          if (cancelled) return;
          // A fatal error can come while load() still waits (a refused key during start-up): stop the spinner too.
          setError(describeShakaError((event as unknown as { detail: ShakaErrorLike }).detail));
          setLoading(false);
        });
        await player.load(src);
        if (!cancelled && video.current) await video.current.play().catch(() => undefined);
      } catch (e) {
        if (!cancelled && (e as ShakaErrorLike).code !== 7000) setError(describeShakaError(e as ShakaErrorLike));
      } finally {
        if (!cancelled) setLoading(false);
      }
    })();
    return () => {
      cancelled = true;
      // A player still being made is destroyed by the run that made it, once it sees `cancelled`.
      void destroy?.();
    };
  }, [src, protectionKey]);

  return (
    <Box pos="relative" style={{ background: '#000', borderRadius: 'var(--mantine-radius-sm)', overflow: 'hidden' }}>
      <video ref={video} controls muted playsInline aria-label={title} data-src={src} style={{ width: '100%', aspectRatio: '16 / 9', display: 'block' }} />
      {loading && (
        <Overlay backgroundOpacity={0.35} center>
          <Center>
            <Loader color="white" aria-label="Loading the stream" />
          </Center>
        </Overlay>
      )}
      {error && (
        <Alert color="red" variant="filled" role="alert" title="Playback failed" m="xs">
          {error}
        </Alert>
      )}
    </Box>
  );
}
