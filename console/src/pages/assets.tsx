import { useMemo, useState } from 'react';
import { Anchor, Badge, Button, Group, SegmentedControl, Select, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api/client';
import type { Asset, ListBody } from '../api/types';
import { useProject } from '../app/session';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';
import { MigrateAssetModal } from './migrate-asset';
import { UploadAssetModal } from './upload-asset';

type SortField = 'name' | 'properties/container' | 'properties/storageAccountName' | 'properties/created';
interface Sort {
  field: SortField;
  direction: 'asc' | 'desc';
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * `$filter` for "name starts with": `name ge 'abc' and name lt 'abd'` (the API's OData subset has comparisons,
 * not startswith); the comparison is the database's, case-sensitive on SQLite.
 */
export function namePrefixFilter(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  const upper = prefix.slice(0, -1) + String.fromCharCode(last + 1);
  return `name ge ${quote(prefix)} and name lt ${quote(upper)}`;
}

/** The first page's URL: `$top`, `$orderby` and the search as `$filter` (name) or `$label`/`$label_key`. */
export function assetListUrl(base: string, o: { top: number; sort: Sort; search: string; mode: 'name' | 'label' }): string {
  const params = new URLSearchParams({ $top: String(o.top), $orderby: `${o.sort.field} ${o.sort.direction}` });
  const q = o.search.trim();
  if (q && o.mode === 'name') params.set('$filter', namePrefixFilter(q));
  if (q && o.mode === 'label') {
    const eq = q.indexOf('=');
    if (eq > 0) params.set('$label', `${q.slice(0, eq).trim()}~${q.slice(eq + 1).trim()}`);
    else params.set('$label_key', q);
  }
  return `${base}/assets?${params.toString().replace(/%24/g, '$')}`;
}

export function AssetsPage() {
  const { project, base } = useProject();
  const [top, setTop] = useState(25);
  const [sort, setSort] = useState<Sort>({ field: 'properties/created', direction: 'desc' });
  const [mode, setMode] = useState<'name' | 'label'>('name');
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  // Pages visited after the first, as the API's own @odata.nextLink URLs (never built by hand).
  const [pages, setPages] = useState<string[]>([]);
  const [migrating, setMigrating] = useState(false);
  const [uploading, setUploading] = useState(false);

  const first = useMemo(() => assetListUrl(base, { top, sort, search: debounced, mode }), [base, top, sort, debounced, mode]);
  const url = pages.at(-1) ?? first;
  const assets = useQuery({
    queryKey: ['assets', base, url],
    queryFn: ({ signal }) => api<ListBody<Asset>>('GET', url, undefined, { signal }),
    placeholderData: keepPreviousData,
  });
  const reset = () => setPages([]);
  const toggleSort = (field: SortField) => {
    setSort((s) => (s.field === field ? { field, direction: s.direction === 'asc' ? 'desc' : 'asc' } : { field, direction: 'asc' }));
    reset();
  };

  const header = (field: SortField, label: string) => {
    const active = sort.field === field;
    return (
      <Table.Th aria-sort={active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
        <UnstyledButton onClick={() => toggleSort(field)} fw={600} fz="sm" aria-label={`Sort by ${label}`}>
          {label}{' '}
          {active ? (
            sort.direction === 'asc' ? (
              '▲'
            ) : (
              '▼'
            )
          ) : (
            <Text span c="dimmed" fz="xs">
              ↕
            </Text>
          )}
        </UnstyledButton>
      </Table.Th>
    );
  };

  const pagination = assets.data?.supplemental?.pagination;
  const next = assets.data?.['@odata.nextLink'];
  const searching = debounced.trim().length > 0;

  return (
    <>
      <PageHeader
        title="Assets"
        description={`Media of project ${project}: each asset is a container (or a folder of one) in a storage account.`}
        actions={
          <>
            <Button variant="default" onClick={() => setUploading(true)}>
              Upload file
            </Button>
            <Button onClick={() => setMigrating(true)}>Migrate asset</Button>
          </>
        }
      />
      <Group mb="sm" gap="xs" align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label="Search by"
          size="sm"
          value={mode}
          onChange={(v) => {
            setMode(v as 'name' | 'label');
            reset();
          }}
          data={[
            { value: 'name', label: 'Name' },
            { value: 'label', label: 'Label' },
          ]}
        />
        <TextInput
          style={{ flex: '1 1 220px' }}
          type="search"
          aria-label={mode === 'name' ? 'Search assets by name' : 'Search assets by label'}
          placeholder={mode === 'name' ? 'Name starts with…' : 'Label key, or key=value (value contains)'}
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            reset();
          }}
        />
      </Group>
      <QueryView
        query={assets}
        loading="Loading assets…"
        errorTitle="Could not load assets"
        isEmpty={(d) => d.value.length === 0}
        empty={
          searching ? (
            <EmptyState
              title="No asset matches"
              action={
                <Button
                  variant="default"
                  onClick={() => {
                    setSearch('');
                    reset();
                  }}
                >
                  Clear search
                </Button>
              }
            >
              Nothing matches “{debounced}”.
            </EmptyState>
          ) : (
            <EmptyState
              title="No assets yet"
              action={
                <Group justify="center">
                  <Button variant="default" onClick={() => setUploading(true)}>
                    Upload file
                  </Button>
                  <Button onClick={() => setMigrating(true)}>Migrate asset</Button>
                </Group>
              }
            >
              Migrate an asset over a container that already holds media, or upload a file into a new asset.
            </EmptyState>
          )
        }
      >
        {(data) => (
          <Stack gap="xs">
            <Table.ScrollContainer minWidth={680}>
              <Table striped highlightOnHover verticalSpacing="xs" aria-label="Assets" aria-busy={assets.isFetching}>
                <Table.Thead>
                  <Table.Tr>
                    {header('name', 'Name')}
                    {header('properties/container', 'Container')}
                    {header('properties/storageAccountName', 'Storage account')}
                    <Table.Th>Labels</Table.Th>
                    {header('properties/created', 'Created')}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.value.map((a) => (
                    <Table.Tr key={a.properties.assetId}>
                      <Table.Td>
                        <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(a.name)}`} fw={600} size="sm">
                          {a.name}
                        </Anchor>
                        {a.properties.description && (
                          <Text size="xs" c="dimmed" lineClamp={1}>
                            {a.properties.description}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {a.properties.container}
                          {a.properties.subPath ? `/${a.properties.subPath}` : ''}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{a.properties.storageAccountName}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {Object.entries(a.labels ?? {}).map(([k, v]) => (
                            <Badge key={k} variant="light" size="sm" tt="none">
                              {k}
                              {v ? `=${v}` : ''}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatTime(a.properties.created)}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Text size="sm" c="dimmed" aria-live="polite">
                {pagination ? `Showing ${pagination.start + 1}–${pagination.end} of ${pagination.total}` : `${data.value.length} assets`}
              </Text>
              <Group gap="xs">
                <Select
                  aria-label="Assets per page"
                  size="xs"
                  w={120}
                  allowDeselect={false}
                  value={String(top)}
                  onChange={(v) => {
                    if (v) {
                      setTop(Number(v));
                      reset();
                    }
                  }}
                  data={['10', '25', '50', '100'].map((n) => ({ value: n, label: `${n} per page` }))}
                />
                <Button size="xs" variant="default" disabled={pages.length === 0} onClick={() => setPages((p) => p.slice(0, -1))}>
                  Previous page
                </Button>
                <Button
                  size="xs"
                  variant="default"
                  disabled={!next}
                  onClick={() => {
                    if (next) setPages((p) => [...p, next]);
                  }}
                >
                  Next page
                </Button>
              </Group>
            </Group>
          </Stack>
        )}
      </QueryView>
      <MigrateAssetModal opened={migrating} onClose={() => setMigrating(false)} />
      <UploadAssetModal opened={uploading} onClose={() => setUploading(false)} />
    </>
  );
}
