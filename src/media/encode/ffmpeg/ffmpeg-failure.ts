import { EncodeError, type EncodeErrorCode } from '../encode-engine.js';

interface Rule {
  code: EncodeErrorCode;
  pattern: RegExp;
}

/**
 * ffmpeg/ffprobe stderr lines mapped to MK.IO job error codes, most specific first. The first line that
 * matches a rule decides the code and becomes the message, so a user reads ffmpeg's own reason.
 */
const rules: Rule[] = [
  {
    code: 'DownloadNotAccessible',
    pattern: /Server returned 4\d\d|HTTP error 4\d\d|4(0[13]|04|10) (Forbidden|Not Found|Unauthorized|Gone)|No such file or directory|Permission denied/i,
  },
  {
    code: 'DownloadTransientError',
    pattern:
      /Server returned 5\d\d|HTTP error 5\d\d|Connection refused|Connection timed out|Operation timed out|timed out|Connection reset|Network is unreachable|Failed to resolve hostname|Name or service not known|Broken pipe/i,
  },
  {
    code: 'ContentUnsupported',
    pattern: /Decoder \(codec [^)]*\) not found|Unknown decoder|no decoder|codec not currently supported|Unsupported codec|is not supported|not implemented/i,
  },
  {
    code: 'ContentMalformed',
    pattern:
      /Invalid data found when processing input|moov atom not found|partial file|Invalid NAL unit|could not find codec parameters|does not contain any stream|contains no stream|Invalid frame dimensions|corrupt|truncat|error while decoding|End of file/i,
  },
  { code: 'ServiceError', pattern: /Unknown encoder|Encoder [^ ]+ not found|Error initializing output stream|Cannot allocate memory|No space left on device/i },
];

/** Lines that never explain anything on their own. */
const noise =
  /^(Conversion failed!|Exiting normally|Error while (opening|filtering)|Error initializing complex filters\.?|\s*Last message repeated|Stream mapping:|Press \[q\])/i;

/** Removes query strings (signatures) from every URL in a text. */
export function redactUrls(text: string): string {
  return text.replace(/\b(https?:\/\/[^\s?#'"]+)[?#][^\s'"]*/gi, '$1');
}

/**
 * One stderr line made readable: the `[mov,mp4 @ 0x55d…]` context prefix and a leading `url-or-path: ` are
 * cut (they name the signed input URL), other URLs lose their query string.
 */
export function cleanLine(line: string): string {
  let l = line.trim().replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '');
  l = l.replace(/^(?:(?:https?|file|tcp|tls):\/\/|\/)\S*?:\s+/i, '');
  return redactUrls(l).trim();
}

/** The most useful stderr line: the first matching a known failure, else the last meaningful one. */
export function mostUsefulLine(stderr: string): { line: string; code?: EncodeErrorCode } | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .map(cleanLine)
    .filter((l) => l !== '' && !noise.test(l));
  for (const rule of rules) {
    const line = lines.find((l) => rule.pattern.test(l));
    if (line) return { line, code: rule.code };
  }
  const last = lines.at(-1);
  return last ? { line: last } : undefined;
}

/**
 * The input was refused by the allow lists of ffmpeg-sandbox.ts: a playlist, concat list, manifest or image
 * pattern (which would make ffmpeg open the files and URLs it names), or a reference to another protocol.
 */
function refusedInput(stderr: string): EncodeError | undefined {
  const format = /\[([\w,]+) @ 0x[0-9a-f]+\] Format not on whitelist/i.exec(stderr)?.[1] ?? (/Format not on whitelist/i.test(stderr) ? 'unknown' : undefined);
  if (format) {
    return new EncodeError(
      'ContentUnsupported',
      `The input is in a format Reel does not take as a job input (${format}): playlists, concat lists, manifests and image sequences refer to other files; submit the media file itself`,
    );
  }
  const protocol = /Protocol '([^']*)' not on whitelist/i.exec(stderr)?.[1];
  if (protocol !== undefined)
    return new EncodeError('ContentUnsupported', `The input refers to another location (${protocol.slice(0, 20)}), which Reel does not open`);
  return undefined;
}

/** An ffmpeg/ffprobe exit turned into the job error a user sees. */
export function classifyFfmpegFailure(stderr: string, context: { tool: 'ffmpeg' | 'ffprobe'; exitCode: number | null }): EncodeError {
  const refused = refusedInput(stderr);
  if (refused) return refused;
  const found = mostUsefulLine(stderr);
  const reason = found?.line ?? `${context.tool} exited with code ${context.exitCode ?? 'unknown'}`;
  const code = found?.code ?? (context.tool === 'ffprobe' ? 'ContentMalformed' : 'ServiceError');
  const prefix: Record<EncodeErrorCode, string> = {
    ContentMalformed: 'The input could not be read as media',
    ContentUnsupported: 'The input uses a format or codec Reel cannot decode',
    DownloadNotAccessible: 'The input could not be downloaded',
    DownloadTransientError: 'Reading the input failed',
    ServiceError: `${context.tool} failed`,
    ServiceTransientError: `${context.tool} failed`,
    UploadNotAccessible: 'Writing the output failed',
    UploadTransientError: 'Writing the output failed',
    ConfigurationUnsupported: 'The preset cannot be applied',
    IdentityUnsupported: 'Access denied',
  };
  return new EncodeError(code, `${prefix[code]}: ${reason}`);
}

export function missingToolError(tool: 'ffmpeg' | 'ffprobe', path: string): EncodeError {
  return new EncodeError('ServiceError', `${tool} not found at ${path}: install ffmpeg or set its path in the configuration`);
}
