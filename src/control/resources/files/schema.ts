import { Type } from '@sinclair/typebox';

/** `PUT /files/{account}/{container}/{blob…}`: what was stored. GET and HEAD answer with the file's bytes. */
export const fileWrittenResponse = Type.Object({ name: Type.String(), size: Type.Number(), etag: Type.Optional(Type.String()) });
