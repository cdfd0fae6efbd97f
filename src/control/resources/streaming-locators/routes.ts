import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import {
  contentKeysResponse,
  locatorListResponse,
  locatorProperties,
  locatorPutBody,
  locatorResponse,
  locatorStateResponse,
  pathsResponse,
  streamingLocatorName,
  toWireLocator,
} from './schema.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { downloadableFiles, manifestNameOf } from '../../../shared/asset-layout.js';
import { notFound } from '../../../shared/errors.js';
import { locatorListFields, type StreamingLocatorService } from './service.js';
import type { AssetService } from '../assets/service.js';
import type { StreamingPolicyService } from '../streaming-policies/service.js';
import { policySchemes } from '../../../shared/streaming-policies.js';
import { secretsAction } from '../../auth/principal.js';
import { drmOf, streamingPathsOf } from './paths.js';

const params = Type.Object({ project: Type.String(), name: streamingLocatorName });
const cap = (action: string) => ({ capability: { group: 'ams.streamingLocator', action } });

export function registerStreamingLocatorRoutes(
  app: FastifyInstance,
  deps: { locators: StreamingLocatorService; assets: AssetService; policies: StreamingPolicyService },
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { locators, assets, policies } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/streamingLocators', { config: cap('read'), schema: { response: { 200: locatorListResponse } } }, async (req) => {
    const { request, page } = locatorListFields.parse(req.query as ListQuery);
    const { items, total } = await locators.page(project(req).id, page);
    return listBody({ kind: 'StreamingLocator', items: items.map((row) => toWireLocator(row, project(req))), total, request, url: req.url });
  });
  r.get('/streamingLocators/:name', { config: cap('read'), schema: { params, response: { 200: locatorResponse } } }, async (req) =>
    toWireLocator(await locators.get(project(req).id, req.params.name), project(req)),
  );
  r.get('/streamingLocators/:name/state', { config: cap('read'), schema: { params, response: { 200: locatorStateResponse } } }, async (req) => {
    await locators.get(project(req).id, req.params.name);
    return { status: { state: 'Created' } };
  });
  r.put(
    '/streamingLocators/:name',
    { config: cap('create'), schema: { params, body: locatorPutBody, response: { 200: locatorResponse, 201: locatorResponse } } },
    async (req, reply) => {
      const {
        assetName,
        streamingPolicyName,
        streamingLocatorId,
        startTime,
        endTime,
        created: _c,
        provisioningState: _p,
        resourceState: _r,
        contentKeys,
        ...extra
      } = req.body.properties;
      const { row, created } = await locators.put(
        project(req).id,
        req.params.name,
        { assetName, streamingPolicyName, streamingLocatorId, startTime, endTime, contentKeys, extra },
        req.principal!,
      );
      return reply.code(created ? 201 : 200).send(toWireLocator(row, project(req)));
    },
  );
  r.delete('/streamingLocators/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await locators.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
  /** The keys with their values (§13.2): only for callers who may read secrets (not Readers, not restricted tokens without it). */
  r.post(
    '/streamingLocators/:name/listContentKeys',
    { config: cap(secretsAction), schema: { params, response: { 200: contentKeysResponse } } },
    async (req, reply) => {
      const contentKeys = (await locators.contentKeys(project(req).id, req.params.name)).map((k) => ({ ...k, tracks: [] }));
      // Key material: no shared or browser cache may keep a copy.
      return reply.header('cache-control', 'no-store').send({ contentKeys });
    },
  );

  /** Playback paths (§13.1): host-less, starting with the locator GUID; clients prefix the endpoint host. */
  r.post('/streamingLocators/:name/listPaths', { config: cap('read'), schema: { params, response: { 200: pathsResponse } } }, async (req) => {
    const locator = await locators.get(project(req).id, req.params.name);
    const asset = await assets.find(project(req).id, locator.asset_name);
    if (!asset) throw notFound(`Asset '${locator.asset_name}'`);
    const policy = await policies.get(project(req).id, locator.policy_name);
    const { store } = await assets.open(asset);
    const prefix = asset.sub_path ? `${asset.sub_path}/` : '';
    const files = (await store.list(asset.container, asset.sub_path ?? '')).blobs.map((b) => b.name.slice(prefix.length));
    const base = `/${locator.locator_id}/${encodeURIComponent(manifestNameOf(files))}.ism/manifest`;
    const { streamingPaths, download } = streamingPathsOf(base, policySchemes(policy.properties));
    const downloadPaths = download ? downloadableFiles(files).map((f) => `/${locator.locator_id}/${f.split('/').map(encodeURIComponent).join('/')}`) : [];
    const drm = drmOf(
      policy.properties,
      { locatorId: locator.locator_id, alternativeMediaId: locatorProperties(locator).alternativeMediaId },
      await locators.clearKeyDeliverableTypes(project(req).id, locator),
    );
    return { streamingPaths, downloadPaths, drm };
  });
}
