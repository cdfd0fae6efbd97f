import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { assetName } from '../assets/schema.js';
import {
  accountFilterListResponse,
  accountFilterResponse,
  assetFilterListResponse,
  assetFilterResponse,
  filterName,
  filterPutBody,
  toWireFilter,
} from './schema.js';
import { filterListFields, type FilterService } from './service.js';

const cap = (group: string, action: string) => ({ capability: { group, action } });
const accountParams = Type.Object({ project: Type.String(), filter: filterName });
const assetParams = Type.Object({ project: Type.String(), name: assetName });
const assetFilterParams = Type.Object({ project: Type.String(), name: assetName, filter: filterName });

/**
 * Account filters (`/accountFilters`) and asset filters (§8). Single asset filters answer under both segment
 * names: `/assets/{asset}/assetFilters/{filter}` (MK.IO's OpenAPI) and `/assets/{asset}/filters/{filter}` (what
 * MK.IO's .NET client and Go tool send). The asset's parameter is `name`, as on the asset routes beside these.
 */
export function registerFilterRoutes(app: FastifyInstance, filters: FilterService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  // Account filters.
  const account = (action: string) => cap('ams.accountFilter', action);
  r.get('/accountFilters', { config: account('read'), schema: { response: { 200: accountFilterListResponse } } }, async (req) => {
    const { request, page } = filterListFields.parse(req.query as ListQuery);
    const { items, total } = await filters.page(filters.accountScope(project(req).id), page);
    return listBody({ kind: 'AccountFilter', items: items.map((f) => toWireFilter(f, project(req))), total, request, url: req.url });
  });
  r.get('/accountFilters/:filter', { config: account('read'), schema: { params: accountParams, response: { 200: accountFilterResponse } } }, async (req) =>
    toWireFilter(await filters.get(filters.accountScope(project(req).id), req.params.filter), project(req)),
  );
  r.put(
    '/accountFilters/:filter',
    { config: account('create'), schema: { params: accountParams, body: filterPutBody, response: { 200: accountFilterResponse, 201: accountFilterResponse } } },
    async (req, reply) => {
      const { row, created } = await filters.put(filters.accountScope(project(req).id), req.params.filter, req.body.properties, req.principal!);
      return reply.code(created ? 201 : 200).send(toWireFilter(row, project(req)));
    },
  );
  r.delete('/accountFilters/:filter', { config: account('delete'), schema: { params: accountParams, response: deleteResponses } }, async (req, reply) => {
    const deleted = await filters.delete(filters.accountScope(project(req).id), req.params.filter);
    return reply.code(deleted ? 200 : 204).send();
  });

  // Asset filters.
  const asset = (action: string) => cap('ams.assetFilter', action);
  r.get('/assets/:name/assetFilters', { config: asset('read'), schema: { params: assetParams, response: { 200: assetFilterListResponse } } }, async (req) => {
    const { request, page } = filterListFields.parse(req.query as ListQuery);
    const { items, total } = await filters.page(await filters.assetScope(project(req).id, req.params.name), page);
    return listBody({ kind: 'AssetFilter', items: items.map((f) => toWireFilter(f, project(req), req.params.name)), total, request, url: req.url });
  });
  for (const segment of ['assetFilters', 'filters']) {
    const path = `/assets/:name/${segment}/:filter`;
    r.get(path, { config: asset('read'), schema: { params: assetFilterParams, response: { 200: assetFilterResponse } } }, async (req) => {
      const scope = await filters.assetScope(project(req).id, req.params.name);
      return toWireFilter(await filters.get(scope, req.params.filter), project(req), req.params.name);
    });
    r.put(
      path,
      { config: asset('create'), schema: { params: assetFilterParams, body: filterPutBody, response: { 200: assetFilterResponse, 201: assetFilterResponse } } },
      async (req, reply) => {
        const scope = await filters.assetScope(project(req).id, req.params.name);
        const { row, created } = await filters.put(scope, req.params.filter, req.body.properties, req.principal!);
        return reply.code(created ? 201 : 200).send(toWireFilter(row, project(req), req.params.name));
      },
    );
    r.delete(path, { config: asset('delete'), schema: { params: assetFilterParams, response: deleteResponses } }, async (req, reply) => {
      const scope = await filters.assetScope(project(req).id, req.params.name);
      const deleted = await filters.delete(scope, req.params.filter);
      return reply.code(deleted ? 200 : 204).send();
    });
  }
}
