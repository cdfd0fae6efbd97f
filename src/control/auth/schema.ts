import { Type, type TSchema } from '@sinclair/typebox';

/** Wire shapes of sign-in, the legacy `/auth/token/` (§5.3) and the public key endpoints (§1.3). */

export const loginBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** Sign-out: the cookie is cleared, no body. */
export const logoutResponse: TSchema = Type.Null({ description: 'Signed out' });

export const loginResponse = Type.Object({ user_id: Type.String(), email: Type.String() });

export const sessionTokenResponse = Type.Object({
  user_id: Type.String(),
  token: Type.String({ description: 'A JWT to send as x-mkio-token' }),
  token_id: Type.String(),
  expires: Type.String(),
});

/** The public signing key in the order it is stored; the private `d` has no field here, so it can never be published. */
const publicJwk = Type.Object({
  kty: Type.String(),
  x: Type.String(),
  y: Type.String(),
  crv: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.String(),
});
export const jwksResponse = Type.Object({ keys: Type.Array(publicJwk) });

export const revokedTokensResponse = Type.Object({ revokedTokens: Type.Array(Type.String()) });
