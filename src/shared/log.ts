import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino removes from every log line: credentials must never reach logs. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers["x-mkio-token"]',
  'req.headers.cookie',
  'req.headers["x-reel-relay-secret"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.sasToken',
  '*.secretAccessKey',
  '*.accountKey',
  '*.clientSecret',
  '*.token',
  '*.JWT',
  '*.*.sasToken',
  '*.*.secretAccessKey',
  'spec.credential',
  '*.spec.credential',
];

/** The root logger; only main.ts (and tests) create one. Query strings are cut so SAS signatures never appear. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: stripQuery(req.url), id: req.id }),
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Query strings can hold SAS tokens or signatures; logs keep only the path. */
export function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}
