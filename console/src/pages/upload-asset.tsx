import { useRef, useState, type FormEvent } from 'react';
import { Alert, Anchor, Button, FileInput, Group, Modal, Progress, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ApiError, api, errorText, fieldErrors, seg } from '../api/client';
import { useProject } from '../app/session';
import { formatBytes } from '../components/format';
import { useStorageAccounts } from './storage';

type Phase = 'idle' | 'creating' | 'uploading' | 'done' | 'failed';

/**
 * PUTs a file to a signed upload URL with XMLHttpRequest (fetch reports no upload progress). The URL's path
 * and token are used on this page's own origin: every Reel process serves `/files`, and REEL_PUBLIC_URL may
 * name another host than the one the browser reached.
 */
export function putWithProgress(url: string, file: File, onProgress: (loaded: number, total: number) => void, signal: AbortSignal): Promise<void> {
  const target = new URL(url, window.location.href);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', target.pathname + target.search);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let detail = `${xhr.status} ${xhr.statusText}`;
      try {
        detail = (JSON.parse(xhr.responseText) as { error: { detail: string } }).error.detail;
      } catch {
        /* keep the status line */
      }
      reject(new ApiError(xhr.status, 'UploadFailed', detail));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NetworkError', 'The upload was interrupted: the server could not be reached'));
    xhr.onabort = () => reject(new ApiError(0, 'Aborted', 'The upload was canceled'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

const uploadFields = {
  name: { paths: ['params.name'], codes: ['AssetExists'] },
  storageAccountName: { paths: ['properties.storageAccountName'], codes: ['StorageAccountNotFound'] },
  description: { paths: ['properties.description'] },
  file: { paths: ['body.fileName'], codes: ['InvalidPath'] },
};

/** Upload a local file into a new asset: `PUT .../assets/{name}`, `POST .../getUploadUrl`, then PUT the bytes. */
export function UploadAssetModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { project, base } = useProject();
  const accounts = useStorageAccounts(base);
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [storageAccountName, setStorage] = useState<string | null>(null);
  const [description, setDescription] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState({ loaded: 0, total: 0 });
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState<Record<string, string>>({});
  const abort = useRef<AbortController | null>(null);
  const busy = phase === 'creating' || phase === 'uploading';

  const close = () => {
    if (busy) return;
    setName('');
    setDescription('');
    setFile(null);
    setPhase('idle');
    setProgress({ loaded: 0, total: 0 });
    setError(null);
    setMissing({});
    onClose();
  };

  const start = async () => {
    const controller = new AbortController();
    abort.current = controller;
    setError(null);
    setPhase('creating');
    const asset = name.trim();
    try {
      const existing = await api('GET', `${base}/assets/${seg(asset)}`).then(
        () => true,
        (e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return false;
          throw e;
        },
      );
      if (existing) throw new ApiError(409, 'AssetExists', `An asset named '${asset}' already exists: choose another name`);
      await api('PUT', `${base}/assets/${seg(asset)}`, {
        properties: { storageAccountName, ...(description.trim() ? { description: description.trim() } : {}) },
      });
      void queryClient.invalidateQueries({ queryKey: ['assets', base] });
      const grant = await api<{ url: string }>('POST', `${base}/assets/${seg(asset)}/getUploadUrl`, { fileName: (file as File).name });
      setPhase('uploading');
      setProgress({ loaded: 0, total: (file as File).size });
      await putWithProgress(grant.url, file as File, (loaded, total) => setProgress({ loaded, total }), controller.signal);
      setProgress({ loaded: (file as File).size, total: (file as File).size });
      void queryClient.invalidateQueries({ queryKey: ['asset-storage', base, asset] });
      setPhase('done');
    } catch (e) {
      setError(e);
      setPhase('failed');
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const need: Record<string, string> = {};
    if (!name.trim()) need.name = 'Enter a name for the new asset';
    if (!storageAccountName) need.storageAccountName = 'Choose where to store it';
    if (!file) need.file = 'Choose a file';
    setMissing(need);
    if (Object.keys(need).length === 0) void start();
  };

  const errors = error ? fieldErrors(error, uploadFields) : { byField: {} as Record<string, string>, general: undefined };
  const err = (k: string) => missing[k] ?? errors.byField[k];
  const percent = progress.total > 0 ? Math.floor((progress.loaded / progress.total) * 100) : 0;
  const assetLink = `/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(name.trim())}`;

  return (
    <Modal
      opened={opened}
      onClose={close}
      title="Upload a file into a new asset"
      size="lg"
      closeOnClickOutside={!busy}
      closeOnEscape={!busy}
      withCloseButton={!busy}
    >
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Asset name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={err('name')}
            disabled={busy || phase === 'done'}
            data-autofocus
          />
          <Select
            label="Storage account"
            required
            placeholder={accounts.isPending ? 'Loading…' : 'Choose an account'}
            data={(accounts.data ?? []).map((a) => a.metadata.name)}
            value={storageAccountName}
            onChange={setStorage}
            error={err('storageAccountName') ?? (accounts.isError ? `Could not load storage accounts: ${errorText(accounts.error)}` : undefined)}
            disabled={busy || phase === 'done' || accounts.isPending}
            allowDeselect={false}
          />
          <FileInput
            label="File"
            required
            placeholder="Choose a media file"
            value={file}
            onChange={setFile}
            error={err('file')}
            disabled={busy || phase === 'done'}
            clearable
            description={file ? formatBytes(file.size) : 'An MP4 plays at once; other formats need an encoding job first.'}
          />
          <Textarea
            label="Description"
            autosize
            minRows={1}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={err('description')}
            disabled={busy || phase === 'done'}
          />
          {(phase === 'uploading' || phase === 'done' || (phase === 'failed' && progress.total > 0)) && (
            <Stack gap={4}>
              <Progress
                value={percent}
                size="lg"
                striped={phase === 'uploading'}
                animated={phase === 'uploading'}
                color={phase === 'failed' ? 'red' : phase === 'done' ? 'teal' : 'blue'}
                aria-label="Upload progress"
              />
              <Text size="sm" c="dimmed" aria-live="polite">
                {phase === 'done'
                  ? `Uploaded ${formatBytes(progress.total)}`
                  : `${formatBytes(progress.loaded)} of ${formatBytes(progress.total)} (${percent}%)`}
              </Text>
            </Stack>
          )}
          {phase === 'creating' && (
            <Text size="sm" c="dimmed" aria-live="polite">
              Creating the asset…
            </Text>
          )}
          {phase === 'done' && (
            <Alert color="teal" title="Upload complete">
              <Anchor component={Link} to={assetLink} onClick={close}>
                Open asset {name.trim()}
              </Anchor>
            </Alert>
          )}
          {errors.general && (
            <Alert color="red" role="alert" title="The upload did not complete">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            {phase === 'uploading' && (
              <Button variant="default" color="red" onClick={() => abort.current?.abort()}>
                Cancel upload
              </Button>
            )}
            {!busy && (
              <Button variant="default" onClick={close}>
                {phase === 'done' ? 'Close' : 'Cancel'}
              </Button>
            )}
            {phase !== 'done' && (
              <Button type="submit" loading={busy}>
                Upload
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
