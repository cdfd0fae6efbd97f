import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StorageAccountService } from './service.js';
import type { AccountService } from '../../auth/account-service.js';
import {
  inputFromLegacy,
  inputFromV1,
  legacyCredentialBody,
  legacyCredentialListResponse,
  legacyCredentialResponse,
  legacyStorageBody,
  legacyStoragePatchBody,
  legacyStorageListResponse,
  legacyStorageResponse,
  storageAccountName,
  toLegacyCredential,
  toLegacyStorage,
  toV1Credential,
  toV1Storage,
  v1CredentialBody,
  v1CredentialListResponse,
  v1CredentialResponse,
  v1StorageListResponse,
  v1StoragePatchBody,
  v1StoragePutBody,
  v1StorageResponse,
} from './schema.js';
import { ConflictError, ForbiddenError, notFound } from '../../../shared/errors.js';
import { isAllowed } from '../../auth/principal.js';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, refuseListOptions, type ListQuery } from '../paging.js';
import { auditFields, ListFields, pageRecords } from '../list-fields.js';
import type { StorageAccount } from './service.js';
import { deleteResponses, noBody } from '../envelope.js';

/**
 * `$filter`/`$orderby` fields of the v1 storage list, as MK.IO documents them. A project has a handful of
 * accounts and several fields are computed (`url`, `region`), so the list is filtered in memory over the
 * values the response shows. Reel records no cloud name nor private link status: those fields are always null.
 */
const storageListFields = new ListFields({
  ...auditFields,
  createdBy: { column: 'created_by_id' },
  updatedBy: { column: 'updated_by_id' },
  type: { column: 'type' },
  url: { column: 'config' },
  region: { column: 'location', sort: false },
  privateLinkServiceConnectionStatus: { column: 'config' },
  'cloud/name': { column: 'config', sort: false },
  'cloud/region/name': { column: 'location', sort: false },
});
function storageField(account: StorageAccount, field: string): string | null {
  const { row } = account;
  const spec = toV1Storage(account).spec as { url?: string; region?: string | null };
  const values: Record<string, string | null> = {
    name: row.name,
    id: row.id,
    created: row.created_at,
    createdBy: row.created_by_id,
    createdByEmail: row.created_by,
    createdByName: row.created_by,
    updated: row.updated_at,
    updatedBy: row.updated_by_id,
    updatedByEmail: row.updated_by,
    updatedByName: row.updated_by,
    type: row.type,
    url: spec.url ?? null,
    region: spec.region ?? null,
    'cloud/region/name': spec.region ?? null,
    'cloud/name': null,
    privateLinkServiceConnectionStatus: null,
  };
  return values[field] ?? null;
}
/** Credentials of one account: MK.IO documents paging only (`$top`, `$skiptoken`); any field is a 400. */
const credentialListFields = new ListFields({});

const read = { capability: { group: 'ams.storage', action: 'read' } };
const write = (action: string) => ({ capability: { group: 'ams.storage', action } });
const nameParams = Type.Object({ project: Type.String(), name: storageAccountName });

