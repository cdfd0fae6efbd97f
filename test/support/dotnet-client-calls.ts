// Every distinct HTTP call MK.IO's official .NET client (github.com/microsoft/MK.IO at e01766b) can make, and how
// it builds the request: URL templates relative to its base URL, query parameters as `AddParametersToUrl` writes
// them, the headers HttpClient sends, and the model its body is serialized from and its response read into.
// Read from MK.IO/*/*Operations.cs and MK.IO/MKIOClient.cs; only the wire shapes are recorded here.
//
// Request forms (MKIOClient):
// - `GetObjectContentAsync` / `ObjectContentAsync(url, method)`: no content. Headers `Accept: application/json`
//   (HttpClient default) and `Authorization: Bearer <token>`. A POST without content goes out with
//   `Content-Length: 0` and no Content-Type (`body: 'none'`).
// - `CreateObjectPutAsync` / `CreateObjectPostAsync` / `UpdateObjectPatchAsync(url, json)`: `StringContent(json,
//   UTF8, "application/json")`, i.e. `Content-Type: application/json; charset=utf-8` (`body: 'json'`). The JSON is
//   `JsonConvert.SerializeObject(model, ConverterLE.Settings)` (or the model's `ToJson()`, the same settings):
//   indented, nulls left out, DateTime as `yyyy-MM-ddTHH:mm:ss.ffZ`, TimeSpan as ISO 8601, enums by name;
//   getter-only `@odata.type` members are written; `[DataMember(EmitDefaultValue = false)]` members that hold
//   their type's default are left out, while non-default initialisers (`State = Queued`, `Priority = Normal`,
//   `Progress = 0` on an `int?`) are written.
// - `CreateObjectPostAsync(url, string.Empty)`: an empty body with that same Content-Type (`body: 'empty'`).
// - Lists (`ListAsPage…`): `$orderby`, `$filter`, `$top` appended in that order (assets first add `$label_key` and
//   `$label`, once per value), each as `Uri.EscapeUriString(name=value)` after `?` or `&`. `List…` (all pages)
//   follows `@odata.nextLink`: the link is `WebUtility.UrlDecode`d and appended to the base URL without its
//   trailing slash, so it must be host-relative (`/api/ams/...`).
// - Names are formatted into the templates as given (no escaping). `{customerId}` is the profile's
//   `spec.activeOrganizationId` (GET api/v1/user/profile) and `{subscriptionId}` the stats' `extra.subscription_id`
//   (GET api/ams/{subscriptionName}/stats/); the client fetches both before its first `api/accounts/…` call.

export type DotnetMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
export type DotnetBody = 'none' | 'empty' | 'json';

export interface DotnetClientCall {
  /** `<Operations group>.<method>` as in the client's interfaces, e.g. `Assets.CreateOrUpdate`. */
  id: string;
  method: DotnetMethod;
  /** Relative to the client's base URL (`https://api.mk.io/`), with `{placeholders}`. */
  path: string;
  /** Query the client adds besides list paging, as it writes it. */
  query?: string;
  /** A paged list: `$orderby`/`$filter`/`$top` and `@odata.nextLink` following (see the file comment). */
  paged?: boolean;
  body: DotnetBody;
  /** The client model serialized into the body. */
  requestModel?: string;
  /** The client model the response is read into; absent when the client ignores the body. */
  responseModel?: string;
}

const L = 'api/ams/{subscriptionName}';
const S = 'api/accounts/{customerId}/subscriptions/{subscriptionId}';

