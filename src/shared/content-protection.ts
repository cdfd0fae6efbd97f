/**
 * The content-protection model shared by the control plane (content key policies, locator content keys), key
 * delivery and the origin (MKIO-API.md §12–14). Secrets appear here unsealed: only key delivery and the origin
 * hold them in memory, and never log them.
 */

/** The encryption scheme a locator content key serves (`contentKeys[].type`). */
export type ContentKeyType = 'EnvelopeEncryption' | 'CommonEncryptionCenc' | 'CommonEncryptionCbcs';

/** A locator's content key, unsealed. */
export interface ContentKey {
  /** Key id: a lower-case GUID, as in `contentKeys[].id` (also the KID in PSSH, `tenc` and `cenc:default_KID`). */
  id: string;
  type: ContentKeyType;
  /** The 16-byte AES key. */
  value: Buffer;
  /** `labelReferenceInStreamingPolicy`: which of the policy's `defaultKey`/`keyToTrackMappings` it is. */
  label: string;
  /**
   * The content key policy that guards delivery of this key: the key's own, else the streaming policy's key
   * mapping or `defaultContentKeyPolicyName`, else the locator's. Undefined: Reel delivers this key to nobody
   * (packaging for an external licence service still works).
   */
  policyName: string | undefined;
}

/** A content key policy option as MK.IO writes it (`configuration` and `restriction` carry `@odata.type`). */
export interface ContentKeyPolicyOption {
  policyOptionId: string;
  name?: string;
  configuration: { '@odata.type': string } & Record<string, unknown>;
  restriction: { '@odata.type': string } & Record<string, unknown>;
}

/** A content key policy with its secrets (verification keys, FairPlay ASk/PFX) unsealed. */
export interface ContentKeyPolicy {
  name: string;
  policyId: string;
  options: ContentKeyPolicyOption[];
}

/** What key delivery and the origin read about protection; implemented over the store. */
export interface ProtectionLookup {
  /** The content keys of the locator whose playback GUID is `locatorId`; undefined when there is no such locator. */
  locatorKeys(locatorId: string): Promise<{ projectId: string; projectName: string; alternativeMediaId?: string; keys: ContentKey[] } | undefined>;
  /** A project's content key policy, secrets unsealed; undefined when there is none of that name. */
  contentKeyPolicy(projectId: string, name: string): Promise<ContentKeyPolicy | undefined>;
}

/** `@odata.type` values (§14.1, §14.2). */
export const odataTypes = {
  clearKeyConfiguration: '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration',
  widevineConfiguration: '#Microsoft.Media.ContentKeyPolicyWidevineConfiguration',
  playReadyConfiguration: '#Microsoft.Media.ContentKeyPolicyPlayReadyConfiguration',
  fairPlayConfiguration: '#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration',
  unknownConfiguration: '#Microsoft.Media.ContentKeyPolicyUnknownConfiguration',
  openRestriction: '#Microsoft.Media.ContentKeyPolicyOpenRestriction',
  tokenRestriction: '#Microsoft.Media.ContentKeyPolicyTokenRestriction',
  unknownRestriction: '#Microsoft.Media.ContentKeyPolicyUnknownRestriction',
  symmetricKey: '#Microsoft.Media.ContentKeyPolicySymmetricTokenKey',
  rsaKey: '#Microsoft.Media.ContentKeyPolicyRsaTokenKey',
  x509Key: '#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey',
} as const;

/** The claim that binds a token to one content key id (AMS convention). */
export const contentKeyIdentifierClaim = 'urn:microsoft:azure:mediaservices:contentkeyidentifier';

/**
 * Key delivery URLs, served by the origin (any streaming endpoint host, and the API host): path forms are
 * Reel's own, since MK.IO's key delivery host is not documented. The locator GUID scopes the key to one
 * tenant's locator.
 * - AES-128 (HLS envelope): `GET /keydelivery/{locatorId}/aes/{keyId}` → the 16 raw key bytes.
 * - W3C ClearKey licence (CENC/CBCS): `POST /keydelivery/{locatorId}/clearkey` with the EME JSON request
 *   `{"kids":[base64url],"type":"temporary"}` → `{"keys":[{"kty":"oct","kid","k"}],"type":"temporary"}`.
 * A token goes in `Authorization: Bearer …` or, for players that cannot set headers, `?token=`.
 */
export const keyDeliveryPaths = {
  aes: (locatorId: string, keyId: string) => `/keydelivery/${locatorId}/aes/${keyId}`,
  clearKey: (locatorId: string) => `/keydelivery/${locatorId}/clearkey`,
} as const;
