import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointHost, endpointHostLabel, endpointLabelSplits, endpointNameInLabel } from './endpoint-host.js';

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
