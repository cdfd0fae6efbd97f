import { useEffect, useState, type FormEvent } from 'react';
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Card,
  Group,
  Modal,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, api, errorText, fieldErrors, seg } from '../api/client';
import type { Asset, IngestHealth, ListBody, LiveEvent, LiveOutput, LocatorItem } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { CopyField } from '../components/copy-field';
import { formatBitrate, formatTime } from '../components/format';
import { ShakaPlayer } from '../components/player';
import { ResourceStateBadge } from '../components/resource-state';
import { EmptyState, ErrorState, PageHeader, QueryView } from '../components/states';
import { PlaybackSection } from './asset';
import { LiveEventActions, liveRefetchMs } from './live-events';
import { useStorageAccounts } from './storage';

/** The stream key OBS asks for: the event's access token is already in the server URL, so any key is accepted. */
const rtmpStreamKey = 'stream';

export function LiveEventPage() {
  const { project, base } = useProject();
  const { event: name = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const event = useQuery({
    queryKey: ['live-event', base, name],
    queryFn: () => api<LiveEvent>('GET', `${base}/liveEvents/${seg(name)}`),
    refetchInterval: (q) => liveRefetchMs(q.state.data?.properties.resourceState),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['live-event', base, name] });
    void queryClient.invalidateQueries({ queryKey: ['live-events', base] });
  };

  return (
    <QueryView query={event} loading="Loading the live event…" errorTitle={`Could not load live event ${name}`}>
      {(e) => (
        <Stack gap="lg">
          <PageHeader
            title={e.name}
            description={e.properties.description || 'No description'}
            actions={
              <>
                <Box role="status" aria-label="Live event state">
                  <ResourceStateBadge state={e.properties.resourceState} />
                </Box>
                <LiveEventActions
                  base={base}
                  event={e}
                  onChanged={refresh}
                  onDeleted={() => {
                    void queryClient.invalidateQueries({ queryKey: ['live-events', base] });
                    notifications.show({ color: 'green', message: `Live event ${e.name} deleted` });
                    navigate(`/projects/${encodeURIComponent(project)}/live-events`);
                  }}
                />
              </>
            }
          />
          <Card withBorder>
            <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
              <Field label="Ingest protocol" value={e.properties.input.streamingProtocol} />
              <Field
                label="Encoding"
                value={`${e.properties.encoding?.encodingType ?? '—'}${e.properties.encoding?.presetName ? ` (${e.properties.encoding.presetName})` : ''}`}
              />
              <Field label="Latency" value={e.properties.streamOptions?.join(', ') ?? 'Default'} />
              <Field label="Created" value={formatTime(e.properties.created)} />
            </SimpleGrid>
          </Card>
          <IngestSection event={e} />
          <HealthSection base={base} event={e} />
          <PreviewSection base={base} event={e} />
          <OutputsSection base={base} project={project} event={e} />
        </Stack>
      )}
    </QueryView>
  );
}