/** v1 storage, mounted under `/api/v1/projects/{project}/media` (§6.2). */
export function registerV1StorageRoutes(app: FastifyInstance, storage: StorageAccountService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/storage', { config: read, schema: { response: { 200: v1StorageListResponse } } }, async (req) => {
    const { request } = storageListFields.parse(req.query as ListQuery);
    const { items, total } = pageRecords(await storage.list(project(req).id), request, storageField);
    return listBody({ kind: 'StorageAccount', items: items.map(toV1Storage), total, request, url: req.url });
  });
  r.get('/storage/:name', { config: read, schema: { params: nameParams, response: { 200: v1StorageResponse } } }, async (req) =>
    toV1Storage(await storage.get(project(req).id, { name: req.params.name })),
  );
  r.put(
    '/storage/:name',
    { config: write('create'), schema: { params: nameParams, body: v1StoragePutBody, response: { 200: v1StorageResponse, 201: v1StorageResponse } } },
    async (req, reply) => {
      // Only the description may change on an existing record (type, url and bucket are immutable).
      const update = async (id: string) =>
        toV1Storage(await storage.update(project(req).id, { id }, { description: req.body.spec.description }, req.principal!));
      const existing = await storage.find(project(req).id, { name: req.params.name });
      if (existing) return reply.code(200).send(await update(existing.row.id));
      try {
        const created = await storage.create(project(req).id, inputFromV1(req.params.name, req.body.spec), req.principal!);
        return reply.code(201).send(toV1Storage(created));
      } catch (err) {
        // A concurrent PUT of the same name created it first (the insert's unique key, or create's own check
        // once the winner committed): answer as the PUT that came second does.
        const winner = err instanceof ConflictError ? await storage.find(project(req).id, { name: req.params.name }) : undefined;
        if (!winner) throw err;
        return reply.code(200).send(await update(winner.row.id));
      }
    },
  );
  r.patch(
    '/storage/:name',
    { config: write('update'), schema: { params: nameParams, body: v1StoragePatchBody, response: { 200: v1StorageResponse } } },
    async (req) => {
      const { description, type } = req.body.spec;
      return toV1Storage(await storage.update(project(req).id, { name: req.params.name }, { description, type }, req.principal!));
    },
  );
  r.delete('/storage/:name', { config: write('delete'), schema: { params: nameParams, response: { 204: noBody('Deleted') } } }, async (req, reply) => {
    await storage.delete(project(req).id, { name: req.params.name });
    return reply.code(204).send();
  });

  r.get('/storage/:name/credentials', { config: read, schema: { params: nameParams, response: { 200: v1CredentialListResponse } } }, async (req) => {
    const account = await storage.get(project(req).id, { name: req.params.name });
    const { request } = credentialListFields.parse(req.query as ListQuery);
    const { items, total } = pageRecords(account.credentials, request, () => null);
    return listBody({ kind: 'StorageCredential', items: items.map((c) => toV1Credential(account, c)), total, request, url: req.url });
  });
  r.post(
    '/storage/:name/credentials',
    { config: write('update'), schema: { params: nameParams, body: v1CredentialBody, response: { 201: v1CredentialResponse } } },
    async (req, reply) => {
      const row = await storage.addCredential(project(req).id, { name: req.params.name }, req.body.spec.credential, req.principal!);
      const account = await storage.get(project(req).id, { name: req.params.name });
      return reply.code(201).send(toV1Credential(account, row));
    },
  );
  const credParams = Type.Object({ project: Type.String(), name: storageAccountName, credentialId: Type.String({ minLength: 1, maxLength: 64 }) });
  r.get('/storage/:name/credentials/:credentialId', { config: read, schema: { params: credParams, response: { 200: v1CredentialResponse } } }, async (req) => {
    const account = await storage.get(project(req).id, { name: req.params.name });
    const row = account.credentials.find((c) => c.id === req.params.credentialId);
    if (!row) throw notFound(`Credential '${req.params.credentialId}'`);
    return toV1Credential(account, row);
  });
  r.delete(
    '/storage/:name/credentials/:credentialId',
    { config: write('update'), schema: { params: credParams, response: { 204: noBody('Deleted') } } },
    async (req, reply) => {
      await storage.deleteCredential(project(req).id, { name: req.params.name }, req.params.credentialId);
      return reply.code(204).send();
    },
  );
}

/**
 * Legacy storage under `/api/accounts/{customer_id}/subscriptions/{subscription_id}/storage/` (§6.1): the
 * customer is the organization id, the subscription the project id; the Go migration tool's
 * `/subscription/{project name}/` spelling is accepted too.
 */
