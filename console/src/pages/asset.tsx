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
  MultiSelect,
  PasswordInput,
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
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, errorText, fieldErrors, seg } from '../api/client';
import type {
  Asset,
  AssetStorage,
  ListBody,
  LocatorItem,
  MediaFilter,
  StreamingEndpoint,
  StreamingLocator,
  StreamingPaths,
  StreamingPolicy,
} from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { CopyField } from '../components/copy-field';
import { formatBitrate, formatBytes, formatTime } from '../components/format';
import { keySystems, ShakaPlayer } from '../components/player';
import { EmptyState, ErrorState, LoadingState, PageHeader, QueryView } from '../components/states';
import { SubmitJobModal } from './jobs';
import { accountFiltersPath, assetFiltersPath, FilterBadges, FilterList, withFilters } from './filters';

export function AssetPage() {
  const { project, base } = useProject();
  const { asset: name = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [encoding, setEncoding] = useState(false);
  const asset = useQuery({ queryKey: ['asset', base, name], queryFn: () => api<Asset>('GET', `${base}/assets/${seg(name)}`) });

  return (
    <QueryView query={asset} loading="Loading the asset…" errorTitle={`Could not load asset ${name}`}>
      {(a) => (
        <Stack gap="lg">
          <PageHeader
            title={a.name}
            description={a.properties.description || 'No description'}
            actions={
              <>
                <Button variant="default" onClick={() => setEncoding(true)}>
                  Encode…
                </Button>
                <ConfirmButton
                  size="sm"
                  label="Delete asset"
                  title={`Delete asset ${a.name}?`}
                  confirmLabel="Delete asset"
                  message={
                    a.properties.containerDeletionPolicy === 'Delete'
                      ? 'The asset and its container (with every file in it) are deleted.'
                      : 'The asset record is deleted; its container and files stay in storage (container deletion policy: Retain).'
                  }
                  onConfirm={() => api('DELETE', `${base}/assets/${seg(a.name)}`)}
                  onDone={() => {
                    void queryClient.invalidateQueries({ queryKey: ['assets', base] });
                    notifications.show({ color: 'green', message: `Asset ${a.name} deleted` });
                    navigate(`/projects/${encodeURIComponent(project)}/assets`);
                  }}
                />
              </>
            }
          />
          <Card withBorder>
            <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
              <Field label="Storage account" value={a.properties.storageAccountName} />
              <Field label="Container" value={`${a.properties.container}${a.properties.subPath ? `/${a.properties.subPath}` : ''}`} mono />
              <Field label="Created" value={formatTime(a.properties.created)} />
              <Field label="Asset id" value={a.properties.assetId} mono />
            </SimpleGrid>
            {Object.keys(a.labels ?? {}).length > 0 && (
              <Group gap={4} mt="sm">
                {Object.entries(a.labels ?? {}).map(([k, v]) => (
                  <Badge key={k} variant="light" tt="none">
                    {k}
                    {v ? `=${v}` : ''}
                  </Badge>
                ))}
              </Group>
            )}
          </Card>
          <FilesSection base={base} name={a.name} />
          <section aria-labelledby="asset-filters-title">
            <Title order={3} id="asset-filters-title">
              Asset filters
            </Title>
            <Text size="sm" c="dimmed">
              Filters of this asset only; an asset filter hides an{' '}
              <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/account-filters`}>
                account filter
              </Anchor>{' '}
              of the same name.
            </Text>
            <FilterList collection={assetFiltersPath(base, a.name)} kind="asset" />
          </section>
          <PublishSection base={base} project={project} name={a.name} />
          <SubmitJobModal opened={encoding} onClose={() => setEncoding(false)} inputAsset={a.name} />
        </Stack>
      )}
    </QueryView>
  );
}

function Field({ label, value, mono }: { label: string; value: string; mono?: boolean }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" ff={mono ? 'monospace' : undefined} style={{ wordBreak: 'break-all' }}>
        {value}
      </Text>
    </div>
  );
}

/** `GET .../assets/{name}/storage/`: the container's files, with the tracks read from each media file. */
function FilesSection({ base, name }: { base: string; name: string }) {
  const storage = useQuery({ queryKey: ['asset-storage', base, name], queryFn: () => api<AssetStorage>('GET', `${base}/assets/${seg(name)}/storage/`) });
  return (
    <section aria-labelledby="files-title">
      <Title order={3} id="files-title" mb="xs">
        Files
      </Title>
      <QueryView
        query={storage}
        loading="Reading the container…"
        errorTitle="Could not list the asset's files"
        isEmpty={(s) => s.spec.files.length === 0 && s.spec.folders.length === 0}
        empty={<EmptyState title="The container is empty">Upload a file, or run a job whose output is this asset.</EmptyState>}
      >
        {(s) => (
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="xs" aria-label="Files">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Size</Table.Th>
                  <Table.Th>Tracks</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {s.spec.folders.map((f) => (
                  <Table.Tr key={`d-${f.name}`}>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {f.name}/
                      </Text>
                    </Table.Td>
                    <Table.Td>—</Table.Td>
                    <Table.Td>folder</Table.Td>
                  </Table.Tr>
                ))}
                {s.spec.files.map((f) => (
                  <Table.Tr key={f.name}>
                    <Table.Td>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {f.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatBytes(f.size)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <TrackSummary storage={s} file={f.name} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
    </section>
  );
}

function TrackSummary({ storage, file }: { storage: AssetStorage; file: string }) {
  const info = storage.spec.mediaInfo?.[file];
  const ism = storage.spec.tracks[file];
  const problem = storage.spec.error?.[file];
  if (problem)
    return (
      <Text size="xs" c="red">
        {typeof problem === 'string' ? problem : 'Could not be read'}
      </Text>
    );
  if (ism?.body) {
    const count = Object.values(ism.body).reduce((n, list) => n + (Array.isArray(list) ? list.length : 0), 0);
    return (
      <Text size="xs" c="dimmed">
        Server manifest: {count} track{count === 1 ? '' : 's'}
      </Text>
    );
  }
  if (!info)
    return (
      <Text size="xs" c="dimmed">
        —
      </Text>
    );
  return (
    <Group gap={4}>
      {info.tracks.map((t) => (
        <Badge key={t.index} variant="light" color={t.type === 'video' ? 'blue' : t.type === 'audio' ? 'grape' : 'gray'} tt="none" size="sm">
          {t.type} {t.codec}
          {t.width ? ` ${t.width}×${t.height}` : ''}
          {t.language ? ` ${t.language}` : ''} {formatBitrate(t.bitrateBps)}
        </Badge>
      ))}
    </Group>
  );
}

/** Locators of the asset, creating one, and playback through a streaming endpoint. */
function PublishSection({ base, project, name }: { base: string; project: string; name: string }) {
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  // `?locator=` (the locators page links here with it) chooses the locator to play.
  const [searchParams] = useSearchParams();
  const [selected, setSelected] = useState<string | null>(searchParams.get('locator'));
  const locators = useQuery({
    queryKey: ['asset-locators', base, name],
    queryFn: async () => (await api<{ streamingLocators: LocatorItem[] }>('POST', `${base}/assets/${seg(name)}/listStreamingLocators`)).streamingLocators,
  });
  const current = locators.data?.find((l) => l.name === selected) ?? locators.data?.[0];
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['asset-locators', base, name] });

  return (
    <>
      <section aria-labelledby="locators-title">
        <Group justify="space-between" mb="xs">
          <Title order={3} id="locators-title">
            Streaming locators
          </Title>
          <Button size="sm" onClick={() => setCreating(true)}>
            Create locator
          </Button>
        </Group>
        <QueryView
          query={locators}
          loading="Loading locators…"
          errorTitle="Could not load the asset's locators"
          isEmpty={(l) => l.length === 0}
          empty={
            <EmptyState title="Not published" action={<Button onClick={() => setCreating(true)}>Create locator</Button>}>
              A streaming locator makes the asset playable at a URL.
            </EmptyState>
          }
        >
          {(list) => (
            <Table.ScrollContainer minWidth={620}>
              <Table verticalSpacing="xs" highlightOnHover aria-label="Streaming locators">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Policy</Table.Th>
                    <Table.Th>Locator id</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((l) => (
                    <Table.Tr key={l.name} bg={current?.name === l.name ? 'var(--mantine-primary-color-light)' : undefined}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {l.name}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{l.streamingPolicyName}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="xs" ff="monospace">
                          {l.streamingLocatorId}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatTime(l.created)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Button
                            size="xs"
                            variant={current?.name === l.name ? 'filled' : 'default'}
                            onClick={() => setSelected(l.name)}
                            aria-pressed={current?.name === l.name}
                            aria-label={`Play locator ${l.name}`}
                          >
                            Play
                          </Button>
                          <ConfirmButton
                            label="Delete"
                            ariaLabel={`Delete locator ${l.name}`}
                            title={`Delete locator ${l.name}?`}
                            confirmLabel="Delete locator"
                            message="Its playback URLs stop working (CDN copies may play until they expire)."
                            onConfirm={() => api('DELETE', `${base}/streamingLocators/${seg(l.name)}`)}
                            onDone={refresh}
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
      {current && <PlaybackSection base={base} project={project} locator={current} />}
      <CreateLocatorModal
        opened={creating}
        onClose={() => setCreating(false)}
        base={base}
        assetName={name}
        onCreated={(n) => {
          setSelected(n);
          refresh();
        }}
      />
    </>
  );
}

type Protocol = 'Hls' | 'Dash';

/** How listPaths' encryption schemes are named in the console. */
const schemeLabels: Record<string, string> = {
  NoEncryption: 'Clear',
  EnvelopeEncryption: 'AES-128',
  CommonEncryptionCenc: 'CENC',
  CommonEncryptionCbcs: 'CBCS',
};

export function PlaybackSection({ base, project, locator }: { base: string; project: string; locator: LocatorItem }) {
  const [protocol, setProtocol] = useState<Protocol>('Hls');
  const [scheme, setScheme] = useState('NoEncryption');
  // The playback token lives in this component's memory only: never stored, never sent to the API.
  const [tokenDraft, setTokenDraft] = useState('');
  const [token, setToken] = useState('');
  const paths = useQuery({
    queryKey: ['locator-paths', base, locator.name],
    queryFn: () => api<StreamingPaths>('POST', `${base}/streamingLocators/${seg(locator.name)}/listPaths`),
  });
  const endpoints = useQuery({
    queryKey: ['endpoints', base],
    queryFn: async () => (await api<ListBody<StreamingEndpoint>>('GET', `${base}/streamingEndpoints`)).value,
  });
  const [endpointName, setEndpointName] = useState<string | null>(null);
  // Filters: the locator's own apply to every URL; the ones picked here go into the URLs' `filter=` (3 in all).
  const detail = useQuery({
    queryKey: ['locator', base, locator.name],
    queryFn: () => api<StreamingLocator>('GET', `${base}/streamingLocators/${seg(locator.name)}`),
  });
  const locatorFilters = detail.data?.properties.filters ?? [];
  const choices = useFilterChoices(base, locator.assetName);
  const [picked, setPicked] = useState<string[]>([]);
  const room = Math.max(0, maxFilters - locatorFilters.length);
  const applied = picked.filter((n) => choices.names.includes(n)).slice(0, room);
  const filtered = (p: string) => withFilters(p, applied);
  const endpoint =
    endpoints.data?.find((e) => e.name === endpointName) ?? endpoints.data?.find((e) => e.properties.resourceState === 'Running') ?? endpoints.data?.[0];
  // The endpoint's scheme is the console's: a TLS-terminating proxy in front of one serves both.
  const origin = endpoint ? `${window.location.protocol}//${endpoint.properties.hostName}` : '';
  /** listPaths' paths (and licence URLs) are host-less: they play from the chosen streaming endpoint. */
  const absolute = (p: string) => (/^https?:\/\//.test(p) ? p : `${origin}${p}`);
  const listed = paths.data?.streamingPaths ?? [];
  const playable = listed.filter((p) => p.streamingProtocol === 'Hls' || p.streamingProtocol === 'Dash');
  const available = [...new Set(playable.map((p) => p.streamingProtocol))];
  const schemes = playable.filter((p) => p.streamingProtocol === protocol).map((p) => p.encryptionScheme);
  useEffect(() => {
    if (available.length > 0 && !available.includes(protocol)) setProtocol(available[0] as Protocol);
  }, [available, protocol]);
  useEffect(() => {
    if (schemes.length > 0 && !schemes.includes(scheme)) setScheme(schemes.includes('NoEncryption') ? 'NoEncryption' : schemes[0]);
  }, [schemes, scheme]);
  const chosen = playable.find((p) => p.streamingProtocol === protocol && p.encryptionScheme === scheme);
  const src = chosen?.paths[0] && origin ? `${origin}${filtered(chosen.paths[0])}` : undefined;
  const encrypted = chosen !== undefined && chosen.encryptionScheme !== 'NoEncryption';
  const licenses = Object.entries(paths.data?.drm ?? {}).filter(([, d]) => typeof d?.licenseAcquisitionUrl === 'string');
  // ShakaPlayer compares this by value: a new object each render does not reload the stream.
  const protection = encrypted
    ? {
        licenseServers: Object.fromEntries(
          licenses.filter(([name]) => keySystems[name]).map(([name, d]) => [keySystems[name], absolute(d.licenseAcquisitionUrl)]),
        ),
        token: token || undefined,
      }
    : undefined;

  return (
    <section aria-labelledby="playback-title">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={3} id="playback-title">
          Playback · {locator.name}
        </Title>
        <Group gap="xs" wrap="wrap">
          {(endpoints.data?.length ?? 0) > 1 && (
            <Select
              aria-label="Streaming endpoint"
              size="xs"
              w={180}
              value={endpoint?.name ?? null}
              allowDeselect={false}
              data={(endpoints.data ?? []).map((e) => ({ value: e.name, label: `${e.name} (${e.properties.resourceState})` }))}
              onChange={setEndpointName}
            />
          )}
          <SegmentedControl
            aria-label="Streaming protocol"
            size="xs"
            value={protocol}
            onChange={(v) => setProtocol(v as Protocol)}
            data={[
              { value: 'Hls', label: 'HLS', disabled: !available.includes('Hls') },
              { value: 'Dash', label: 'DASH', disabled: !available.includes('Dash') },
            ]}
          />
          {schemes.length > 1 && (
            <SegmentedControl
              aria-label="Encryption"
              size="xs"
              value={scheme}
              onChange={setScheme}
              data={schemes.map((s) => ({ value: s, label: schemeLabels[s] ?? s }))}
            />
          )}
          {schemes.length === 1 && encrypted && (
            <Badge variant="light" aria-label="Encryption">
              {schemeLabels[scheme] ?? scheme}
            </Badge>
          )}
        </Group>
      </Group>
      {(paths.isPending || endpoints.isPending) && <LoadingState label="Finding playback URLs…" />}
      {paths.isError && <ErrorState title="Could not list playback paths" error={paths.error} onRetry={() => void paths.refetch()} />}
      {endpoints.isError && <ErrorState title="Could not load streaming endpoints" error={endpoints.error} onRetry={() => void endpoints.refetch()} />}
      {paths.isSuccess && endpoints.isSuccess && (
        <Stack gap="sm">
          <Group align="flex-end" gap="md" wrap="wrap">
            <MultiSelect
              label="Filters"
              description={
                locatorFilters.length > 0
                  ? `Added to the URLs' filter= option; with the locator's own, at most ${maxFilters} apply (${room} left).`
                  : `Added to the URLs' filter= option; at most ${maxFilters}.`
              }
              placeholder={applied.length === 0 ? (choices.names.length === 0 ? 'No filters yet' : 'Unfiltered') : undefined}
              w={{ base: '100%', sm: 460 }}
              data={choices.data}
              value={applied}
              onChange={setPicked}
              maxValues={room}
              disabled={room === 0 || choices.names.length === 0}
              clearable
              searchable
              error={choices.error}
            />
            {locatorFilters.length > 0 && (
              <Stack gap={4}>
                <Text size="sm" fw={500}>
                  Locator filters (always applied)
                </Text>
                <FilterBadges names={locatorFilters} />
              </Stack>
            )}
          </Group>
          {!endpoint && (
            <Alert color="yellow" title="No streaming endpoint">
              Create one on the{' '}
              <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/streaming-endpoints`}>
                streaming endpoints
              </Anchor>{' '}
              page.
            </Alert>
          )}
          {endpoint && endpoint.properties.resourceState !== 'Running' && (
            <Alert color="yellow" title={`Streaming endpoint ${endpoint.name} is ${endpoint.properties.resourceState}`}>
              Start it on the{' '}
              <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/streaming-endpoints`}>
                streaming endpoints
              </Anchor>{' '}
              page to play.
            </Alert>
          )}
          {available.length === 0 && (
            <Alert color="yellow" title="No HLS or DASH path">
              The locator's policy ({locator.streamingPolicyName}) enables no HLS or DASH streaming.
            </Alert>
          )}
          {encrypted && (
            <form
              onSubmit={(e: FormEvent) => {
                e.preventDefault();
                setToken(tokenDraft.trim());
              }}
            >
              <Group align="flex-end" gap="xs" wrap="wrap">
                <PasswordInput
                  label="Playback token"
                  description="A JWT for the content key policy, if it asks for one. Sent as a Bearer token on key and licence requests only; kept in this page's memory."
                  placeholder="eyJ…"
                  autoComplete="off"
                  w={{ base: '100%', sm: 520 }}
                  value={tokenDraft}
                  onChange={(e) => setTokenDraft(e.currentTarget.value)}
                />
                <Button type="submit" variant="default">
                  {tokenDraft.trim() ? 'Play with token' : 'Play without token'}
                </Button>
              </Group>
            </form>
          )}
          {encrypted && !window.isSecureContext && (
            <Alert color="yellow" title="Protected playback needs HTTPS">
              Browsers decrypt only on secure pages: open the console over HTTPS (or on localhost) to play this path.
            </Alert>
          )}
          {src && endpoint?.properties.resourceState === 'Running' && (
            <Box maw={960} w="100%">
              <ShakaPlayer
                key={src}
                src={src}
                protection={protection}
                title={`${locator.assetName} (${protocol === 'Hls' ? 'HLS' : 'DASH'}${encrypted ? `, ${schemeLabels[scheme] ?? scheme}` : ''})`}
              />
            </Box>
          )}
          {origin && (
            <Stack gap="xs">
              {applied.length > 0 && (
                <Title order={4} size="h5">
                  Filtered playback URLs ({applied.join(', ')})
                </Title>
              )}
              {listed.flatMap((p) =>
                p.paths.map((path) => <CopyField key={path} label={urlLabel(p.streamingProtocol, filtered(path))} value={`${origin}${filtered(path)}`} />),
              )}
              {licenses.map(([name, d]) => (
                <CopyField key={name} label={`${drmNames[name] ?? name} licence URL`} value={absolute(d.licenseAcquisitionUrl)} />
              ))}
              {(paths.data?.downloadPaths ?? []).map((path) => (
                <CopyField key={path} label={`Download ${decodeURIComponent(path.split('/').pop() ?? '')}`} value={`${origin}${path}`} />
              ))}
            </Stack>
          )}
        </Stack>
      )}
    </section>
  );
}

const protocolNames: Record<string, string> = { Hls: 'HLS', Dash: 'DASH', SmoothStreaming: 'Smooth Streaming', Download: 'Download' };
const drmNames: Record<string, string> = { clearKey: 'ClearKey', widevine: 'Widevine', playReady: 'PlayReady', fairPlay: 'FairPlay' };

/**
 * `HLS (m3u8-cmaf)`, `DASH (mpd-time-cmaf, encryption cenc)`, `HLS (m3u8-aapl, filter a;b)`: the protocol and the
 * path's format=, encryption= and filter= options.
 */
function urlLabel(protocol: string, path: string): string {
  const format = /format=([^,)]+)/.exec(path)?.[1];
  const encryption = /encryption=([^,)]+)/.exec(path)?.[1];
  const filter = /filter=([^,)]+)/.exec(path)?.[1];
  const options = [format, encryption && `encryption ${encryption}`, filter && `filter ${filter}`].filter(Boolean).join(', ');
  return `${protocolNames[protocol] ?? protocol}${options ? ` (${options})` : ''}`;
}

/** AMS applies at most three filters to a request: the locator's and the URL's together. */
const maxFilters = 3;

/** The asset's filters and the project's account filters, as MultiSelect groups (an asset filter hides an account filter of its name). */
function useFilterChoices(base: string, assetName: string, enabled = true) {
  const list = (path: string) => ({
    queryKey: ['filters', path],
    queryFn: async () => (await api<ListBody<MediaFilter>>('GET', path)).value,
    enabled,
  });
  const assetFilters = useQuery(list(assetFiltersPath(base, assetName)));
  const accountFilters = useQuery(list(accountFiltersPath(base)));
  const own = (assetFilters.data ?? []).map((f) => f.name);
  const account = (accountFilters.data ?? []).map((f) => f.name).filter((n) => !own.includes(n));
  const data = [
    ...(own.length > 0 ? [{ group: 'Asset filters', items: own }] : []),
    ...(account.length > 0 ? [{ group: 'Account filters', items: account }] : []),
  ];
  const failed = assetFilters.error ?? accountFilters.error;
  return { data, names: [...own, ...account], error: failed ? `Could not load filters: ${errorText(failed)}` : undefined };
}

const locatorFields = {
  name: { paths: ['params.name'], codes: ['Conflict'] },
  policy: { paths: ['properties.streamingPolicyName'], codes: ['StreamingPolicyNotFound'] },
  filters: { paths: ['properties.filters'], codes: ['FilterNotFound'] },
};

function CreateLocatorModal({
  opened,
  onClose,
  base,
  assetName,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  base: string;
  assetName: string;
  onCreated: (name: string) => void;
}) {
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState<string | null>('Predefined_ClearStreamingOnly');
  const [filters, setFilters] = useState<string[]>([]);
  const choices = useFilterChoices(base, assetName, opened);
  const policies = useQuery({
    queryKey: ['policies', base],
    queryFn: async () => (await api<ListBody<StreamingPolicy>>('GET', `${base}/streamingPolicies`)).value,
    enabled: opened,
  });
  useEffect(() => {
    if (opened) {
      setName(`${assetName}-${Date.now().toString(36)}`.slice(0, 260));
      setFilters([]);
    }
  }, [opened, assetName]);
  const create = useMutation({
    mutationFn: () =>
      api('PUT', `${base}/streamingLocators/${seg(name.trim())}`, {
        properties: { assetName, streamingPolicyName: policy, ...(filters.length > 0 ? { filters } : {}) },
      }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Locator ${name.trim()} created` });
      onCreated(name.trim());
      close();
    },
  });
  const close = () => {
    create.reset();
    onClose();
  };
  const errors = create.isError ? fieldErrors(create.error, locatorFields) : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() && policy) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Publish ${assetName}`}>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Locator name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.byField.name ?? (name.trim() ? undefined : 'Enter a name')}
            data-autofocus
          />
          <Select
            label="Streaming policy"
            required
            value={policy}
            onChange={setPolicy}
            allowDeselect={false}
            data={(policies.data ?? [{ name: 'Predefined_ClearStreamingOnly' } as StreamingPolicy]).map((p) => p.name)}
            error={errors.byField.policy ?? (policies.isError ? 'Could not load policies' : undefined)}
            description="Predefined_ClearStreamingOnly serves HLS and DASH in the clear."
          />
          <MultiSelect
            label="Filters"
            description={`Applied to every URL of the locator (at most ${maxFilters}, counting those a URL adds).`}
            placeholder={filters.length === 0 ? (choices.names.length === 0 ? 'No filters yet' : 'None') : undefined}
            data={choices.data}
            value={filters}
            onChange={setFilters}
            maxValues={maxFilters}
            disabled={choices.names.length === 0}
            clearable
            searchable
            error={errors.byField.filters ?? choices.error}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The locator was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim() || !policy}>
              Create locator
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
