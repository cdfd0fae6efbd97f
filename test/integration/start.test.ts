import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, login, tokenFromSession } from '../support/api.js';

/** Every server child this file started: killed in `after`, so a failing assertion never leaves one running (and the runner waiting). */
const children = new Set<ChildProcess>();

/** The command `npm start` runs after its set-up: the compiled server with its malloc setting. */
function spawnServer(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--max-semi-space-size=16', 'dist/main.js'], {
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Compiles the server as `npm start`'s set-up does. */
function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/build.mjs exited with ${code}`))));
  });
}

/** Starts the compiled server as `npm start` does (minus the install step) and waits for the banner it prints. */
function startProcess(env: Record<string, string>): Promise<{ child: ChildProcess; output: string; url: string }> {
  const child = spawnServer(env);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner after 30 s:\n${output}`)), 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /Reel is running at (http:\/\/\S+)/.exec(output);
      if (m && /Token:/.test(output)) {
        clearTimeout(timer);
        resolve({ child, output, url: m[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('the server process', () => {
  before(build);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-start-'));
  const env = { PORT: '0', REEL_LIVE_RTMP_PORT: '0', REEL_LIVE_SRT_PORT: '0', REEL_DATA_DIR: dataDir, REEL_LOG_LEVEL: 'warn' };
  after(async () => {
    await Promise.all([...children].map((child) => stop(child)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on an empty data dir, prints where and how to sign in, and keeps tokens and assets across a restart', async () => {
    const first = await startProcess(env);
    const password = /admin@localhost \/ (\S+)\s+\(generated now, shown once\)/.exec(first.output)?.[1];
    assert.ok(password, `no generated password in:\n${first.output}`);
    assert.ok(fs.existsSync(path.join(dataDir, 'reel.sqlite')));
    assert.equal((await fetch(`${first.url}/health`)).status, 200);
    const token = (await tokenFromSession(first.url, await login(first.url, 'admin@localhost', password))).token;
    const api = new ApiClient(first.url).withToken(token);
    assert.equal((await api.put('/api/ams/default/assets/kept', { properties: { storageAccountName: 'local' } })).status, 201);
    await stop(first.child);

    const second = await startProcess(env);
    try {
      assert.doesNotMatch(second.output, /generated now/, 'the password is printed once only');
      const again = new ApiClient(second.url).withToken(token);
      const asset = await again.get('/api/ams/default/assets/kept');
      assert.equal(asset.status, 200, 'the old token and the asset survive a restart');
      assert.equal((await again.get('/api/ams/default/assets')).body.value.length, 1, 'the bootstrap ran once');
    } finally {
      await stop(second.child);
    }
  });

  it('refuses a bad configuration with every problem named', async () => {
    const child = spawnServer({ PORT: 'eighty', REEL_LIVE_RTMP_PORT: '0', REEL_LOG_LEVEL: 'chatty', REEL_DATA_DIR: dataDir });
    let output = '';
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(output, /PORT/);
    assert.match(output, /REEL_LOG_LEVEL/);
  });
});
