import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../shared/errors.js';

/**
 * How deep a request body may nest objects and arrays. MK.IO bodies are shallow (an encoder preset, the deepest,
 * has fewer than ten levels); a body nested thousands of levels deep only serves to exhaust the stack of whatever
 * walks it later (schema validation, JSON.stringify, deep equality), which answered a 500.
 */
export const maxJsonDepth = 64;

/** The deepest nesting of `{`/`[` in JSON text, stopping as soon as `limit` is passed; strings are skipped. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON bodies for the whole API: a linear depth scan (no recursion) before Fastify's own parser, which keeps its
 * prototype-poisoning protection. A body nested too deep is a 400 with MK.IO's error body.
 */
export function installJsonBodyGuard(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body: string, done) => {
    if (jsonDepthExceeds(body, maxJsonDepth)) {
      done(new BadRequestError('InvalidRequestBody', `The JSON body nests objects or arrays deeper than ${maxJsonDepth} levels`), undefined);
      return;
    }
    parse(req, body, done);
  });
}
