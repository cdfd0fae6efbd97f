/** `75.5` → `00:01:15.500` (WebVTT timestamps always carry hours here, which every parser accepts). */
export function vttTimestamp(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * The WebVTT index of a thumbnail sprite (the format players' seek-bar previews read): one cue per image,
 * from its time to the next image's, whose text is `sprite.jpg#xywh=x,y,w,h` (Media Fragments URI).
 */
export function spriteVtt(options: { spriteName: string; timesSec: number[]; endSec: number; tileWidth: number; tileHeight: number; columns: number }): string {
  const { timesSec, columns, tileWidth, tileHeight } = options;
  const cues = timesSec.map((start, i) => {
    const end = i + 1 < timesSec.length ? timesSec[i + 1] : Math.max(options.endSec, start + 0.001);
    const x = (i % columns) * tileWidth;
    const y = Math.floor(i / columns) * tileHeight;
    return `${vttTimestamp(start)} --> ${vttTimestamp(end)}\n${options.spriteName}#xywh=${x},${y},${tileWidth},${tileHeight}\n`;
  });
  return `WEBVTT\n\n${cues.join('\n')}`;
}
