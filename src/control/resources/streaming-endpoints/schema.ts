import { Type } from '@sinclair/typebox';

/** MK.IO's streaming endpoint name rule ([OA] 1–64, letters, digits and inner hyphens; §11). */
export const streamingEndpointName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9]+(-*[a-zA-Z0-9])*$' });
