import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AssetRow, ProjectRow } from '../../../store/database.js';
import type { Logger } from '../../../shared/log.js';
import type { MediaProber } from '../../../shared/media-probe.js';
import { assetListFields, parseLabelQuery, type AssetService } from './service.js';
import {
  assetGetResponse,
  assetInput,
  assetListResponse,
  assetLocatorsResponse,
  assetName,
  assetPutBody,
  assetResponse,
  assetStateResponse,
  assetStorageResponse,
  fileAccessInfoResponse,
  toWireAsset,
  uploadUrlBody,
  uploadUrlResponse,
} from './schema.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { listAssetStorage, ProbeCache } from './storage-listing.js';
import { fileUrl, type FileGrants } from '../../../storage/file-grants.js';

const cap = (action: string) => ({ capability: { group: 'ams.asset', action } });
const params = Type.Object({ project: Type.String(), name: assetName });
/** getFileAccessInfo credentials live one hour (MK.IO's lifetime is unconfirmed). */
const accessInfoLifetimeSec = 3600;

const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export interface AssetRouteDeps {
  assets: AssetService;
  grants: FileGrants;
  prober: MediaProber;
  /** Base URL clients use to reach this server (signed URLs handed out). */
  publicUrl: () => string;
  /** Base URL the server's own helpers (ffprobe) use to reach it. */
  internalUrl: () => string;
  log: Logger;
  /** Locators that publish an asset, as `listStreamingLocators` items. */
  locatorsOf: (asset: AssetRow) => Promise<Array<Record<string, unknown>>>;
  /** Whether a job still running (or waiting to) writes into the asset: its state is then `Pending`. */
  isJobOutputPending: (asset: AssetRow) => Promise<boolean>;
}

/** Assets, mounted under both media prefixes (§7). */
export function registerAssetRoutes(app: FastifyInstance, deps: AssetRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { assets } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  const probeCache = new ProbeCache();

  r.get('/assets', { config: cap('read'), schema: { response: { 200: assetListResponse } } }, async (req) => {
    const q = req.query as ListQuery;
    const { request, page } = assetListFields.parse(q);
    const labels = parseLabelQuery(asArray(q.$label), [...asArray(q.$label_key), ...asArray(q.label_key)]);
    const { items, total } = await assets.list(project(req).id, page, labels);
    const p = project(req);
    return listBody({ kind: 'Asset', items: items.map((a) => toWireAsset(a, p)), total, request, url: req.url, project: { id: p.id, name: p.name } });
  });

  r.get('/assets/:name', { config: cap('read'), schema: { params, response: { 200: assetGetResponse } } }, async (req) => {
    const p = project(req);
    return {
      ...toWireAsset(await assets.get(p.id, req.params.name), p),
      supplemental: { operation: 'get' as const, subscription: { id: p.id, name: p.name } },
    };
  });

  r.put(
    '/assets/:name',
    { config: cap('create'), schema: { params, body: assetPutBody, response: { 200: assetResponse, 201: assetResponse } } },
    async (req, reply) => {
      const p = project(req);
      const { row, created } = await assets.put(p.id, req.params.name, assetInput(req.body), req.principal!);
      return reply.code(created ? 201 : 200).send(toWireAsset(row, p));
    },
  );

  r.delete('/assets/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await assets.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });

  r.get('/assets/:name/state', { config: cap('read'), schema: { params, response: { 200: assetStateResponse } } }, async (req) => {
    // MK.IO's asset states: `Pending` until the content is there, then `Ready`. Reel's assets exist at once, so
    // only a job's output asset waits: Pending until that job ends (whatever its outcome).
    const asset = await assets.get(project(req).id, req.params.name);
    return { status: { state: (await deps.isJobOutputPending(asset)) ? 'Pending' : 'Ready' } };
  });

  r.post('/assets/:name/listStreamingLocators', { config: cap('read'), schema: { params, response: { 200: assetLocatorsResponse } } }, async (req) => {
    const asset = await assets.get(project(req).id, req.params.name);
    return { streamingLocators: await deps.locatorsOf(asset) };
  });

  r.get('/assets/:name/storage', { config: cap('read'), schema: { params, response: { 200: assetStorageResponse } } }, async (req) => {
    const row = await assets.get(project(req).id, req.params.name);
    const { store, account } = await assets.open(row);
    const expires = Math.floor(Date.now() / 1000) + 600;
    return listAssetStorage({
      asset: row,
      store,
      accountId: account.row.id,
      prober: deps.prober,
      cache: probeCache,
      log: deps.log,
      signedUrl: (blob) => deps.grants.signedUrl(deps.internalUrl(), { a: account.row.id, c: row.container, p: blob, m: 'r', e: expires }),
    });
  });

  r.post('/assets/:name/getFileAccessInfo', { config: cap('update'), schema: { params, response: { 200: fileAccessInfoResponse } } }, async (req) => {
    const row = await assets.get(project(req).id, req.params.name);
    const { account } = await assets.open(row);
    const jwt = deps.grants.sign({
      a: account.row.id,
      c: row.container,
      p: row.sub_path ? `${row.sub_path}/` : '',
      m: 'r',
      e: Math.floor(Date.now() / 1000) + accessInfoLifetimeSec,
    });
    return {
      storageAccountName: account.row.name,
      containerName: row.container,
      ...(row.sub_path ? { subPath: row.sub_path } : {}),
      url: fileUrl(deps.publicUrl(), account.row.id, row.container),
      jwt,
    };
  });

  r.post(
    '/assets/:name/getUploadUrl',
    { config: cap('update'), schema: { params, body: uploadUrlBody, response: { 200: uploadUrlResponse } } },
    async (req) => {
      const row = await assets.get(project(req).id, req.params.name);
      const { account } = await assets.open(row);
      const blob = assets.blobPath(row, req.body.fileName);
      const expiresSec = Math.floor(Date.now() / 1000) + 60 * (req.body.expiresInMinutes ?? 60);
      return {
        method: 'PUT' as const,
        fileName: req.body.fileName,
        expires: new Date(expiresSec * 1000).toISOString(),
        url: deps.grants.signedUrl(deps.publicUrl(), { a: account.row.id, c: row.container, p: blob, m: 'w', e: expiresSec }),
      };
    },
  );
}
