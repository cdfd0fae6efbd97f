import { useState, type FormEvent } from 'react';
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Fieldset,
  Group,
  Modal,
  Paper,
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
import { api, fieldErrors, seg } from '../api/client';
import type { FilterCondition, FilterProperties, ListBody, MediaFilter } from '../api/types';
import { useOrgRole, useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { EmptyState, PageHeader, QueryView } from '../components/states';

/** MK.IO's default timescale: 10,000,000 units a second (100 ns). */
export const defaultTimescale = 10_000_000;
const trackProperties = ['Type', 'Name', 'Language', 'FourCC', 'Bitrate', 'Unknown'];
const trackOperations = ['Equal', 'NotEqual'];
const valueHints: Record<string, string> = {
  Type: 'Video, Audio or Text',
  Name: 'The track name, e.g. aac_eng_2_128',
  Language: 'A language tag, e.g. en',
  FourCC: 'e.g. avc1, hev1, mp4a, ec-3',
  Bitrate: 'bit/s: 128000, or a range 0-2000000',
  Unknown: 'Any value',
};

/** The collection path of account filters, or of one asset's filters. */
export const accountFiltersPath = (base: string) => `${base}/accountFilters`;
export const assetFiltersPath = (base: string, asset: string) => `${base}/assets/${seg(asset)}/assetFilters`;

/** Account filters of the project: they apply to any of its assets, by name in a locator or a playback URL. */
export function FiltersPage() {
  const { project, base } = useProject();
  return (
    <>
      <PageHeader
        title="Account filters"
        description={
          <>
            Filters of project {project} that any asset can use: name them in a streaming locator, or add <Code>filter=name</Code> to a playback URL. An asset's
            own filters are on its page.
          </>
        }
      />
      <FilterList collection={accountFiltersPath(base)} kind="account" />
    </>
  );
}

/** One line summing a filter up: `0 s – 4 s · first quality 800000 · 1 track selection`. */
export function filterSummary(p: FilterProperties): string {
  const parts: string[] = [];
  const r = p.presentationTimeRange;
  if (r) {
    const scale = r.timescale ?? defaultTimescale;
    const s = (v: number | undefined) => (v === undefined ? undefined : `${+(v / scale).toFixed(3)} s`);
    if (r.startTimestamp !== undefined || r.endTimestamp !== undefined) parts.push(`${s(r.startTimestamp) ?? 'start'} – ${s(r.endTimestamp) ?? 'end'}`);
    if (r.presentationWindowDuration !== undefined) parts.push(`window ${s(r.presentationWindowDuration)}`);
    if (r.liveBackoffDuration !== undefined) parts.push(`back-off ${s(r.liveBackoffDuration)}`);
  }
  if (p.firstQuality) parts.push(`first quality ${p.firstQuality.bitrate} bit/s`);
  // Selections are ORed, the conditions of one selection ANDed.
  const tracks = (p.tracks ?? []).map((t) => t.trackSelections.map((c) => `${c.property} ${c.operation === 'Equal' ? '=' : '≠'} ${c.value}`).join(' and '));
  if (tracks.length > 0) parts.push(tracks.length === 1 ? tracks[0] : tracks.map((t) => `(${t})`).join(' or '));
  return parts.length > 0 ? parts.join(' · ') : 'Everything (no condition)';
}

/** A filter collection as a table, with create, edit and delete. */
export function FilterList({ collection, kind }: { collection: string; kind: 'account' | 'asset' }) {
  const queryClient = useQueryClient();
  const { role, canWrite } = useOrgRole();
  const filters = useQuery({ queryKey: ['filters', collection], queryFn: async () => (await api<ListBody<MediaFilter>>('GET', collection)).value });
  const [editing, setEditing] = useState<MediaFilter | 'new' | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['filters', collection] });
  const noun = kind === 'account' ? 'account filter' : 'asset filter';
  const createLabel = kind === 'account' ? 'Create account filter' : 'Create asset filter';

  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {canWrite ? '' : `Read-only: you are a ${role} of this organization.`}
        </Text>
        <Button size="sm" onClick={() => setEditing('new')} disabled={!canWrite}>
          {createLabel}
        </Button>
      </Group>
      <QueryView
        query={filters}
        loading="Loading filters…"
        errorTitle={`Could not load the ${noun}s`}
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title={kind === 'account' ? 'No account filters' : 'No asset filters'}>
            A filter trims a presentation to a time range, chooses its tracks, or sets the first quality a player starts with.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={620}>
            <Table verticalSpacing="xs" striped aria-label={kind === 'account' ? 'Account filters' : 'Asset filters'}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Conditions</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((f) => (
                  <Table.Tr key={f.name} data-filter={f.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {f.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{filterSummary(f.properties)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap" justify="flex-end">
                        <Button size="xs" variant="default" disabled={!canWrite} onClick={() => setEditing(f)} aria-label={`Edit filter ${f.name}`}>
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete filter ${f.name}`}
                          title={`Delete ${noun} ${f.name}?`}
                          confirmLabel="Delete filter"
                          disabled={!canWrite}
                          message="Playback URLs naming it stop working. A locator that names it keeps the filter: delete the locator first."
                          onConfirm={() => api('DELETE', `${collection}/${seg(f.name)}`)}
                          onDone={() => {
                            refresh();
                            notifications.show({ color: 'green', message: `Filter ${f.name} deleted` });
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
      {editing && (
        <FilterModal
          key={editing === 'new' ? 'new' : editing.name}
          collection={collection}
          noun={noun}
          filter={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            refresh();
            setEditing(null);
            notifications.show({ color: 'green', message: `Filter ${saved.name} saved` });
          }}
        />
      )}
    </Stack>
  );
}

interface Form {
  start: string;
  end: string;
  window: string;
  backoff: string;
  forceEnd: boolean;
  firstQuality: string;
  selections: FilterCondition[][];
}

const toSeconds = (v: number | undefined, scale: number) => (v === undefined ? '' : String(+(v / scale).toFixed(6)));

function formOf(p: FilterProperties | undefined): Form {
  const r = p?.presentationTimeRange;
  const scale = r?.timescale ?? defaultTimescale;
  return {
    start: toSeconds(r?.startTimestamp, scale),
    end: toSeconds(r?.endTimestamp, scale),
    window: toSeconds(r?.presentationWindowDuration, scale),
    backoff: toSeconds(r?.liveBackoffDuration, scale),
    forceEnd: r?.forceEndTimestamp ?? false,
    firstQuality: p?.firstQuality ? String(p.firstQuality.bitrate) : '',
    selections: (p?.tracks ?? []).map((t) => t.trackSelections.map((c) => ({ ...c }))),
  };
}

/** The PUT body of a form, with what cannot be sent (a field that is not a number) per field. */
function bodyOf(form: Form, timescale: number): { body: { properties: FilterProperties }; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const properties: FilterProperties = {};
  const range: NonNullable<FilterProperties['presentationTimeRange']> = {};
  const time = (
    field: 'start' | 'end' | 'window' | 'backoff',
    key: 'startTimestamp' | 'endTimestamp' | 'presentationWindowDuration' | 'liveBackoffDuration',
  ) => {
    const text = form[field].trim();
    if (!text) return;
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || seconds < 0) local[field] = 'Enter a number of seconds (0 or more)';
    else range[key] = Math.round(seconds * timescale);
  };
  time('start', 'startTimestamp');
  time('end', 'endTimestamp');
  time('window', 'presentationWindowDuration');
  time('backoff', 'liveBackoffDuration');
  if (form.forceEnd) range.forceEndTimestamp = true;
  if (Object.keys(range).length > 0) properties.presentationTimeRange = { ...range, timescale };
  const bitrate = form.firstQuality.trim();
  if (bitrate) {
    if (!/^\d+$/.test(bitrate) || Number(bitrate) < 1) local.firstQuality = 'Enter a bitrate in bit/s';
    else properties.firstQuality = { bitrate: Number(bitrate) };
  }
  if (form.selections.length > 0) properties.tracks = form.selections.map((s) => ({ trackSelections: s.map((c) => ({ ...c, value: c.value.trim() })) }));
  return { body: { properties }, local };
}

/** Where the API's validation lines point, deepest paths first (a condition's value before its selection). */
function errorFields(form: Form) {
  const at = 'properties.presentationTimeRange';
  const fields: Record<string, { paths?: string[]; codes?: string[] }> = {};
  form.selections.forEach((s, i) =>
    s.forEach((_, j) => {
      for (const part of ['property', 'operation', 'value']) fields[`${part}-${i}-${j}`] = { paths: [`properties.tracks.${i}.trackSelections.${j}.${part}`] };
    }),
  );
  form.selections.forEach((_, i) => (fields[`selection-${i}`] = { paths: [`properties.tracks.${i}.trackSelections`, `properties.tracks.${i}`] }));
  Object.assign(fields, {
    name: { paths: ['params.filter'] },
    start: { paths: [`${at}.startTimestamp`] },
    end: { paths: [`${at}.endTimestamp`] },
    window: { paths: [`${at}.presentationWindowDuration`] },
    backoff: { paths: [`${at}.liveBackoffDuration`] },
    firstQuality: { paths: ['properties.firstQuality.bitrate', 'properties.firstQuality'] },
    tracks: { paths: ['properties.tracks'] },
  });
  return fields;
}

function FilterModal({
  collection,
  noun,
  filter,
  onClose,
  onSaved,
}: {
  collection: string;
  noun: string;
  filter?: MediaFilter;
  onClose: () => void;
  onSaved: (f: MediaFilter) => void;
}) {
  const [name, setName] = useState(filter?.name ?? '');
  const [form, setForm] = useState<Form>(() => formOf(filter?.properties));
  // An edited filter keeps its timescale; a new one uses MK.IO's default.
  const timescale = filter?.properties.presentationTimeRange?.timescale ?? defaultTimescale;
  const { body, local } = bodyOf(form, timescale);
  const save = useMutation({
    mutationFn: () => api<MediaFilter>('PUT', `${collection}/${seg(name.trim())}`, body),
    onSuccess: onSaved,
  });
  const errors = save.isError ? fieldErrors(save.error, errorFields(form)) : { byField: {} as Record<string, string>, general: undefined };
  const err = (field: string) => local[field] ?? errors.byField[field];
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const setSelections = (update: (s: FilterCondition[][]) => FilterCondition[][]) => setForm((f) => ({ ...f, selections: update(f.selections) }));
  const setCondition = (i: number, j: number, patch: Partial<FilterCondition>) =>
    setSelections((s) => s.map((sel, si) => (si !== i ? sel : sel.map((c, ci) => (ci === j ? { ...c, ...patch } : c)))));
  const newCondition = (): FilterCondition => ({ property: 'Type', operation: 'Equal', value: '' });
  const ready = name.trim() !== '' && Object.keys(local).length === 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) save.mutate();
  };
  const seconds = (field: 'start' | 'end' | 'window' | 'backoff', label: string, description: string) => (
    <TextInput
      label={label}
      description={description}
      inputMode="decimal"
      rightSection={
        <Text size="xs" c="dimmed">
          s
        </Text>
      }
      value={form[field]}
      onChange={(e) => set(field, e.currentTarget.value)}
      error={err(field)}
    />
  );

  return (
    <Modal opened onClose={onClose} title={filter ? `Edit ${noun} ${filter.name}` : `Create ${noun}`} size="xl">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Filter name"
            required
            disabled={Boolean(filter)}
            description="Letters, digits, - _ . ~ (the name goes into playback URLs)."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={err('name')}
            data-autofocus
          />
          <Fieldset legend="Presentation time range">
            <Text size="xs" c="dimmed" mb="xs">
              In seconds from the start of the presentation; sent in timescale units ({timescale.toLocaleString('en')} a second). Leave empty for no bound.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {seconds('start', 'Start', 'The presentation starts here.')}
              {seconds('end', 'End', 'The presentation ends here.')}
              {seconds('window', 'Presentation window', 'Live: the sliding window kept (at least 10 s).')}
              {seconds('backoff', 'Live back-off', 'Live: held back from the live edge (at most 300 s).')}
            </SimpleGrid>
            <Checkbox mt="sm" label="Force the end timestamp (live)" checked={form.forceEnd} onChange={(e) => set('forceEnd', e.currentTarget.checked)} />
          </Fieldset>
          <TextInput
            label="First quality"
            description="The bitrate (bit/s) of the rendition HLS lists first; the closest one is chosen."
            inputMode="numeric"
            placeholder="e.g. 800000"
            value={form.firstQuality}
            onChange={(e) => set('firstQuality', e.currentTarget.value)}
            error={err('firstQuality')}
          />
          <Fieldset legend="Tracks">
            <Text size="xs" c="dimmed" mb="xs">
              A track is kept when it matches any selection; a selection matches when all its conditions hold. No selection keeps every track.
            </Text>
            <Stack gap="sm">
              {form.selections.map((sel, i) => (
                <Paper key={i} withBorder p="sm" role="group" aria-label={`Track selection ${i + 1}`}>
                  <Group justify="space-between" mb="xs">
                    <Text size="sm" fw={600}>
                      Selection {i + 1}
                    </Text>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      onClick={() => setSelections((s) => s.filter((_, si) => si !== i))}
                      aria-label={`Remove selection ${i + 1}`}
                    >
                      Remove selection
                    </Button>
                  </Group>
                  <Stack gap="xs">
                    {sel.map((c, j) => (
                      <Group key={j} align="flex-start" gap="xs" wrap="wrap" role="group" aria-label={`Condition ${j + 1} of selection ${i + 1}`}>
                        <Select
                          aria-label="Property"
                          w={130}
                          allowDeselect={false}
                          data={trackProperties}
                          value={c.property}
                          onChange={(v) => v && setCondition(i, j, { property: v })}
                          error={errors.byField[`property-${i}-${j}`]}
                        />
                        <Select
                          aria-label="Operation"
                          w={120}
                          allowDeselect={false}
                          data={trackOperations}
                          value={c.operation}
                          onChange={(v) => v && setCondition(i, j, { operation: v })}
                          error={errors.byField[`operation-${i}-${j}`]}
                        />
                        <TextInput
                          aria-label="Value"
                          style={{ flex: '1 1 160px' }}
                          placeholder={valueHints[c.property] ?? ''}
                          value={c.value}
                          onChange={(e) => setCondition(i, j, { value: e.currentTarget.value })}
                          error={errors.byField[`value-${i}-${j}`]}
                        />
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          size="lg"
                          aria-label={`Remove condition ${j + 1} of selection ${i + 1}`}
                          onClick={() => setSelections((s) => s.map((x, si) => (si === i ? x.filter((_, ci) => ci !== j) : x)))}
                        >
                          ×
                        </ActionIcon>
                      </Group>
                    ))}
                    {errors.byField[`selection-${i}`] && (
                      <Text size="xs" c="red">
                        {errors.byField[`selection-${i}`]}
                      </Text>
                    )}
                    <Button
                      size="compact-xs"
                      variant="light"
                      style={{ alignSelf: 'flex-start' }}
                      onClick={() => setSelections((s) => s.map((x, si) => (si === i ? [...x, newCondition()] : x)))}
                      aria-label={`Add condition to selection ${i + 1}`}
                    >
                      Add condition
                    </Button>
                  </Stack>
                </Paper>
              ))}
              {errors.byField.tracks && (
                <Text size="xs" c="red">
                  {errors.byField.tracks}
                </Text>
              )}
              <Button size="xs" variant="default" style={{ alignSelf: 'flex-start' }} onClick={() => setSelections((s) => [...s, [newCondition()]])}>
                Add track selection
              </Button>
            </Stack>
          </Fieldset>
          <div>
            <Title order={6} id="filter-body-title">
              Request body
            </Title>
            <Text size="xs" c="dimmed" mb={4}>
              PUT {collection}/{name.trim() || '{name}'}
            </Text>
            <Code block aria-labelledby="filter-body-title" data-testid="filter-request-body">
              {JSON.stringify(body, null, 2)}
            </Code>
          </div>
          {errors.general && (
            <Alert color="red" role="alert" title="The filter was not saved">
              {errors.general}
            </Alert>
          )}
          {save.isError && !errors.general && (
            <Alert color="red" role="alert" title="The filter was not saved">
              Correct the fields marked above.
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!ready}>
              {filter ? 'Save filter' : 'Create filter'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** `(format=m3u8-cmaf)` + `a;b` → `(format=m3u8-cmaf,filter=a;b)`; a Smooth path without options gets `(filter=a;b)`. */
export function withFilters(path: string, filters: string[]): string {
  if (filters.length === 0) return path;
  const option = `filter=${filters.join(';')}`;
  if (path.endsWith(')')) return `${path.slice(0, -1)},${option})`;
  return `${path}(${option})`;
}

/** Badges of a locator's own filters (applied to all its URLs). */
export function FilterBadges({ names }: { names: string[] }) {
  return (
    <Group gap={4}>
      {names.map((n) => (
        <Badge key={n} variant="light" tt="none">
          {n}
        </Badge>
      ))}
    </Group>
  );
}
