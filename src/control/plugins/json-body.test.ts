import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonTextProblem } from './json-body.js';

describe('jsonTextProblem', () => {
  it('counts nesting outside strings only', () => {
    assert.equal(jsonTextProblem('{"a":[[1]]}', 3), undefined);
    assert.equal(jsonTextProblem('{"a":[[[1]]]}', 3), 'depth');
    assert.equal(jsonTextProblem(`{"a":"${'['.repeat(100)}"}`, 3), undefined);
    assert.equal(jsonTextProblem(`{"a":"\\"${'{'.repeat(100)}"}`, 3), undefined);
    assert.equal(jsonTextProblem(`${'['.repeat(20_000)}${']'.repeat(20_000)}`, 64), 'depth');
  });
  it('finds an escaped NUL in a string, but not an escaped backslash before u0000', () => {
    assert.equal(jsonTextProblem('{"a":"x\\u0000y"}', 8), 'nul');
    assert.equal(jsonTextProblem('{"a\\u0000":1}', 8), 'nul');
    assert.equal(jsonTextProblem('{"a":"x\\\\u0000y"}', 8), undefined);
    assert.equal(jsonTextProblem('{"a":"\\u00001"}', 8), 'nul');
    assert.equal(jsonTextProblem('{"a":"\\u0001"}', 8), undefined);
  });
});