function Field({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
}

/** Where the encoder pushes. The access token is part of each URL and shown only there. */
function IngestSection({ event: e }: { event: LiveEvent }) {
  const running = e.properties.resourceState === 'Running';
  return (
    <section aria-labelledby="ingest-title">
      <Title order={3} id="ingest-title" mb="xs">
        Ingest
      </Title>
      {!running && (
        <Text size="sm" c="dimmed" mb="xs">
          The event accepts an encoder only while it runs: start it, then push to these URLs.
        </Text>
      )}
      <Stack gap="xs">
        {e.properties.input.endpoints.map((ep) =>
          ep.url.startsWith('rtmp') ? (
            <SimpleGrid key={ep.url} cols={{ base: 1, sm: 3 }} spacing="xs">
              <CopyField label={`${ep.protocol} server`} value={ep.url} description="OBS: Settings → Stream → Server" />
              <CopyField label="Stream key" value={rtmpStreamKey} description="Any key works: the token is in the server URL" />
              <CopyField label={`${ep.protocol} URL for ffmpeg`} value={`${ep.url}/${rtmpStreamKey}`} description="ffmpeg … -f flv <this URL>" />
            </SimpleGrid>
          ) : (
            <CopyField
              key={ep.url}
              label={`${ep.protocol} URL`}
              value={ep.url}
              description="ffmpeg … -f mpegts <this URL>, or the SRT settings of your encoder"
            />
          ),
        )}
        {e.properties.input.endpoints.length === 0 && <Text size="sm">The server lists no ingest URL for this event.</Text>}
      </Stack>
    </section>
  );
}

/** `GET …/ingestHealth` every 2 s while the event runs: 404 (null here) means no ingest to report on. */
function useIngestHealth(base: string, e: LiveEvent) {
  const active = e.properties.resourceState === 'Running' || e.properties.resourceState === 'Starting';
  const health = useQuery({
    queryKey: ['ingest-health', base, e.name],
    queryFn: async () => {
      try {
        return await api<IngestHealth>('GET', `${base}/liveEvents/${seg(e.name)}/ingestHealth`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    enabled: active,
    refetchInterval: 2000,
    retry: false,
  });
  return { active, health };
}

function HealthSection({ base, event: e }: { base: string; event: LiveEvent }) {
  const { active, health } = useIngestHealth(base, e);
  const h = active ? health.data : null;
  return (
    <section aria-labelledby="health-title">
      <Title order={3} id="health-title" mb="xs">
        Ingest health
      </Title>
      {health.isError && active && <ErrorState title="Could not read the ingest health" error={health.error} />}
      {!h && (
        <Text size="sm" c="dimmed" role="status">
          {active ? 'No encoder connected' : 'Not running: start the event to receive a stream.'}
        </Text>
      )}
      {h && (
        <Card withBorder role="region" aria-label="Ingest health">
          <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
            <div>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                Encoder
              </Text>
              <Badge color={h.isConnected ? 'green' : 'gray'} variant="light">
                {h.isConnected ? 'Connected' : 'No encoder connected'}
              </Badge>
            </div>
            <Field label="Bitrate" value={formatBitrate(h.bitrateBps)} />
            <Field label="Frame rate" value={h.frameRate ? `${h.frameRate.toFixed(h.frameRate % 1 === 0 ? 0 : 2)} fps` : '—'} />
            <Field label="Last frame" value={formatTime(h.lastFrameTime)} />
          </SimpleGrid>
          {h.lastError && (
            <Text size="sm" c="red" mt="sm" role="alert">
              {h.lastError}
            </Text>
          )}
        </Card>
      )}
    </section>
  );
}

/**
 * The preview locator played from the origin `preview.endpoints` names: its DASH URL as listed, and the HLS form
 * of the same locator (`{origin}/{previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`).
 */
function PreviewSection({ base, event: e }: { base: string; event: LiveEvent }) {
  const [protocol, setProtocol] = useState<'Hls' | 'Dash'>('Hls');
  const dash = e.properties.preview?.endpoints[0]?.url;
  const locator = e.properties.preview?.previewLocator;
  const hls = dash && locator ? `${new URL(dash).origin}/${locator}/manifest.ism/manifest(format=m3u8-cmaf)` : undefined;
  const src = protocol === 'Hls' ? (hls ?? dash) : dash;
  // Played once an encoder pushes: before that the origin has nothing to list.
  const { health } = useIngestHealth(base, e);
  const receiving = e.properties.resourceState === 'Running' && health.data?.isConnected === true;
  return (
    <section aria-labelledby="preview-title">
      <Group justify="space-between" mb="xs">
        <Title order={3} id="preview-title">
          Preview
        </Title>
        <SegmentedControl
          aria-label="Preview protocol"
          size="xs"
          value={protocol}
          onChange={(v) => setProtocol(v as 'Hls' | 'Dash')}
          data={[
            { value: 'Hls', label: 'HLS', disabled: !hls },
            { value: 'Dash', label: 'DASH', disabled: !dash },
          ]}
        />
      </Group>
      {!dash && <Text size="sm">The server lists no preview URL for this event.</Text>}
      {dash && (
        <Stack gap="xs">
          {receiving && src ? (
            <Box maw={960} w="100%">
              <ShakaPlayer key={src} src={src} title={`Preview of ${e.name} (${protocol === 'Hls' ? 'HLS' : 'DASH'})`} />
            </Box>
          ) : (
            <Text size="sm" c="dimmed">
              The preview plays while the event runs and an encoder pushes to it.
            </Text>
          )}
          {hls && <CopyField label="Preview HLS URL" value={hls} />}
          <CopyField label="Preview DASH URL" value={dash} />
        </Stack>
      )}
    </section>
  );
}

function OutputsSection({ base, project, event: e }: { base: string; project: string; event: LiveEvent }) {
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [playing, setPlaying] = useState<string | null>(null);
  const path = `${base}/liveEvents/${seg(e.name)}/liveOutputs`;
  const outputs = useQuery({
    queryKey: ['live-outputs', base, e.name],
    queryFn: async () => (await api<ListBody<LiveOutput>>('GET', path)).value,
    refetchInterval: liveRefetchMs(e.properties.resourceState),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['live-outputs', base, e.name] });
  const assetPath = (asset: string) => `/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(asset)}`;
  const played = outputs.data?.find((o) => o.name === playing);

  return (
    <>
      <section aria-labelledby="outputs-title">
        <Group justify="space-between" mb="xs">
          <Title order={3} id="outputs-title">
            Live outputs
          </Title>
          <Button size="sm" onClick={() => setCreating(true)}>
            Create live output
          </Button>
        </Group>
        <QueryView
          query={outputs}
          loading="Loading live outputs…"
          errorTitle="Could not load the live outputs"
          isEmpty={(l) => l.length === 0}
          empty={
            <EmptyState title="No live outputs" action={<Button onClick={() => setCreating(true)}>Create live output</Button>}>
              A live output records the stream into an asset, which plays live (and afterwards) through a streaming locator.
            </EmptyState>
          }
        >
          {(list) => (
            <Table.ScrollContainer minWidth={720}>
              <Table verticalSpacing="xs" aria-label="Live outputs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Asset</Table.Th>
                    <Table.Th>Archive window</Table.Th>
                    <Table.Th>Manifest</Table.Th>
                    <Table.Th>State</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((o) => (
                    <Table.Tr key={o.name} bg={playing === o.name ? 'var(--mantine-primary-color-light)' : undefined}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {o.name}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={assetPath(o.properties.assetName)} size="sm">
                          {o.properties.assetName}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{o.properties.archiveWindowLength}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {o.properties.manifestName ?? '—'}
                        </Text>
                      </Table.Td>
                      <Table.Td>{o.properties.resourceState ? <ResourceStateBadge state={o.properties.resourceState} /> : '—'}</Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Button
                            size="xs"
                            variant={playing === o.name ? 'filled' : 'default'}
                            aria-pressed={playing === o.name}
                            aria-label={`Play live output ${o.name}`}
                            onClick={() => setPlaying(o.name)}
                          >
                            Play
                          </Button>
                          <ConfirmButton
                            label="Delete"
                            ariaLabel={`Delete live output ${o.name}`}
                            title={`Delete live output ${o.name}?`}
                            confirmLabel="Delete output"
                            message={`Recording stops; asset ${o.properties.assetName} and what it recorded stay.`}
                            onConfirm={() => api('DELETE', `${path}/${seg(o.name)}`)}
                            onDone={() => {
                              if (playing === o.name) setPlaying(null);
                              refresh();
                            }}
                          />
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryView>
      </section>
      {played && <OutputPlayback base={base} project={project} assetName={played.properties.assetName} />}
      <CreateOutputModal opened={creating} onClose={() => setCreating(false)} base={base} event={e} onCreated={refresh} />
    </>
  );
}

/**
 * A live output plays as its asset does: through a streaming locator, on the asset page's playback view. Without
 * one, "Publish" creates it (`PUT /streamingLocators/{name}` with the clear streaming policy).
 */
function OutputPlayback({ base, project, assetName }: { base: string; project: string; assetName: string }) {
  const queryClient = useQueryClient();
  const locatorsKey = ['asset-locators', base, assetName];
  const locators = useQuery({
    queryKey: locatorsKey,
    queryFn: async () => (await api<{ streamingLocators: LocatorItem[] }>('POST', `${base}/assets/${seg(assetName)}/listStreamingLocators`)).streamingLocators,
  });
  const publish = useMutation({
    mutationFn: () =>
      api('PUT', `${base}/streamingLocators/${seg(`${assetName}-${Date.now().toString(36)}`.slice(0, 260))}`, {
        properties: { assetName, streamingPolicyName: 'Predefined_ClearStreamingOnly' },
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: locatorsKey }),
  });
  const locator = locators.data?.[0];
  if (locators.isError)
    return <ErrorState title={`Could not load the locators of ${assetName}`} error={locators.error} onRetry={() => void locators.refetch()} />;
  if (locators.isPending) return null;
  if (locator) return <PlaybackSection base={base} project={project} locator={locator} />;
  return (
    <EmptyState
      title={`Asset ${assetName} is not published`}
      action={
        <Button loading={publish.isPending} onClick={() => publish.mutate()}>
          Publish
        </Button>
      }
    >
      Publishing creates a streaming locator (clear HLS and DASH) for the asset; it plays live while the event runs.
      {publish.isError && (
        <Text size="sm" c="red" role="alert" component="span" display="block">
          {errorText(publish.error)}
        </Text>
      )}
    </EmptyState>
  );
}

const outputFields = {
  name: { paths: ['params.output', 'params.name'], codes: ['Conflict'] },
  asset: { paths: ['properties.assetName'], codes: ['AssetNotFound', 'AssetInUse'] },
  storage: { paths: ['properties.storageAccountName'], codes: ['StorageAccountNotFound'] },
  archive: { paths: ['properties.archiveWindowLength'] },
  manifest: { paths: ['properties.manifestName'] },
};

/**
 * A live output records into an existing asset, or into a new one created first: `PUT /assets/{name}` naming only
 * its storage account (Reel has no default account to fall back on).
 */
function CreateOutputModal({
  opened,
  onClose,
  base,
  event: e,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  base: string;
  event: LiveEvent;
  onCreated: () => void;
}) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'new' | 'existing'>('new');
  const [newAsset, setNewAsset] = useState('');
  const [existing, setExisting] = useState<string | null>(null);
  const [archive, setArchive] = useState('PT1H');
  const [manifest, setManifest] = useState('');
  const [storage, setStorage] = useState<string | null>(null);
  const accounts = useStorageAccounts(base);
  const storageName = storage ?? accounts.data?.[0]?.metadata.name ?? null;
  const assets = useQuery({
    queryKey: ['assets', base, 'live-output-picker'],
    queryFn: async () => (await api<ListBody<Asset>>('GET', `${base}/assets?$top=1000&$orderby=properties/created desc`)).value,
    enabled: opened && mode === 'existing',
  });
  useEffect(() => {
    if (!opened) return;
    const stamp = Date.now().toString(36);
    setName(`archive-${stamp}`);
    setNewAsset(`${e.name}-${stamp}`);
    setManifest('manifest');
  }, [opened, e.name]);
  const assetName = mode === 'new' ? newAsset.trim() : (existing ?? '');
  const create = useMutation({
    mutationFn: async () => {
      if (mode === 'new') await api('PUT', `${base}/assets/${seg(assetName)}`, { properties: { storageAccountName: storageName } });
      return api('PUT', `${base}/liveEvents/${seg(e.name)}/liveOutputs/${seg(name.trim())}`, {
        properties: { assetName, archiveWindowLength: archive.trim(), manifestName: manifest.trim(), description: '' },
      });
    },
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Live output ${name.trim()} created` });
      onCreated();
      close();
    },
  });
  const close = () => {
    create.reset();
    setExisting(null);
    onClose();
  };
  const errors = create.isError ? fieldErrors(create.error, outputFields) : { byField: {} as Record<string, string>, general: undefined };
  const ready = name.trim() !== '' && assetName !== '' && (mode === 'existing' || storageName !== null) && archive.trim() !== '' && manifest.trim() !== '';
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (ready) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Create live output of ${e.name}`}>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Output name" required value={name} onChange={(ev) => setName(ev.currentTarget.value)} error={errors.byField.name} data-autofocus />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="output-asset-mode">
              Record into
            </Text>
            <SegmentedControl
              aria-labelledby="output-asset-mode"
              value={mode}
              onChange={(v) => setMode(v as 'new' | 'existing')}
              data={[
                { value: 'new', label: 'A new asset' },
                { value: 'existing', label: 'An existing asset' },
              ]}
              style={{ alignSelf: 'flex-start' }}
            />
          </Stack>
          {mode === 'new' ? (
            <>
              <TextInput
                label="New asset name"
                required
                value={newAsset}
                onChange={(ev) => setNewAsset(ev.currentTarget.value)}
                error={errors.byField.asset}
                description="Created before the output."
              />
              <Select
                label="Storage account"
                required
                placeholder={accounts.isPending ? 'Loading…' : 'No storage account yet: add one on the Storage accounts page'}
                data={(accounts.data ?? []).map((a) => a.metadata.name)}
                value={storageName}
                onChange={setStorage}
                allowDeselect={false}
                error={errors.byField.storage ?? (accounts.isError ? `Could not load storage accounts: ${errorText(accounts.error)}` : undefined)}
                comboboxProps={{ withinPortal: true }}
              />
            </>
          ) : (
            <Select
              label="Asset"
              required
              searchable
              value={existing}
              onChange={setExisting}
              data={(assets.data ?? []).map((a) => a.name)}
              nothingFoundMessage={assets.isPending ? 'Loading assets…' : 'No asset of that name'}
              error={errors.byField.asset ?? (assets.isError ? `Could not load assets: ${errorText(assets.error)}` : undefined)}
              comboboxProps={{ withinPortal: true }}
            />
          )}
          <TextInput
            label="Archive window"
            required
            value={archive}
            onChange={(ev) => setArchive(ev.currentTarget.value)}
            description="ISO 8601 duration kept for seeking back while live, e.g. PT30M, PT1H, PT25H."
            error={errors.byField.archive}
          />
          <TextInput
            label="Manifest name"
            required
            value={manifest}
            onChange={(ev) => setManifest(ev.currentTarget.value)}
            description="The .ism name in the playback URLs."
            error={errors.byField.manifest}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The live output was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!ready}>
              Create live output
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
