import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { login, tokenFromSession } from '../support/api.js';
import { azuriteSas, azuriteUrl } from '../support/services.js';
import { dotnetDeserializationErrors, dotnetReserialize } from '../support/dotnet-client-models.js';
import {
  dotnetClientCall,
  dotnetClientCalls,
  dotnetListUrl,
  dotnetNextPageUrl,
  dotnetRequestInit,
  fillPath,
  type DotnetClientCall,
} from '../support/dotnet-client-calls.js';

/**
 * Replays every call of MK.IO's official .NET client (test/support/dotnet-client-calls.ts) against Reel, built
 * exactly as the client builds it, and checks each answer would deserialize into the client's model
 * (test/support/dotnet-client-models.ts). See docs/CONTRACT-TESTS.md ("Replay of the .NET client") and
 * docs/DOTNET-CLIENT.md.
 */

/** Features Reel does not have (separate issues): the client must get a clean MK.IO error body. None today. */
const unsupported: Record<string, { status: number; code: string; reason: string }> = {};

/**
 * Calls that fail today because of gaps other helpers are fixing. Each entry states how it fails now (status,
 * or deserialization errors matching a pattern) and is asserted to still fail that way, so the entry must be
 * deleted once the fix is merged (the test then checks the call as supported).
 */
const pendingElsewhere: Record<string, { reason: string; status?: number; errors?: RegExp }> = {};

/** The status each supported call answers (the client accepts any 2xx; Reel's documented one is pinned). */
const expectedStatus: Record<string, number> = {
  'YourProfile.RequestNewToken': 201,
  'YourProfile.RevokeAllTokens': 200,
  'StorageAccounts.Create': 201,
  'StorageAccounts.CreateCredential': 201,
  'Assets.CreateOrUpdate': 201,
  'Transforms.CreateOrUpdate': 201,
  'Jobs.Create': 201,
  'ContentKeyPolicies.Create': 201,
  'StreamingPolicies.Create': 201,
  'StreamingLocators.Create': 201,
  'StreamingEndpoints.Create': 201,
  'AccountFilters.CreateOrUpdate': 201,
  'AssetFilters.CreateOrUpdate': 201,
  // MK.IO v1 documents 200 for a live event create and 201 for a live output create (MKIO-API.md §15, §16).
  'LiveOutputs.Create': 201,
  // Documented by MK.IO as not implemented, answering 400 (§15); the client reads the error body.
  'LiveEvents.Reset': 400,
  'LiveEvents.Allocate': 400,
  'Transforms.CreateOrUpdate [read-modify-write]': 200,
  // PUT of a content key policy creates only, in MK.IO as in Reel (MKIO-API.md §14): the client's `Create` of an
  // existing name gets 409 with an error body the client reads (`error.detail`).
  'ContentKeyPolicies.Create [existing name, read-modify-write]': 409,
  // Live outputs cannot be modified (§16): a second Create of one name gets 409 with an error body.
  'LiveOutputs.Create [existing name]': 409,
};

/** Second forms of a call the scenario sends besides the plain one (keys `<id> [<variant>]`). */
const variants: Record<string, string[]> = {
  'Account.GetSubscriptionStats': ['counters'],
  'StorageAccounts.Update': ['read-modify-write'],
  'Transforms.CreateOrUpdate': ['read-modify-write'],
  'Jobs.Update': ['read-modify-write'],
  'ContentKeyPolicies.Create': ['existing name, read-modify-write'],
  'StreamingEndpoints.Get': ['after update'],
  'StreamingEndpoints.Update': ['read-modify-write'],
  'Jobs.Create': ['inputDefinitions', 'correlationData'],
  'StreamingPolicies.Delete': ['commonEncryptionCenc', 'envelopeEncryption'],
  'StreamingPolicies.Create': ['commonEncryptionCenc', 'envelopeEncryption'],
  'StreamingEndpoints.List': ['$orderby and $filter'],
  'StreamingPolicies.List': ['$orderby and $filter'],
  'StreamingLocators.List': ['$orderby and $filter'],
  'Transforms.List': ['$orderby and $filter'],
  'ContentKeyPolicies.List': ['$orderby and $filter'],
  'Assets.List': ['$label_key, $label and $filter'],
  'LiveEvents.List': ['$orderby and $filter'],
  'LiveEvents.Update': ['read-modify-write'],
  'LiveEvents.Start': ['again, running'],
  'LiveOutputs.Create': ['existing name'],
};

