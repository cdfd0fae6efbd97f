import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../test/support/store-database.js';
import type { StreamingEndpointRow } from './database.js';
import { StreamingEndpointRepository, defaultEndpointName } from './streaming-endpoint-repository.js';

describeOnEachDialect('StreamingEndpointRepository', (store) => {
  const endpoint = (projectId: string, id: string, description: string): StreamingEndpointRow => ({
    id,
    project_id: projectId,
    name: defaultEndpointName,
    location: 'local',
    tags: '{}',
    properties: JSON.stringify({ description }),
    resource_state: 'Running',
    created_at: '2030-01-01T00:00:00.000Z',
    created_by: 'system',
    updated_at: '2030-01-01T00:00:00.000Z',
    updated_by: 'system',
  });

  it('makes the default endpoint once, with its marker, and keeps the marker after a delete', async () => {
    const { db } = store();
    const projectId = await insertProject(db, 'endpoints');
    const endpoints = new StreamingEndpointRepository(db);
    assert.equal(await endpoints.hasDefaultMarker(projectId), false);

    await Promise.all([endpoints.insertDefault(endpoint(projectId, 'e1', 'first')), endpoints.insertDefault(endpoint(projectId, 'e2', 'second'))]);
    const rows = await endpoints.list(projectId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, defaultEndpointName);
    assert.equal(await endpoints.hasDefaultMarker(projectId), true);

    await endpoints.setState(rows[0].id, 'Stopped', '2030-01-02T00:00:00.000Z', 'someone');
    assert.equal((await endpoints.findByName(projectId, defaultEndpointName))?.resource_state, 'Stopped');
    assert.equal(await endpoints.deleteByName(projectId, defaultEndpointName), true);
    assert.equal(await endpoints.deleteByName(projectId, defaultEndpointName), false);
    assert.equal(await endpoints.hasDefaultMarker(projectId), true);
    assert.equal(await endpoints.hasDefaultMarker('another-project'), false);
  });
});
