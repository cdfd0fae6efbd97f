import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inputRestrictions, killToolsNaming } from './ffmpeg-sandbox.js';

describe('inputRestrictions', () => {
  it('allows only the protocol the input needs, and no demuxer that opens other files', () => {
    const protocols = (url: string) => inputRestrictions(url)[1];
    assert.equal(protocols('/data/media/c/movie.mp4'), 'file');
    assert.equal(protocols('http://127.0.0.1:8080/files/a/c/movie.mp4?token=x'), 'http,tcp');
    assert.equal(protocols('https://reel.example/files/a/c/movie.mp4?token=x'), 'https,tls,tcp');
    const formats = inputRestrictions('/x.mp4')[3].split(',');
    for (const refused of ['hls', 'dash', 'concat', 'image2', 'imf', 'lavfi', 'tee', 'data']) assert.ok(!formats.includes(refused), refused);
    for (const kept of ['mov', 'matroska', 'mpegts', 'mxf', 'wav', 'webvtt']) assert.ok(formats.includes(kept), kept);
  });
});

describe('killToolsNaming', () => {
  it("kills the ffmpeg working in a dead attempt's directory and leaves others alone", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-orphans-'));
    const stale = path.join(root, 'job-a-0');
    const live = path.join(root, 'job-a-1');
    const run = (dir: string) =>
      spawn(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-nostdin',
          '-re',
          '-f',
          'lavfi',
          '-i',
          'anullsrc',
          '-t',
          '60',
          '-f',
          'null',
          '-progress',
          `${dir}/progress`,
          '-',
        ],
        { stdio: 'ignore' },
      );
    fs.mkdirSync(stale);
    fs.mkdirSync(live);
    const orphan = run(stale);
    const other = run(live);
    try {
      const exited = new Promise<NodeJS.Signals | null>((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
      await sleep(300);
      assert.deepEqual(await killToolsNaming(stale), [orphan.pid]);
      assert.equal(await exited, 'SIGKILL');
      assert.equal(other.exitCode, null, "the live attempt's ffmpeg runs on");
      assert.equal(other.signalCode, null);
    } finally {
      orphan.kill('SIGKILL');
      other.kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
