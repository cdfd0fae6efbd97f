import { useEffect, useRef, useState } from 'react';
import { Alert, Box, Loader, Overlay, Center } from '@mantine/core';

interface ShakaErrorLike {
  code?: number;
  category?: number;
  severity?: number;
  data?: unknown[];
  message?: string;
}

/** A Shaka error as a sentence (its numeric codes are documented in shaka.util.Error). */
export function describeShakaError(e: ShakaErrorLike): string {
  const data = Array.isArray(e.data) ? e.data : [];
  switch (e.code) {
    case 1001:
      return `The stream answered HTTP ${String(data[1])} for ${String(data[0])}`;
    case 1002:
      return `The stream could not be reached (${String(data[0])}). Is the streaming endpoint running, and does this browser resolve its host name?`;
    case 1003:
      return `The stream timed out (${String(data[0])})`;
    case 4032:
    case 4040:
      return "This browser cannot decode the stream's codecs";
    case 7000:
      return 'Loading was interrupted';
    default:
      return `Playback failed (Shaka error ${e.code ?? '?'}${e.message ? `: ${e.message}` : ''})`;
  }
}

/**
 * An embedded Shaka Player (loaded on first use: it is most of the console's bytes). Starts muted so browsers
 * allow it to play at once; the native controls unmute, seek and go full screen.
 */
export function ShakaPlayer({ src, title }: { src: string; title: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
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
        await player.attach(video.current);
        if (cancelled) {
          void player.destroy();
          return;
        }
        player.addEventListener('error', (event) => {
          if (!cancelled) setError(describeShakaError((event as unknown as { detail: ShakaErrorLike }).detail));
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
  }, [src]);

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
        <Alert color="red" role="alert" title="Playback failed" m="xs">
          {error}
        </Alert>
      )}
    </Box>
  );
}
