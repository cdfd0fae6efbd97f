import { Type } from '@sinclair/typebox';

/**
 * A query-string boolean as MK.IO clients write it: `true`/`false` in any case (the .NET client writes .NET's
 * `True`/`False`, e.g. `PUT …/streamingEndpoints/{name}?autoStart=True`). Read it with `isTrue`.
 */
export const queryBoolean = Type.String({ pattern: '^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$' });

export const isTrue = (value: string | undefined): boolean => value?.toLowerCase() === 'true';