/** The calls, one per distinct (method, URL template, body form). */
export const dotnetClientCalls: readonly DotnetClientCall[] = [
  // Account (AccountOperations)
  { id: 'Account.GetSubscriptionStats', method: 'GET', path: `${L}/stats/`, body: 'none', responseModel: 'AccountStats' },
  {
    id: 'Account.ListAllSubscriptions',
    method: 'GET',
    path: 'api/accounts/{customerId}/subscriptions/',
    body: 'none',
    responseModel: 'SubscriptionListResponseSchema',
  },
  { id: 'Account.GetSubscription', method: 'GET', path: `${S}/`, body: 'none', responseModel: 'SubscriptionResponseSchema' },
  { id: 'Account.GetSubscriptionUsage', method: 'GET', path: `${S}/usage/`, body: 'none', responseModel: 'SubscriptionMeterUsageListResponseSchema' },
  { id: 'Account.ListAllLocations', method: 'GET', path: 'api/locations/', body: 'none', responseModel: 'LocationListResponseSchema' },
  // Management.YourProfile (YourProfileOperations)
  { id: 'YourProfile.GetProfile', method: 'GET', path: 'api/v1/user/profile', body: 'none', responseModel: 'ProfileGetSchemaV1' },
  { id: 'YourProfile.ListOrganizations', method: 'GET', path: 'api/v1/user/organizations', body: 'none', responseModel: 'UserOrganizationsListSchema' },
  { id: 'YourProfile.GetToken', method: 'GET', path: 'api/v1/user/tokens/{tokenId}', body: 'none', responseModel: 'UserTokenSchema' },
  { id: 'YourProfile.ListTokens', method: 'GET', path: 'api/v1/user/tokens', body: 'none', responseModel: 'UserTokenListSchema' },
  {
    id: 'YourProfile.RequestNewToken',
    method: 'POST',
    path: 'api/v1/user/tokens',
    body: 'json',
    requestModel: 'CreateTokenSchema',
    responseModel: 'UserTokenWithSecretSchema',
  },
  { id: 'YourProfile.RevokeAllTokens', method: 'DELETE', path: 'api/v1/user/tokens', body: 'none' },
  // StorageAccounts (StorageAccountsOperations)
  {
    id: 'StorageAccounts.Create',
    method: 'POST',
    path: `${S}/storage/`,
    body: 'json',
    requestModel: 'StorageRequestSchema',
    responseModel: 'StorageResponseSchema',
  },
  { id: 'StorageAccounts.List', method: 'GET', path: `${S}/storage/`, body: 'none', responseModel: 'StorageListResponseSchema' },
  { id: 'StorageAccounts.Get', method: 'GET', path: `${S}/storage/{storageId}/`, body: 'none', responseModel: 'StorageResponseSchema' },
  {
    id: 'StorageAccounts.Update',
    method: 'PUT',
    path: `${S}/storage/{storageId}/`,
    body: 'json',
    requestModel: 'StorageRequestSchema',
    responseModel: 'StorageResponseSchema',
  },
  { id: 'StorageAccounts.Delete', method: 'DELETE', path: `${S}/storage/{storageId}/`, body: 'none' },
  {
    id: 'StorageAccounts.ListCredentials',
    method: 'GET',
    path: `${S}/storage/{storageId}/credentials/`,
    body: 'none',
    responseModel: 'CredentialListReponseSchema',
  },
  {
    id: 'StorageAccounts.GetCredential',
    method: 'GET',
    path: `${S}/storage/{storageId}/credentials/{credentialId}/`,
    body: 'none',
    responseModel: 'CredentialResponseSchema',
  },
  {
    id: 'StorageAccounts.CreateCredential',
    method: 'POST',
    path: `${S}/storage/{storageId}/credentials/`,
    body: 'json',
    requestModel: 'CredentialRequestSchema',
    responseModel: 'CredentialResponseSchema',
  },
  { id: 'StorageAccounts.DeleteCredential', method: 'DELETE', path: `${S}/storage/{storageId}/credentials/{credentialId}/`, body: 'none' },
  // Assets (AssetsOperations)
  {
    id: 'Assets.List',
    method: 'GET',
    path: `${L}/assets`,
    query: '$label_key=…&$label=… (each value once), then paging',
    paged: true,
    body: 'none',
    responseModel: 'AssetListResponseSchema',
  },
  { id: 'Assets.Get', method: 'GET', path: `${L}/assets/{assetName}`, body: 'none', responseModel: 'AssetSchema' },
  { id: 'Assets.CreateOrUpdate', method: 'PUT', path: `${L}/assets/{assetName}`, body: 'json', requestModel: 'AssetSchema', responseModel: 'AssetSchema' },
  { id: 'Assets.Delete', method: 'DELETE', path: `${L}/assets/{assetName}`, body: 'none' },
  {
    id: 'Assets.ListStreamingLocators',
    method: 'POST',
    path: `${L}/assets/{assetName}/listStreamingLocators`,
    body: 'none',
    responseModel: 'AssetListStreamingLocators',
  },
  { id: 'Assets.ListTracksAndDirListing', method: 'GET', path: `${L}/assets/{assetName}/storage/`, body: 'none', responseModel: 'AssetStorageResponseSchema' },
  {
    id: 'Assets.GetFileAccessInfo',
    method: 'POST',
    path: `${L}/assets/{assetName}/getFileAccessInfo`,
    body: 'empty',
    responseModel: 'AssetFileAccessInfoSchema',
  },
  // AccountFilters (AccountFiltersOperations)
  { id: 'AccountFilters.List', method: 'GET', path: `${L}/accountFilters`, paged: true, body: 'none', responseModel: 'AccountFilterListResponseSchema' },
  { id: 'AccountFilters.Get', method: 'GET', path: `${L}/accountFilters/{filterName}`, body: 'none', responseModel: 'AccountFilterSchema' },
  {
    id: 'AccountFilters.CreateOrUpdate',
    method: 'PUT',
    path: `${L}/accountFilters/{filterName}`,
    body: 'json',
    requestModel: 'AccountFilterSchema',
    responseModel: 'AccountFilterSchema',
  },
  { id: 'AccountFilters.Delete', method: 'DELETE', path: `${L}/accountFilters/{filterName}`, body: 'none' },
  // AssetFilters (AssetFiltersOperations): the list is `assetFilters`, the item routes `filters/{name}`.
  {
    id: 'AssetFilters.List',
    method: 'GET',
    path: `${L}/assets/{assetName}/assetFilters`,
    paged: true,
    body: 'none',
    responseModel: 'AssetFilterListResponseSchema',
  },
  { id: 'AssetFilters.Get', method: 'GET', path: `${L}/assets/{assetName}/filters/{filterName}`, body: 'none', responseModel: 'AssetFilterSchema' },
  {
    id: 'AssetFilters.CreateOrUpdate',
    method: 'PUT',
    path: `${L}/assets/{assetName}/filters/{filterName}`,
    body: 'json',
    requestModel: 'AssetFilterSchema',
    responseModel: 'AssetFilterSchema',
  },
  { id: 'AssetFilters.Delete', method: 'DELETE', path: `${L}/assets/{assetName}/filters/{filterName}`, body: 'none' },
  // ContentKeyPolicies (ContentKeyPoliciesOperations)
  {
    id: 'ContentKeyPolicies.List',
    method: 'GET',
    path: `${L}/contentKeyPolicies`,
    paged: true,
    body: 'none',
    responseModel: 'ContentKeyPolicyListResponseSchema',
  },
  { id: 'ContentKeyPolicies.Get', method: 'GET', path: `${L}/contentKeyPolicies/{policyName}`, body: 'none', responseModel: 'ContentKeyPolicySchema' },
  {
    id: 'ContentKeyPolicies.Create',
    method: 'PUT',
    path: `${L}/contentKeyPolicies/{policyName}`,
    body: 'json',
    requestModel: 'ContentKeyPolicySchema',
    responseModel: 'ContentKeyPolicySchema',
  },
  { id: 'ContentKeyPolicies.Delete', method: 'DELETE', path: `${L}/contentKeyPolicies/{policyName}`, body: 'none' },
  {
    id: 'ContentKeyPolicies.GetPolicyPropertiesWithSecrets',
    method: 'POST',
    path: `${L}/contentKeyPolicies/{policyName}/getPolicyPropertiesWithSecrets`,
    body: 'none',
    responseModel: 'ContentKeyPolicySchema',
  },
  // Jobs (JobsOperations)
  { id: 'Jobs.ListAll', method: 'GET', path: `${L}/jobs`, paged: true, body: 'none', responseModel: 'JobListResponseSchema' },
  { id: 'Jobs.List', method: 'GET', path: `${L}/transforms/{transformName}/jobs`, paged: true, body: 'none', responseModel: 'JobListResponseSchema' },
  { id: 'Jobs.Get', method: 'GET', path: `${L}/transforms/{transformName}/jobs/{jobName}`, body: 'none', responseModel: 'JobSchema' },
  {
    id: 'Jobs.Create',
    method: 'PUT',
    path: `${L}/transforms/{transformName}/jobs/{jobName}`,
    body: 'json',
    requestModel: 'JobSchema',
    responseModel: 'JobSchema',
  },
  {
    id: 'Jobs.Update',
    method: 'PATCH',
    path: `${L}/transforms/{transformName}/jobs/{jobName}`,
    body: 'json',
    requestModel: 'JobSchema',
    responseModel: 'JobSchema',
  },
  { id: 'Jobs.Cancel', method: 'POST', path: `${L}/transforms/{transformName}/jobs/{jobName}/cancelJob`, body: 'none' },
  { id: 'Jobs.Delete', method: 'DELETE', path: `${L}/transforms/{transformName}/jobs/{jobName}`, body: 'none' },
  // LiveEvents (LiveEventsOperations)
  { id: 'LiveEvents.List', method: 'GET', path: `${L}/liveEvents`, paged: true, body: 'none', responseModel: 'LiveEventListResponseSchema' },
  { id: 'LiveEvents.Get', method: 'GET', path: `${L}/liveEvents/{liveEventName}`, body: 'none', responseModel: 'LiveEventSchema' },
  {
    id: 'LiveEvents.Create',
    method: 'PUT',
    path: `${L}/liveEvents/{liveEventName}`,
    body: 'json',
    requestModel: 'LiveEventSchema',
    responseModel: 'LiveEventSchema',
  },
  {
    id: 'LiveEvents.Update',
    method: 'PATCH',
    path: `${L}/liveEvents/{liveEventName}`,
    body: 'json',
    requestModel: 'LiveEventSchema',
    responseModel: 'LiveEventSchema',
  },
  { id: 'LiveEvents.Delete', method: 'DELETE', path: `${L}/liveEvents/{liveEventName}`, body: 'none' },
  { id: 'LiveEvents.Start', method: 'POST', path: `${L}/liveEvents/{liveEventName}/start`, body: 'none' },
  { id: 'LiveEvents.Stop', method: 'POST', path: `${L}/liveEvents/{liveEventName}/stop`, body: 'none' },
  { id: 'LiveEvents.Reset', method: 'POST', path: `${L}/liveEvents/{liveEventName}/reset`, body: 'none' },
  { id: 'LiveEvents.Allocate', method: 'POST', path: `${L}/liveEvents/{liveEventName}/allocate`, body: 'none' },
  // LiveOutputs (LiveOutputsOperations)
  {
    id: 'LiveOutputs.List',
    method: 'GET',
    path: `${L}/liveEvents/{liveEventName}/liveOutputs`,
    paged: true,
    body: 'none',
    responseModel: 'LiveOutputListResponseSchema',
  },
  {
    id: 'LiveOutputs.Get',
    method: 'GET',
    path: `${L}/liveEvents/{liveEventName}/liveOutputs/{liveOutputName}`,
    body: 'none',
    responseModel: 'LiveOutputSchema',
  },
  {
    id: 'LiveOutputs.Create',
    method: 'PUT',
    path: `${L}/liveEvents/{liveEventName}/liveOutputs/{liveOutputName}`,
    body: 'json',
    requestModel: 'LiveOutputSchema',
    responseModel: 'LiveOutputSchema',
  },
  { id: 'LiveOutputs.Delete', method: 'DELETE', path: `${L}/liveEvents/{liveEventName}/liveOutputs/{liveOutputName}`, body: 'none' },
  // StreamingEndpoints (StreamingEndpointsOperations)
  {
    id: 'StreamingEndpoints.List',
    method: 'GET',
    path: `${L}/streamingEndpoints`,
    paged: true,
    body: 'none',
    responseModel: 'StreamingEndpointListResponseSchema',
  },
  { id: 'StreamingEndpoints.Get', method: 'GET', path: `${L}/streamingEndpoints/{endpointName}`, body: 'none', responseModel: 'StreamingEndpointSchema' },
  {
    id: 'StreamingEndpoints.Create',
    method: 'PUT',
    path: `${L}/streamingEndpoints/{endpointName}`,
    query: '?autoStart=True | ?autoStart=False (bool.ToString())',
    body: 'json',
    requestModel: 'StreamingEndpointSchema',
    responseModel: 'StreamingEndpointSchema',
  },
  {
    id: 'StreamingEndpoints.Update',
    method: 'PATCH',
    path: `${L}/streamingEndpoints/{endpointName}`,
    body: 'json',
    requestModel: 'StreamingEndpointSchema',
    responseModel: 'StreamingEndpointSchema',
  },
  {
    id: 'StreamingEndpoints.Scale',
    method: 'POST',
    path: `${L}/streamingEndpoints/{endpointName}/scale`,
    body: 'json',
    requestModel: 'StreamingEndpointScaleSchema',
  },
  { id: 'StreamingEndpoints.Start', method: 'POST', path: `${L}/streamingEndpoints/{endpointName}/start`, body: 'none' },
  { id: 'StreamingEndpoints.Stop', method: 'POST', path: `${L}/streamingEndpoints/{endpointName}/stop`, body: 'none' },
  { id: 'StreamingEndpoints.Delete', method: 'DELETE', path: `${L}/streamingEndpoints/{endpointName}`, body: 'none' },
  // StreamingLocators (StreamingLocatorsOperations)
  {
    id: 'StreamingLocators.List',
    method: 'GET',
    path: `${L}/streamingLocators`,
    paged: true,
    body: 'none',
    responseModel: 'StreamingLocatorListResponseSchema',
  },
  { id: 'StreamingLocators.Get', method: 'GET', path: `${L}/streamingLocators/{locatorName}`, body: 'none', responseModel: 'StreamingLocatorSchema' },
  {
    id: 'StreamingLocators.Create',
    method: 'PUT',
    path: `${L}/streamingLocators/{locatorName}`,
    body: 'json',
    requestModel: 'StreamingLocatorSchema',
    responseModel: 'StreamingLocatorSchema',
  },
  { id: 'StreamingLocators.Delete', method: 'DELETE', path: `${L}/streamingLocators/{locatorName}`, body: 'none' },
  {
    id: 'StreamingLocators.ListUrlPaths',
    method: 'POST',
    path: `${L}/streamingLocators/{locatorName}/listPaths`,
    body: 'none',
    responseModel: 'StreamingLocatorListPathsResponseSchema',
  },
  {
    id: 'StreamingLocators.ListContentKeys',
    method: 'POST',
    path: `${L}/streamingLocators/{locatorName}/listContentKeys`,
    body: 'none',
    responseModel: 'StreamingLocatorListContentKeysResponseSchema',
  },
  // StreamingPolicies (StreamingPoliciesOperations)
  {
    id: 'StreamingPolicies.List',
    method: 'GET',
    path: `${L}/streamingPolicies`,
    paged: true,
    body: 'none',
    responseModel: 'StreamingPolicyListResponseSchema',
  },
  { id: 'StreamingPolicies.Get', method: 'GET', path: `${L}/streamingPolicies/{policyName}`, body: 'none', responseModel: 'StreamingPolicySchema' },
  {
    id: 'StreamingPolicies.Create',
    method: 'PUT',
    path: `${L}/streamingPolicies/{policyName}`,
    body: 'json',
    requestModel: 'StreamingPolicySchema',
    responseModel: 'StreamingPolicySchema',
  },
  { id: 'StreamingPolicies.Delete', method: 'DELETE', path: `${L}/streamingPolicies/{policyName}`, body: 'none' },
  // Transforms (TransformsOperations)
  { id: 'Transforms.List', method: 'GET', path: `${L}/transforms`, paged: true, body: 'none', responseModel: 'TransformListResponseSchema' },
  { id: 'Transforms.Get', method: 'GET', path: `${L}/transforms/{transformName}`, body: 'none', responseModel: 'TransformSchema' },
  {
    id: 'Transforms.CreateOrUpdate',
    method: 'PUT',
    path: `${L}/transforms/{transformName}`,
    body: 'json',
    requestModel: 'TransformSchema',
    responseModel: 'TransformSchema',
  },
  { id: 'Transforms.Delete', method: 'DELETE', path: `${L}/transforms/{transformName}`, body: 'none' },
];

