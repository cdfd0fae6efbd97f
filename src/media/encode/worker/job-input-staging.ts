import path from 'node:path';
import type { AssetRow, JobRow } from '../../../store/database.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { assertBlobPath, joinBlobPath } from '../../../storage/storage-paths.js';
import type { AddressPolicy } from '../../../shared/address-policy.js';
import { parseIsm } from '../../../shared/ism.js';
import { EncodeError, type EncodeInput } from '../encode-engine.js';
import { downloadHttpInput } from './http-input-download.js';
import { fileNameOf, httpInputUrl, ismSources, pickInputFiles } from './job-inputs.js';

/** A job's `input` as submitted (MK.IO's JobInputAsset or JobInputHttp). */
export interface StoredJobInput {
  '@odata.type': string;
  assetName?: string;
  files?: string[];
  baseUri?: string;
  start?: { time?: string };
  end?: { time?: string };
  /** AMS input definitions ([NET]); an `InputFile`'s `filename` names a file to read when `files` names none. */
  inputDefinitions?: Array<{ '@odata.type'?: string; filename?: string }>;
}

function namedFiles(input: StoredJobInput): string[] {
  const files = (input.files ?? []).filter((f) => f !== '*');
  if (files.length > 0) return files;
  return (input.inputDefinitions ?? []).flatMap((d) =>
    d.filename !== undefined && (d['@odata.type'] ?? '').replace(/^#Microsoft\.Media\./, '') === 'InputFile' ? [d.filename] : [],
  );
}

export interface InputStagingDeps {
  findAsset: (projectId: string, name: string) => Promise<AssetRow | undefined>;
  openStore: (storageAccountId: string) => Promise<BlobStore>;
  /** Which addresses a `JobInputHttp` URL (and each redirect) may reach. */
  httpInputPolicy: AddressPolicy;
  httpTimeoutSec: number;
  maxInputBytes?: number;
  signedReadUrl: (storageAccountId: string, container: string, blob: string, lifetimeSec: number) => string;
}

/** Signed input URLs must outlive the longest encode: ffmpeg issues range requests until it ends. */
const inputUrlLifetimeSec = 24 * 3600;
/** A server manifest larger than this is not one. */
const maxIsmBytes = 4 * 1024 * 1024;

/**
 * What ffmpeg opens for a job's input. A `JobInputHttp` URL is downloaded here through the checked client into
 * `inputDir` (ffmpeg then reads the local copy, file protocol only); an asset's files are the path a Local
 * driver hands out (confinement-checked) or Reel's signed `/files` URL, which streams byte ranges from the
 * driver. A named `.ism` stands for the renditions it lists.
 */
export async function stageJobInputs(
  deps: InputStagingDeps,
  row: JobRow,
  input: StoredJobInput,
  presetType: string,
  inputDir: string,
  signal: AbortSignal,
): Promise<EncodeInput[]> {
  if (input['@odata.type'] === '#Microsoft.Media.JobInputHttp') return downloadHttpInputs(deps, input, inputDir, signal);
  const asset = await deps.findAsset(row.project_id, input.assetName ?? '');
  if (!asset) throw new EncodeError('DownloadNotAccessible', `Input asset '${input.assetName}' not found`);
  const store = await deps.openStore(asset.storage_account_id);
  const prefix = asset.sub_path ? `${asset.sub_path}/` : '';
  const blobs = await assetInputBlobs(store, asset, namedFiles(input), presetType);
  return Promise.all(
    blobs.map(async (blob) => ({
      url: (await store.localPath?.(asset.container, blob)) ?? deps.signedReadUrl(asset.storage_account_id, asset.container, blob, inputUrlLifetimeSec),
      fileName: fileNameOf(blob.slice(prefix.length)),
    })),
  );
}

async function downloadHttpInputs(deps: InputStagingDeps, input: StoredJobInput, inputDir: string, signal: AbortSignal): Promise<EncodeInput[]> {
  const urls = (input.files ?? []).map((f) => httpInputUrl(input.baseUri, f));
  const inputs: EncodeInput[] = [];
  for (const [i, url] of urls.entries()) {
    const fileName = fileNameOf(url);
    const extension = /\.[a-z0-9]{1,8}$/i.exec(fileName)?.[0] ?? '';
    const local = path.join(inputDir, `input-${i}${extension.toLowerCase()}`);
    await downloadHttpInput(url, local, {
      policy: deps.httpInputPolicy,
      timeoutSec: deps.httpTimeoutSec,
      signal,
      fileName,
      ...(deps.maxInputBytes !== undefined ? { maxBytes: deps.maxInputBytes } : {}),
    });
    inputs.push({ url: local, fileName });
  }
  return inputs;
}

/** The blobs a job reads from its input asset: the named files (each checked to exist), else the pick for the preset. */
async function assetInputBlobs(store: BlobStore, asset: AssetRow, wanted: readonly string[], presetType: string): Promise<string[]> {
  const prefix = asset.sub_path ? `${asset.sub_path}/` : '';
  if (wanted.length === 0) {
    const listing = await store.list(asset.container, asset.sub_path ?? '');
    const blobs = pickInputFiles(listing.blobs, presetType).map((b) => b.name);
    if (blobs.length === 0) throw new EncodeError('DownloadNotAccessible', `Input asset '${asset.name}' holds no media file to encode`);
    return blobs;
  }
  const blobs: string[] = [];
  for (const file of wanted) {
    const blob = joinBlobPath(asset.sub_path, assertBlobPath(file, 'input file name'));
    const info = await store.stat(asset.container, blob);
    if (!info) throw new EncodeError('DownloadNotAccessible', `File '${file}' not found in input asset '${asset.name}'`);
    if (!/\.ism$/i.test(blob)) {
      blobs.push(blob);
      continue;
    }
    // A named server manifest stands for the renditions it lists.
    for (const source of ismSources(await readIsm(store, asset.container, blob, info.size, file), blob)) {
      const sourcePath = assertBlobPath(source, 'file named by the .ism');
      if (!(await store.stat(asset.container, sourcePath)))
        throw new EncodeError('ContentMalformed', `'${file}' names '${sourcePath.slice(prefix.length)}', which is not in input asset '${asset.name}'`);
      if (!blobs.includes(sourcePath)) blobs.push(sourcePath);
    }
  }
  return blobs;
}

async function readIsm(store: BlobStore, container: string, blob: string, size: number, file: string) {
  if (size > maxIsmBytes) throw new EncodeError('ContentUnsupported', `'${file}' is too large for a server manifest`);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(container, blob)) chunks.push(chunk as Buffer);
  try {
    return parseIsm(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new EncodeError('ContentMalformed', `'${file}' is not a readable server manifest: ${err instanceof Error ? err.message : 'unreadable'}`);
  }
}
