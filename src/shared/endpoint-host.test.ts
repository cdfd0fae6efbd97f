import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointHost, endpointHostLabel, endpointLabelSplits, endpointNameInLabel, ingestHost } from './endpoint-host.js';

describe('endpoint host names', () => {
  it('writes and reads back the same endpoint', () => {
    const host = endpointHost('se-1', 'my-project', 'localhost:8080');
    assert.equal(host, 'se-1-my-project.localhost:8080');
    const label = endpointHostLabel(host, 'localhost:8080');
    assert.equal(label, 'se-1-my-project');
    assert.equal(endpointNameInLabel(label, 'my-project'), 'se-1');
  });

  it('ignores ports and case, and knows no label for other hosts', () => {
    assert.equal(endpointHostLabel('Default-Demo.Streaming.Example:443', 'streaming.example'), 'default-demo');
    assert.equal(endpointHostLabel('127.0.0.1:8080', 'localhost:8080'), undefined);
    assert.equal(endpointHostLabel('localhost:8080', 'localhost:8080'), undefined);
    assert.equal(endpointHostLabel(undefined, 'localhost:8080'), undefined);
  });

  it("does not read another project's label as this project's", () => {
    assert.equal(endpointNameInLabel('default-other', 'demo'), undefined);
    assert.equal(endpointNameInLabel('default-demo', 'Demo'), 'default');
  });

  it('lists every endpoint/project split, shortest endpoint first', () => {
    assert.deepEqual(endpointLabelSplits('a-b-c'), [
      { endpoint: 'a', project: 'b-c' },
      { endpoint: 'a-b', project: 'c' },
    ]);
    assert.deepEqual(endpointLabelSplits('-a'), []);
    assert.deepEqual(endpointLabelSplits('plain'), []);
  });
});

describe('ingestHost', () => {
  const event = { id: '4F1C2A9E-0000-4000-8000-000000000001', name: 'studio', useStaticHostname: false };
  it('is in-{event id} under the domain without a static host name, the domain port dropped', () => {
    assert.equal(ingestHost(event, 'demo', 'Media.Example.net:8443'), 'in-4f1c2a9e-0000-4000-8000-000000000001.media.example.net');
  });
  it('is {prefix}-{project} with a static host name, the event name when no prefix is given', () => {
    assert.equal(ingestHost({ ...event, useStaticHostname: true, hostnamePrefix: 'Cam1' }, 'demo', 'media.example.net'), 'cam1-demo.media.example.net');
    assert.equal(ingestHost({ ...event, useStaticHostname: true }, 'demo', 'media.example.net'), 'studio-demo.media.example.net');
  });
  it('cuts a label longer than DNS allows to 63 characters', () => {
    const host = ingestHost({ ...event, useStaticHostname: true, hostnamePrefix: 'p'.repeat(60) }, 'project', 'media.example.net');
    assert.equal(host.split('.')[0].length, 63);
  });
});