export function dotnetClientCall(id: string): DotnetClientCall {
  const call = dotnetClientCalls.find((c) => c.id === id);
  if (!call) throw new Error(`no .NET client call ${id}`);
  return call;
}

/** `AddParametersToUrl`: `?` for the first parameter, `&` after, `Uri.EscapeUriString(name=value)`. */
export function addParametersToUrl(url: string, name: string, value: string | readonly string[] | undefined): string {
  if (value === undefined) return url;
  if (typeof value !== 'string') return value.reduce<string>((u, v) => addParametersToUrl(u, name, v), url);
  const hasQuery = new URL(url).search.length > 1;
  return `${url}${hasQuery ? '&' : '?'}${encodeURI(`${name}=${value}`)}`;
}

/** The URL a paged list call asks for: the template filled in, then `$orderby`, `$filter`, `$top`. */
export function dotnetListUrl(url: string, paging: { orderBy?: string; filter?: string; top?: number } = {}): string {
  url = addParametersToUrl(url, '$orderby', paging.orderBy);
  url = addParametersToUrl(url, '$filter', paging.filter);
  return addParametersToUrl(url, '$top', paging.top === undefined ? undefined : String(paging.top));
}

/** `ListAsPageNextAsync`: base URL without its trailing slash + `WebUtility.UrlDecode(@odata.nextLink)`. */
export function dotnetNextPageUrl(baseUrl: string, nextLink: string): string {
  return `${baseUrl.replace(/\/$/, '')}${decodeURIComponent(nextLink.replace(/\+/g, ' '))}`;
}

/** Fills `{placeholder}`s as `string.Format` does: verbatim. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = params[k];
    if (v === undefined) throw new Error(`no value for {${k}} in ${path}`);
    return v;
  });
}

/** Newtonsoft's `Formatting.Indented` with the client's settings: nulls left out. */
export function dotnetJson(model: unknown): string {
  return JSON.stringify(model, (_k, v: unknown) => (v === null ? undefined : v), 2);
}

/**
 * The request HttpClient sends for `call`: the headers exactly as the client sets them, and the body in the
 * call's form (`json` bodies go through `dotnetJson`).
 */
export function dotnetRequestInit(call: DotnetClientCall, token: string, body?: unknown): RequestInit {
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (call.body === 'none') return { method: call.method, headers };
  headers['Content-Type'] = 'application/json; charset=utf-8';
  if (call.body === 'empty') return { method: call.method, headers, body: '' };
  if (body === undefined) throw new Error(`${call.id} sends a ${call.requestModel} body`);
  return { method: call.method, headers, body: dotnetJson(body) };
}
