import { createHash } from 'node:crypto';
import { odataTypes, type ContentKey, type ContentKeyPolicy } from '../../shared/content-protection.js';
import {
  compileTokenRestriction,
  tokenAllowsKey,
  UnusableRestrictionError,
  verifyRestrictionToken,
  type CompiledTokenRestriction,
  type TokenVerdict,
  type TokenVerificationDeps,
} from './token-restriction.js';

/** A ClearKey option's restriction, ready to check. */
type CompiledRestriction = { kind: 'open' } | { kind: 'token'; token: CompiledTokenRestriction } | { kind: 'unusable'; reason: string };

/** The parts of a content key policy key delivery uses: the restrictions of its ClearKey options. */
export interface CompiledPolicy {
  name: string;
  clearKeyRestrictions: CompiledRestriction[];
}

/** Why a key is not delivered; `status` picks the answer (401 token missing or invalid, 403 not for this key, 502 keys unreachable). */
export interface KeyRefusal {
  status: 401 | 403 | 502;
  reason: string;
}

/**
 * Compiled policies (verification keys imported once): by object, when the lookup hands out the same object again,
 * else by a hash of the project, name, id and options, so an updated policy is recompiled and an unchanged one never is.
 */
export class CompiledPolicies {
  private readonly byObject = new WeakMap<ContentKeyPolicy, CompiledPolicy>();
  private readonly byContent = new Map<string, CompiledPolicy>();

  constructor(private readonly maxEntries = 1000) {}

  get(projectId: string, policy: ContentKeyPolicy): CompiledPolicy {
    const known = this.byObject.get(policy);
    if (known) return known;
    const hash = createHash('sha256')
      .update(`${projectId}\0${policy.name}\0${policy.policyId}\0${JSON.stringify(policy.options)}`)
      .digest('base64');
    let compiled = this.byContent.get(hash);
    if (compiled) {
      // Most recently used last, so the oldest entry is the first to go.
      this.byContent.delete(hash);
    } else {
      compiled = compilePolicy(policy);
      if (this.byContent.size >= this.maxEntries) this.byContent.delete(this.byContent.keys().next().value as string);
    }
    this.byContent.set(hash, compiled);
    this.byObject.set(policy, compiled);
    return compiled;
  }
}

export function compilePolicy(policy: ContentKeyPolicy): CompiledPolicy {
  const clearKeyRestrictions: CompiledRestriction[] = [];
  for (const option of policy.options) {
    if (option.configuration['@odata.type'] !== odataTypes.clearKeyConfiguration) continue;
    const type = option.restriction['@odata.type'];
    if (type === odataTypes.openRestriction) clearKeyRestrictions.push({ kind: 'open' });
    else if (type === odataTypes.tokenRestriction) {
      try {
        clearKeyRestrictions.push({ kind: 'token', token: compileTokenRestriction(option.restriction) });
      } catch (e) {
        if (!(e instanceof UnusableRestrictionError)) throw e;
        clearKeyRestrictions.push({ kind: 'unusable', reason: `option '${option.name ?? option.policyOptionId}': ${e.message}` });
      }
    } else clearKeyRestrictions.push({ kind: 'unusable', reason: `option '${option.name ?? option.policyOptionId}' has a restriction Reel cannot check` });
  }
  return { name: policy.name, clearKeyRestrictions };
}

/**
 * One request's decisions: a token is verified at most once per restriction however many keys the request asks
 * for (a ClearKey request lists several), then each key is checked against the verdict.
 */
export class KeyAccessCheck {
  private readonly verdicts = new Map<CompiledTokenRestriction, Promise<TokenVerdict>>();

  constructor(
    private readonly token: string | undefined,
    private readonly deps: TokenVerificationDeps,
  ) {}

  /**
   * Whether `key` may be delivered under `policy` (undefined: the key names no policy, or one that does not exist).
   * Any ClearKey option whose restriction passes delivers it; else the most telling refusal: 403 (a valid token
   * for another key), then 502 (the identity provider's keys could not be read), then 401, then 403 for options no
   * token can pass (a restriction Reel cannot check) or a policy without a ClearKey option.
   */
  async check(key: ContentKey, policy: CompiledPolicy | undefined): Promise<true | KeyRefusal> {
    if (!key.policyName) return { status: 403, reason: 'the content key has no content key policy' };
    if (!policy) return { status: 403, reason: `the content key policy '${key.policyName}' does not exist` };
    if (policy.clearKeyRestrictions.length === 0)
      return {
        status: 403,
        reason: `the content key policy '${policy.name}' has no ClearKey option (PlayReady, Widevine and FairPlay need a licence service)`,
      };
    const refusals: KeyRefusal[] = [];
    // Options no token can pass (a broken restriction) answer only when nothing else did: a player missing a token
    // for a working option still hears 401.
    const misconfigured: KeyRefusal[] = [];
    for (const restriction of policy.clearKeyRestrictions) {
      if (restriction.kind === 'open') return true;
      if (restriction.kind === 'unusable') {
        misconfigured.push({ status: 403, reason: restriction.reason });
        continue;
      }
      if (this.token === undefined) {
        refusals.push({ status: 401, reason: 'no token was presented' });
        continue;
      }
      let verdict = this.verdicts.get(restriction.token);
      if (!verdict) {
        verdict = verifyRestrictionToken(this.token, restriction.token, this.deps);
        this.verdicts.set(restriction.token, verdict);
      }
      const v = await verdict;
      if (v.kind === 'invalid') refusals.push({ status: 401, reason: v.reason });
      else if (v.kind === 'unverifiable') refusals.push({ status: 502, reason: v.reason });
      else {
        const allowed = tokenAllowsKey(restriction.token, v.claims, key.id);
        if (allowed === true) return true;
        refusals.push({ status: 403, reason: allowed });
      }
    }
    return mostTelling(refusals.length > 0 ? refusals : misconfigured);
  }
}

const rank = { 403: 3, 502: 2, 401: 1 } as const;

/** The refusal to answer with when no option passed (reasons of the same status are joined for the log). */
export function mostTelling(refusals: KeyRefusal[]): KeyRefusal {
  const status = refusals.reduce<KeyRefusal['status']>((best, r) => (rank[r.status] > rank[best] ? r.status : best), refusals[0].status);
  return {
    status,
    reason: [...new Set(refusals.filter((r) => r.status === status).map((r) => r.reason))].join('; '),
  };
}
