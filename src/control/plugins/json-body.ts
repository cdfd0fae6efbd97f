import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../shared/errors.js';

/**
 * How deep a request body may nest objects and arrays. MK.IO bodies are shallow (an encoder preset, the deepest,
 * has fewer than ten levels); a body nested thousands of levels deep only serves to exhaust the stack of whatever
 * walks it later (schema validation, JSON.stringify, deep equality), which answered a 500.
 */
export const maxJsonDepth = 64;

/**
 * What is wrong with JSON text before it is parsed, or undefined: nesting deeper than `limit` (`{`/`[` outside
 * strings), or a NUL character (`\u0000`) in a string, which no MK.IO field carries and PostgreSQL cannot
 * store. One linear pass, no recursion; anything else is left to the parser.
 */
export function jsonTextProblem(text: string, limit: number): 'depth' | 'nul' | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        // backslash: an escape; `\u0000` is the only way to write NUL in valid JSON
        if (text.startsWith('u0000', i + 1)) return 'nul';
        i++;
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return 'depth';
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/**
 * JSON bodies for the whole API: the linear check above before Fastify's own parser, which keeps its
 * prototype-poisoning protection. A refused body is a 400 with MK.IO's error body. An empty body is no body:
 * MK.IO clients send `Content-Type: application/json` on bodyless POSTs too (the .NET client's
 * getFileAccessInfo, scripts that set it on every request); a route whose schema needs a body still says so.
 */
export function installJsonBodyGuard(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body: string, done) => {
    const problem = jsonTextProblem(body, maxJsonDepth);
    if (body.trim() === '') {
      done(null, undefined);
    } else if (problem === 'depth') {
      done(new BadRequestError('InvalidRequestBody', `The JSON body nests objects or arrays deeper than ${maxJsonDepth} levels`), undefined);
    } else if (problem === 'nul') {
      done(new BadRequestError('InvalidRequestBody', 'The JSON body holds a NUL character (\\u0000) in a string'), undefined);
    } else {
      // The default parser answers through `done`; its type also allows a promise, which it never returns here.
      void parse(req, body, done);
    }
  });
}
