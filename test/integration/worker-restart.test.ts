import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeMp4 } from '../fixtures/media.js';
import { killGroup, startServerProcess } from '../support/server-process.js';

type Job = { properties: { state: string; startTime: string | null; outputs: Array<{ progress: number; state: string; error?: unknown }> } };

async function pollJob(api: ApiClient, jobPath: string, done: (job: Job) => boolean): Promise<Job> {
  // A safety net against a hung suite, not a performance threshold.
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const res = await api.get<Job>(jobPath);
    assert.equal(res.status, 200, res.text);
    if (done(res.body)) return res.body;
    if (Date.now() > deadline) assert.fail(`job never got there: ${res.text}`);
    await sleep(200);
  }
}

describe('a worker killed mid-job', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-restart-'));
  const source = makeMp4({ seconds: 60, width: 1280, height: 720 });
  const env = {
    PORT: '0',
    REEL_LIVE_RTMP_PORT: '0',
    REEL_LIVE_SRT_PORT: '0',
    REEL_DATA_DIR: dataDir,
    REEL_ADMIN_PASSWORD: 'restart password 1',
    REEL_JOB_LEASE_SEC: '2',
    REEL_LOG_LEVEL: 'warn',
  };
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await killGroup(c, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is taken over after a restart on the same data dir, and the job finishes with complete outputs', async () => {
    const first = await startServerProcess(env);
    children.push(first.child);
    const token = (await tokenFromSession(first.url, await login(first.url, 'admin@localhost', 'restart password 1'))).token;
    let api = new ApiClient(first.url).withToken(token);
    const V = '/api/v1/projects/default/media';
    // The embedded Local account's root: put the source into a container there, as a migration would.
    const container = path.join(dataDir, 'storage', 'default', 'source');
    fs.mkdirSync(container, { recursive: true });
    fs.copyFileSync(source, path.join(container, 'source.mp4'));
    assert.equal((await api.put(`${V}/assets/source`, { properties: { storageAccountName: 'local', container: 'source' } })).status, 201);
    const preset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' };
    assert.equal((await api.put(`${V}/transforms/hd`, { properties: { outputs: [{ preset }] } })).status, 201);
    const submitted = await api.put(`${V}/transforms/hd/jobs/survivor`, {
      properties: {
        input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'source' },
        outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'survivor-out' }],
      },
    });
    assert.equal(submitted.status, 201, submitted.text);
    const jobPath = `${V}/transforms/hd/jobs/survivor`;

    await pollJob(api, jobPath, (j) => j.properties.state === 'Processing' && j.properties.outputs[0].progress > 0);
    await killGroup(first.child, 'SIGKILL');
    const killedAt = Date.now();

    const second = await startServerProcess(env);
    children.push(second.child);
    api = new ApiClient(second.url).withToken(token);
    const job = await pollJob(api, jobPath, (j) => ['Finished', 'Error', 'Canceled'].includes(j.properties.state));
    assert.equal(job.properties.state, 'Finished', `${JSON.stringify(job)}\n${second.output()}`);
    assert.equal(job.properties.outputs[0].progress, 100);
    assert.ok(Date.parse(job.properties.startTime ?? '') >= killedAt, 'the job ran again from the start on the new process');

    // Complete outputs: a server manifest naming files that are all there and all readable by ffprobe.
    const listing = await api.get(`${V}/assets/survivor-out/storage/`);
    assert.equal(listing.status, 200, listing.text);
    const files: string[] = listing.body.spec.files.map((f: { name: string }) => f.name);
    const ism = files.find((f) => f.endsWith('.ism'));
    assert.ok(ism, files.join(', '));
    const named = [...listing.body.spec.tracks[ism].body.video, ...listing.body.spec.tracks[ism].body.audio].map((t: { src: string }) => t.src);
    assert.ok(named.length > 0);
    for (const src of named) assert.ok(listing.body.spec.mediaInfo[src], `${src} is readable media`);
    assert.deepEqual(listing.body.spec.error, {});
    assert.ok(!fs.readdirSync(path.join(dataDir, 'work')).some((d) => d.startsWith('job-')), 'scratch directories are gone');
    await killGroup(second.child, 'SIGTERM');
  });
});