interface Outcome {
  call: DotnetClientCall;
  /** The outcome's key: the call id, plus ` [variant]` for a second form of the same call. */
  key: string;
  url: string;
  status: number;
  body: unknown;
  text: string;
  /** Deserialization errors of every page (lists) or of the one response. */
  errors: string[];
  pages: number;
}

type Json = Record<string, any>;

for (const dialect of dialects) {
  describe(`MK.IO .NET client replay on ${dialect}`, () => {
    let server: TestServer;
    let base: string;
    let token: string;
    const outcomes = new Map<string, Outcome>();
    const outcomesOf = (id: string) => [...outcomes.values()].filter((o) => o.call.id === id);

    /** Sends one call as the client does and records the outcome (a list follows every @odata.nextLink). */
    async function send(
      id: string,
      params: Record<string, string> = {},
      options: {
        body?: unknown;
        query?: string;
        paging?: { orderBy?: string; filter?: string; top?: number };
        variant?: string;
        check?: (body: Json) => string[];
      } = {},
    ) {
      const call = dotnetClientCall(id);
      const key = options.variant ? `${id} [${options.variant}]` : id;
      let url = `${base}${fillPath(call.path, { subscriptionName: 'default', ...params })}${options.query ?? ''}`;
      if (call.paged) url = dotnetListUrl(url, options.paging);
      const errors: string[] = [];
      let pages = 0;
      let first: { status: number; body: unknown; text: string } | undefined;
      const items: Json[] = [];
      for (let next: string | undefined = url; next !== undefined && pages < 20;) {
        const res: Response = await fetch(next, dotnetRequestInit(call, token, options.body));
        const text = await res.text();
        let body: unknown;
        try {
          body = text.length ? JSON.parse(text) : undefined;
        } catch {
          errors.push(`page ${pages + 1}: the body is not JSON (the client parses every response): ${text.slice(0, 80)}`);
        }
        pages++;
        // CreateObjectInternalAsync waits on a 202 through these headers and crashes without them.
        if (res.status === 202 && call.body !== 'none' && !(res.headers.get('azure-asyncoperation') && /^\d+$/.test(res.headers.get('retry-after') ?? ''))) {
          errors.push('202 without Azure-AsyncOperation and a Retry-After in seconds (the client polls them)');
        }
        first ??= { status: res.status, body, text };
        if (res.ok && Array.isArray((body as Json | undefined)?.value)) items.push(...((body as Json).value as Json[]));
        if (res.status >= 200 && res.status < 300 && call.responseModel) {
          errors.push(...dotnetDeserializationErrors(call.responseModel, body).map((e) => (pages > 1 ? `page ${pages} ${e}` : e)));
        }
        const link: unknown = res.ok && call.paged ? (body as Json | undefined)?.['@odata.nextLink'] : undefined;
        if (typeof link === 'string' && !link.startsWith('/')) errors.push(`@odata.nextLink ${link} is not host-relative`);
        next = typeof link === 'string' ? dotnetNextPageUrl(base, link) : undefined;
      }
      // A `name eq '…'` filter must really filter (a silently ignored $filter would look supported).
      const only = options.paging?.filter?.match(/^name eq '([^']+)'$/)?.[1];
      // MK.IO lists the predefined streaming policies whatever the options ("the default policies will always
      // appear in the results"), ahead of the custom ones: the options apply to the rest.
      const custom = (list: Json[]) => list.filter((v) => !String(v.name).startsWith('Predefined_'));
      const names = custom(((first!.body as Json | undefined)?.value ?? []) as Json[]);
      if (only && first!.status === 200 && (names.length === 0 || names.some((v) => v.name !== only))) {
        errors.push(`$filter name eq '${only}' answered ${JSON.stringify(names.map((v) => v.name))}`);
      }
      if (options.check && first!.status === 200) errors.push(...options.check(first!.body as Json));
      // `properties/created desc` must really order, across pages.
      if (options.paging?.orderBy === 'properties/created desc') {
        const created = custom(items).map((v) => Date.parse(String(v.properties?.created)));
        if (created.some((t, i) => i > 0 && t > created[i - 1]))
          errors.push(`$orderby properties/created desc answered ${JSON.stringify(items.map((v) => v.name))}`);
      }
      const outcome: Outcome = { call, key, url, status: first!.status, body: first!.body, text: first!.text, errors, pages };
      outcomes.set(key, outcome);
      return outcome.body as Json;
    }

    before(async () => {
      server = await startTestServer(dialect);
      base = `${server.url}/`;
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      token = (await tokenFromSession(server.url, cookie)).token;

      // Account and profile: the client reads the organization and subscription ids first.
      const profile = await send('YourProfile.GetProfile');
      const stats = await send('Account.GetSubscriptionStats');
      const ids = { customerId: String(profile?.spec?.activeOrganizationId), subscriptionId: String(stats?.extra?.subscription_id) };
      await send('Account.ListAllSubscriptions', ids);
      await send('Account.GetSubscription', ids);
      await send('Account.GetSubscriptionUsage', ids);
      await send('Account.ListAllLocations');
      await send('YourProfile.ListOrganizations');
      const expireDate = new Date(Date.now() + 7 * 86_400_000).toISOString().replace(/\.(\d\d)\d*Z$/, '.$1Z');
      const newToken = await send(
        'YourProfile.RequestNewToken',
        {},
        {
          body: { description: 'replay token', expireDate, organizationId: ids.customerId, type: 'full-access' },
        },
      );
      await send('YourProfile.ListTokens');
      await send('YourProfile.GetToken', { tokenId: String(newToken?.metadata?.id) });

      // Storage accounts (legacy organization/subscription routes), on Azurite.
      const spec = {
        description: 'replay',
        location: 'local',
        name: 'replay-azure',
        type: 'Microsoft.Storage',
        azureStorageConfiguration: { url: `${azuriteUrl()}${azuriteSas()}` },
      };
      const storage = await send('StorageAccounts.Create', ids, { body: { spec } });
      const storageIds = { ...ids, storageId: String(storage?.metadata?.id) };
      await send('StorageAccounts.List', ids);
      const readStorage = await send('StorageAccounts.Get', storageIds);
      await send('StorageAccounts.Update', storageIds, {
        body: { spec: { ...spec, description: 'replay, updated', azureStorageConfiguration: { url: azuriteUrl() } } },
      });
      // Read-modify-write: `var s = Get(id); s.Spec.Description = …; Update(id, s.Spec)`.
      await send('StorageAccounts.Update', storageIds, {
        body: { spec: { ...dotnetReserialize('StorageSchema', readStorage?.spec), description: 'replay, read and written back' } },
        variant: 'read-modify-write',
      });
      await send('StorageAccounts.ListCredentials', storageIds);
      const credential = await send('StorageAccounts.CreateCredential', storageIds, { body: { spec: { azureCredential: { sasToken: azuriteSas() } } } });
      const credentialIds = { ...storageIds, credentialId: String(credential?.metadata?.id) };
      await send('StorageAccounts.GetCredential', credentialIds);

      // Assets: three, so a list with $top=1 pages through @odata.nextLink.
      const asset = (description: string) => ({ properties: { description, storageAccountName: 'local', containerDeletionPolicy: 'Retain' } });
      await send('Assets.CreateOrUpdate', { assetName: 'replay-in' }, { body: asset('replay input') });
      await send(
        'Assets.CreateOrUpdate',
        { assetName: 'replay-out' },
        {
          body: {
            labels: { kind: 'output' },
            properties: { description: 'replay output', storageAccountName: 'local', containerDeletionPolicy: 'Delete', alternateId: 'alt-1' },
          },
        },
      );
      await send('Assets.CreateOrUpdate', { assetName: 'replay-extra' }, { body: asset('replay extra') });
      await send('Assets.Get', { assetName: 'replay-in' });
      await send('Assets.List', {}, { paging: { orderBy: 'properties/created desc', top: 1 } });
      await send(
        'Assets.List',
        {},
        { query: '?$label_key=kind&$label=kind=output', paging: { filter: "name gt 'replay-i'" }, variant: '$label_key, $label and $filter' },
      );
      await send('Assets.ListTracksAndDirListing', { assetName: 'replay-in' });
      await send('Assets.GetFileAccessInfo', { assetName: 'replay-in' });

      // Transforms and jobs.
      const transform = {
        properties: {
          description: 'replay transform',
          outputs: [
            { preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' }, relativePriority: 'Normal' },
          ],
        },
      };
      await send('Transforms.CreateOrUpdate', { transformName: 'replay-transform' }, { body: transform });
      const readTransform = await send('Transforms.Get', { transformName: 'replay-transform' });
      await send(
        'Transforms.CreateOrUpdate',
        { transformName: 'replay-transform' },
        {
          body: { properties: { ...dotnetReserialize('TransformProperties', readTransform?.properties), description: 'replay transform, written back' } },
          variant: 'read-modify-write',
        },
      );
      await send('Transforms.List', {}, { paging: { top: 10 } });
      await send(
        'Transforms.List',
        {},
        { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-transform'" }, variant: '$orderby and $filter' },
      );
      const job = {
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'replay-in', files: ['movie.mp4'] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'replay-out', progress: 0, state: 'Queued' }],
          priority: 'Normal',
          state: 'Queued',
        },
      };
      const jobIds = { transformName: 'replay-transform', jobName: 'replay-job' };
      await send('Jobs.Create', jobIds, { body: job });
      // InputFile's @odata.type is the bare "InputFile" in the client (no #Microsoft.Media. prefix).
      const withDefinitions = {
        properties: { ...job.properties, input: { ...job.properties.input, inputDefinitions: [{ '@odata.type': 'InputFile', filename: 'movie.mp4' }] } },
      };
      await send('Jobs.Create', { ...jobIds, jobName: 'replay-job-2' }, { body: withDefinitions, variant: 'inputDefinitions' });
      const withCorrelation = { properties: { ...job.properties, correlationData: { tenant: 'replay', attempt: '1' } } };
      await send('Jobs.Create', { ...jobIds, jobName: 'replay-job-3' }, { body: withCorrelation, variant: 'correlationData' });
      const readJob = await send('Jobs.Get', jobIds);
      await send('Jobs.List', { transformName: 'replay-transform' }, { paging: { orderBy: 'properties/created', top: 5 } });
      await send('Jobs.ListAll', {}, { paging: { filter: "properties/state eq 'Queued'" } });
      await send('Jobs.Update', jobIds, { body: { properties: { ...job.properties, description: 'replay job, updated', priority: 'High' } } });
      await send('Jobs.Update', jobIds, {
        body: { properties: { ...dotnetReserialize('JobProperties', readJob?.properties), description: 'replay job, written back' } },
        variant: 'read-modify-write',
      });
      await send('Jobs.Cancel', jobIds);

      // Content key policy, streaming policy, locator.
      const ckp = {
        properties: {
          description: 'replay policy',
          options: [
            {
              name: 'clear-open',
              configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
          ],
        },
      };
      await send('ContentKeyPolicies.Create', { policyName: 'replay-ckp' }, { body: ckp });
      await send('ContentKeyPolicies.Get', { policyName: 'replay-ckp' });
      await send('ContentKeyPolicies.List', {}, { paging: { top: 10 } });
      await send(
        'ContentKeyPolicies.List',
        {},
        { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-ckp'" }, variant: '$orderby and $filter' },
      );
      const withSecrets = await send('ContentKeyPolicies.GetPolicyPropertiesWithSecrets', { policyName: 'replay-ckp' });
      // `var p = GetPolicyPropertiesWithSecrets(name); p.Description = …; Create(name, p)`.
      await send(
        'ContentKeyPolicies.Create',
        { policyName: 'replay-ckp' },
        {
          body: { properties: { ...dotnetReserialize('ContentKeyPolicyProperties', withSecrets?.properties), description: 'replay policy, written back' } },
          variant: 'existing name, read-modify-write',
        },
      );
      await send(
        'StreamingPolicies.Create',
        { policyName: 'replay-sp' },
        { body: { properties: { noEncryption: { enabledProtocols: { dash: true, download: false, hls: true, smoothStreaming: false } } } } },
      );
      await send('StreamingPolicies.Get', { policyName: 'replay-sp' });
      const protocols = { dash: true, download: false, hls: true, smoothStreaming: false };
      const keys = { defaultKey: { label: 'replay', policyName: 'replay-ckp' } };
      await send(
        'StreamingPolicies.Create',
        { policyName: 'replay-sp-cenc' },
        {
          body: {
            properties: {
              defaultContentKeyPolicyName: 'replay-ckp',
              commonEncryptionCenc: { enabledProtocols: protocols, contentKeys: keys, drm: { playReady: {}, widevine: {} } },
            },
          },
          variant: 'commonEncryptionCenc',
        },
      );
      await send(
        'StreamingPolicies.Create',
        { policyName: 'replay-sp-env' },
        {
          body: { properties: { defaultContentKeyPolicyName: 'replay-ckp', envelopeEncryption: { enabledProtocols: protocols, contentKeys: keys } } },
          variant: 'envelopeEncryption',
        },
      );
      await send('StreamingPolicies.List', {}, { paging: { orderBy: 'properties/created desc', top: 2 } });
      await send(
        'StreamingPolicies.List',
        {},
        { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-sp'" }, variant: '$orderby and $filter' },
      );
      await send(
        'StreamingLocators.Create',
        { locatorName: 'replay-loc' },
        { body: { properties: { assetName: 'replay-in', streamingPolicyName: 'Predefined_ClearStreamingOnly' } } },
      );
      await send('StreamingLocators.Get', { locatorName: 'replay-loc' });
      await send('StreamingLocators.List', {}, { paging: { top: 10 } });
      await send(
        'StreamingLocators.List',
        {},
        { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-loc'" }, variant: '$orderby and $filter' },
      );
      await send('StreamingLocators.ListUrlPaths', { locatorName: 'replay-loc' });
      await send('StreamingLocators.ListContentKeys', { locatorName: 'replay-loc' });
      await send('Assets.ListStreamingLocators', { assetName: 'replay-in' });

      // Streaming endpoint.
      const endpoint = { endpointName: 'replay-se' };
      // The client fills in `sku` (Standard is the enum default, left out; capacity 600) and `scaleUnits`, and its
      // properties class initialises `cdnEnabled` to false and `urlStyle` to "AMS"; `tags` is never null.
      await send('StreamingEndpoints.Create', endpoint, {
        query: '?autoStart=False',
        body: {
          location: 'local',
          properties: { cdnEnabled: false, description: 'replay endpoint', scaleUnits: 0, sku: { capacity: 600 }, urlStyle: 'AMS' },
          tags: { team: 'replay' },
        },
      });
      await send('StreamingEndpoints.Get', endpoint);
      await send('StreamingEndpoints.List', {}, { paging: { top: 10 } });
      await send(
        'StreamingEndpoints.List',
        {},
        { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-se'" }, variant: '$orderby and $filter' },
      );
      await send('StreamingEndpoints.Update', endpoint, {
        body: { location: 'local', properties: { cdnEnabled: false, description: 'replay endpoint, updated', maxCacheAge: 60, urlStyle: 'AMS' }, tags: {} },
      });
      const readEndpoint = await send('StreamingEndpoints.Get', endpoint, { variant: 'after update' });
      await send('StreamingEndpoints.Update', endpoint, {
        body: {
          location: readEndpoint?.location,
          properties: { ...dotnetReserialize('StreamingEndpointProperties', readEndpoint?.properties), description: 'replay endpoint, written back' },
          tags: readEndpoint?.tags ?? {},
        },
        variant: 'read-modify-write',
      });
      await send('StreamingEndpoints.Scale', endpoint, { body: { scaleUnit: 1 } });
      await send('StreamingEndpoints.Start', endpoint);
      await send('StreamingEndpoints.Stop', endpoint);

      // The counters the client shows, now that there is something to count.
      await send(
        'Account.GetSubscriptionStats',
        {},
        {
          variant: 'counters',
          check: (stats) => {
            const want: [string, (n: number) => boolean, string][] = [
              ['assets.total', (n) => n === 3, '3'],
              ['contentKeyPolicies.total', (n) => n === 1, '1'],
              ['streamingLocators.total', (n) => n === 1, '1'],
              ['streamingPolicies.total', (n) => n >= 3, '≥ 3'],
              ['streamingEndpoints.total', (n) => n === 2, '2 (default and replay-se)'],
              ['storageAccounts.total', (n) => n >= 2, '≥ 2'],
            ];
            return want.flatMap(([path, ok, text]) => {
              const [a, b] = path.split('.') as [string, string];
              const n = (stats[a] as Json | undefined)?.[b] as number;
              return ok(n) ? [] : [`stats ${path} is ${n}, expected ${text}`];
            });
          },
        },
      );

      // Live events and live outputs, as the client's own live sample builds them (LiveEventProperties with an
      // RTMP input, one stream option and an encoding type; LiveOutputProperties with a window and an asset).
      const le = { liveEventName: 'replay-live' };
      const liveEvent = {
        location: 'local',
        properties: { encoding: { encodingType: 'PassthroughBasic' }, input: { streamingProtocol: 'RTMP' }, streamOptions: ['Default'] },
        tags: { show: 'replay' },
      };
      await send('LiveEvents.Create', le, { body: liveEvent });
      const readEvent = await send('LiveEvents.Get', le);
      await send('LiveEvents.List', {}, { paging: { top: 10 } });
      await send('LiveEvents.List', {}, { paging: { orderBy: 'properties/created desc', filter: "name eq 'replay-live'" }, variant: '$orderby and $filter' });
      // MK.IO lets a PATCH change `pipeline` only; the same settings sent back are accepted.
      await send('LiveEvents.Update', le, {
        body: { ...liveEvent, properties: { ...liveEvent.properties, pipeline: { name: 'Predefined_ACSLiveTranscription' } } },
      });
      await send('LiveEvents.Update', le, { body: dotnetReserialize('LiveEventSchema', readEvent), variant: 'read-modify-write' });
      await send('LiveEvents.Allocate', le);
      await send('LiveEvents.Reset', le);
      await send('LiveEvents.Start', le);
      await send('LiveEvents.Start', le, { variant: 'again, running' });
      const lo = { ...le, liveOutputName: 'replay-output' };
      const liveOutput = { properties: { archiveWindowLength: 'PT5M', assetName: 'replay-out' } };
      await send('LiveOutputs.Create', lo, { body: liveOutput });
      await send('LiveOutputs.Create', lo, { body: liveOutput, variant: 'existing name' });
      await send('LiveOutputs.Get', lo);
      await send('LiveOutputs.List', le, { paging: { orderBy: 'properties/created desc', top: 10 } });
      await send('LiveOutputs.Delete', lo);
      await send('LiveEvents.Stop', le);
      await send('LiveEvents.Delete', le);
      const filter = { properties: { presentationTimeRange: { startTimestamp: 0, timescale: 10_000_000 } } };
      await send('AccountFilters.CreateOrUpdate', { filterName: 'replay-filter' }, { body: filter });
      await send('AccountFilters.Get', { filterName: 'replay-filter' });
      await send('AccountFilters.List');
      await send('AccountFilters.Delete', { filterName: 'replay-filter' });
      const af = { assetName: 'replay-in', filterName: 'replay-filter' };
      await send('AssetFilters.CreateOrUpdate', af, { body: filter });
      await send('AssetFilters.Get', af);
      await send('AssetFilters.List', { assetName: 'replay-in' });
      await send('AssetFilters.Delete', af);

      // Deletes, dependants first; revoking every token of the user comes last.
      await send('StreamingEndpoints.Delete', endpoint);
      await send('StreamingLocators.Delete', { locatorName: 'replay-loc' });
      await send('StreamingPolicies.Delete', { policyName: 'replay-sp' });
      await send('StreamingPolicies.Delete', { policyName: 'replay-sp-cenc' }, { variant: 'commonEncryptionCenc' });
      await send('StreamingPolicies.Delete', { policyName: 'replay-sp-env' }, { variant: 'envelopeEncryption' });
      await send('ContentKeyPolicies.Delete', { policyName: 'replay-ckp' });
      await send('Jobs.Delete', jobIds);
      await send('Transforms.Delete', { transformName: 'replay-transform' });
      await send('Assets.Delete', { assetName: 'replay-extra' });
      await send('StorageAccounts.DeleteCredential', credentialIds);
      await send('StorageAccounts.Delete', storageIds);
      await send('YourProfile.RevokeAllTokens');
    });
    after(async () => server?.close());

    it('exercises every call of the inventory and prints a per-call summary', () => {
      const rows = dotnetClientCalls
        .flatMap((call) => (outcomesOf(call.id).length ? outcomesOf(call.id) : [undefined]).map((o) => ({ call, o })))
        .map(({ call, o }) => {
          const key = o?.key ?? call.id;
          const verdict = unsupported[call.id] ? 'unsupported' : pendingElsewhere[key] ? 'pending elsewhere' : 'supported';
          const firstError =
            o?.errors[0] ??
            (o && o.status >= 400
              ? `${(o.body as Json | undefined)?.error?.code ?? ''} ${String((o.body as Json | undefined)?.error?.detail ?? '').slice(0, 60)}`
              : '');
          return `${key.padEnd(60)} ${call.method.padEnd(6)} ${String(o?.status ?? '-').padEnd(4)} ${String(o?.pages ?? 0).padEnd(2)} ${verdict.padEnd(17)} ${firstError}`;
        });
      console.log(
        `\n.NET client replay on ${dialect} (${dotnetClientCalls.length} calls)\n${'call'.padEnd(60)} method status pages verdict           first problem\n${rows.join('\n')}\n`,
      );
      assert.deepEqual(
        dotnetClientCalls.filter((c) => !outcomes.has(c.id)).map((c) => c.id),
        [],
        'every call of the inventory is replayed',
      );
    });

    for (const call of dotnetClientCalls) {
      for (const key of [call.id, ...(variants[call.id] ?? []).map((v) => `${call.id} [${v}]`)]) {
        const u = unsupported[call.id];
        const p = pendingElsewhere[key];
        const label = u ? `unsupported: ${u.reason}` : p ? `pending elsewhere: ${p.reason}` : 'supported';
        it(`${key}: ${call.method} ${call.path} (${label})`, () => {
          const o = outcomes.get(key);
          assert.ok(o, `${key} was not replayed`);
          const detail = `${call.method} ${o.url} → ${o.status} ${o.text.slice(0, 400)}\n${o.errors.join('\n')}`;
          if (u) {
            assert.equal(o.status, u.status, detail);
            assert.equal((o.body as Json)?.error?.code, u.code, detail);
            assert.equal(typeof (o.body as Json)?.error?.detail, 'string', detail);
          } else if (p) {
            const failsAsToday = (p.status === undefined || o.status === p.status) && (p.errors === undefined || o.errors.some((e) => p.errors!.test(e)));
            assert.ok(failsAsToday, `pendingElsewhere entry no longer matches (fixed? then delete the entry): ${detail}`);
          } else {
            const status = expectedStatus[key] ?? expectedStatus[call.id] ?? 200;
            assert.equal(o.status, status, detail);
            assert.deepEqual(o.errors, [], detail);
            if (status >= 400) assert.equal(typeof (o.body as Json)?.error?.detail, 'string', detail);
          }
        });
      }
    }
  });
}