export function registerLegacyStorageRoutes(app: FastifyInstance, storage: StorageAccountService, accounts: AccountService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const projectOf = async (req: FastifyRequest): Promise<ProjectRow> => {
    const { customer, subscription } = req.params as { customer: string; subscription: string };
    const project = (await accounts.findProjectById(subscription)) ?? (await accounts.findProject(subscription));
    if (!project || customer !== req.principal!.organizationId || project.organization_id !== customer) {
      throw notFound(`Subscription '${subscription}'`);
    }
    const capability = req.routeOptions.config.capability;
    if (capability && !isAllowed(req.principal!, project.id, capability.group, capability.action)) {
      throw new ForbiddenError('Forbidden', `The caller lacks the ${capability.group}.${capability.action} capability`);
    }
    return project;
  };
  for (const base of ['/api/accounts/:customer/subscriptions/:subscription/storage', '/api/accounts/:customer/subscription/:subscription/storage']) {
    r.get(base, { config: read, schema: { response: { 200: legacyStorageListResponse } } }, async (req) => {
      const p = await projectOf(req);
      refuseListOptions(req.query);
      return { kind: 'StorageAccountList' as const, items: (await storage.list(p.id)).map(toLegacyStorage) };
    });
    r.post(base, { config: write('create'), schema: { body: legacyStorageBody, response: { 201: legacyStorageResponse } } }, async (req, reply) => {
      const p = await projectOf(req);
      return reply.code(201).send(toLegacyStorage(await storage.create(p.id, inputFromLegacy(req.body), req.principal!)));
    });
    r.get(`${base}/:storageId`, { config: read, schema: { response: { 200: legacyStorageResponse } } }, async (req) => {
      const p = await projectOf(req);
      return toLegacyStorage(await storage.get(p.id, { id: (req.params as { storageId: string }).storageId }));
    });
    // PUT (the .NET client's update) and PATCH change the description; the name and type may be echoed unchanged.
    const updateLegacy = async (req: FastifyRequest, spec: { name?: string; description?: string; type?: string }) => {
      const p = await projectOf(req);
      const id = (req.params as { storageId: string }).storageId;
      return toLegacyStorage(await storage.update(p.id, { id }, spec, req.principal!));
    };
    r.put(`${base}/:storageId`, { config: write('update'), schema: { body: legacyStorageBody, response: { 200: legacyStorageResponse } } }, async (req) =>
      updateLegacy(req, req.body.spec),
    );
    r.patch(
      `${base}/:storageId`,
      { config: write('update'), schema: { body: legacyStoragePatchBody, response: { 200: legacyStorageResponse } } },
      async (req) => updateLegacy(req, req.body.spec),
    );
    r.delete(`${base}/:storageId`, { config: write('delete'), schema: { response: deleteResponses } }, async (req, reply) => {
      const p = await projectOf(req);
      const deleted = await storage.delete(p.id, { id: (req.params as { storageId: string }).storageId });
      return reply.code(deleted ? 200 : 204).send();
    });
    r.get(`${base}/:storageId/credentials`, { config: read, schema: { response: { 200: legacyCredentialListResponse } } }, async (req) => {
      const p = await projectOf(req);
      const account = await storage.get(p.id, { id: (req.params as { storageId: string }).storageId });
      return { kind: 'StorageCredentialList' as const, items: account.credentials.map(toLegacyCredential) };
    });
    r.post(
      `${base}/:storageId/credentials`,
      { config: write('update'), schema: { body: legacyCredentialBody, response: { 201: legacyCredentialResponse } } },
      async (req, reply) => {
        const p = await projectOf(req);
        const row = await storage.addCredential(
          p.id,
          { id: (req.params as { storageId: string }).storageId },
          { sasToken: req.body.spec.azureCredential.sasToken },
          req.principal!,
        );
        return reply.code(201).send(toLegacyCredential(row));
      },
    );
    r.get(`${base}/:storageId/credentials/:credentialId`, { config: read, schema: { response: { 200: legacyCredentialResponse } } }, async (req) => {
      const p = await projectOf(req);
      const { storageId, credentialId } = req.params as { storageId: string; credentialId: string };
      const account = await storage.get(p.id, { id: storageId });
      const row = account.credentials.find((c) => c.id === credentialId);
      if (!row) throw notFound(`Credential '${credentialId}'`);
      return toLegacyCredential(row);
    });
    r.delete(`${base}/:storageId/credentials/:credentialId`, { config: write('update'), schema: { response: deleteResponses } }, async (req, reply) => {
      const p = await projectOf(req);
      const { storageId, credentialId } = req.params as { storageId: string; credentialId: string };
      const deleted = await storage.deleteCredential(p.id, { id: storageId }, credentialId);
      return reply.code(deleted ? 200 : 204).send();
    });
  }
}
