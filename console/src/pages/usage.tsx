import { Alert, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { ApiError, api, seg } from '../api/client';
import type { UsageRecord, UsageReport } from '../api/types';
import { useProject } from '../app/session';
import { formatBytes, formatTime } from '../components/format';
import { EmptyState, ErrorState, LoadingState, PageHeader } from '../components/states';

/** The record's day (`YYYY-MM-DD`); Reel's `date` is the day's start, `YYYY-MM-DDT00:00:00Z`. */
const dayOf = (r: UsageRecord) => (r.date ?? r.day ?? r.usageDate)?.slice(0, 10);
const endpointOf = (r: UsageRecord) => r.streamingEndpoint ?? r.streamingEndpointName ?? r.resourceName;
const isBytes = (unit: string) => /^bytes?$/i.test(unit);
/** Stored bytes are a level (what is held that day), not an amount that adds up over days. */
const isLevel = (r: { meterName: string }) => /stor/i.test(r.meterName);

/** Reel's meter names (MK.IO's style), as people read them; any other name is shown as it is. */
const meterLabels: Record<string, string> = {
  video_encoding_ondemand_sd: 'Encoding, SD video',
  video_encoding_ondemand_hd: 'Encoding, HD video',
  video_encoding_ondemand_uhd: 'Encoding, UHD video',
  audio_encoding_ondemand: 'Encoding, audio only',
  streaming_egress: 'Streamed',
  storage: 'Stored',
};
const meterLabel = (name: string) => meterLabels[name] ?? name;

export function formatQuantity(quantity: number, unit: string): string {
  if (isBytes(unit)) return formatBytes(quantity);
  // Decimal gigabytes: small amounts read better in MB.
  if (/^gigabytes?$/i.test(unit))
    return quantity > 0 && quantity < 1
      ? `${(quantity * 1000).toLocaleString(undefined, { maximumFractionDigits: 2 })} MB`
      : `${quantity.toLocaleString(undefined, { maximumFractionDigits: 3 })} GB`;
  const n = Number.isInteger(quantity) ? quantity.toLocaleString() : quantity.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return `${n} ${unit}`;
}

interface Total {
  meterName: string;
  unit: string;
  endpoint?: string;
  quantity: number;
  /** For a level meter, the day its value is from. */
  day?: string;
}

/** Per meter (and endpoint): the sum over the period, or for stored bytes the latest day's value. */
function totals(records: UsageRecord[]): Total[] {
  const byKey = new Map<string, Total>();
  for (const r of records) {
    const endpoint = endpointOf(r);
    const key = `${r.meterName}\u0000${r.unit}\u0000${endpoint ?? ''}`;
    const t = byKey.get(key) ?? { meterName: r.meterName, unit: r.unit, endpoint, quantity: 0 };
    if (isLevel(r)) {
      const day = dayOf(r);
      if (t.day === undefined || (day !== undefined && day >= t.day)) {
        t.quantity = r.quantity;
        t.day = day;
      }
    } else t.quantity += r.quantity;
    byKey.set(key, t);
  }
  return [...byKey.values()].sort((a, b) => a.meterName.localeCompare(b.meterName) || (a.endpoint ?? '').localeCompare(b.endpoint ?? ''));
}

/** `GET /api/v1/projects/{p}/usage`: the project's metered usage since the start of the month, by meter and day. */
export function UsagePage() {
  const { project } = useProject();
  const usage = useQuery({ queryKey: ['usage', project], queryFn: () => api<UsageReport>('GET', `/api/v1/projects/${seg(project)}/usage`) });

  let body;
  if (usage.isPending) body = <LoadingState label="Loading usage…" />;
  // A 404 on a project the console has open: a server without the usage route.
  else if (usage.isError && usage.error instanceof ApiError && usage.error.status === 404) body = notAvailable;
  else if (usage.isError) body = <ErrorState title="Could not load the usage" error={usage.error} onRetry={() => void usage.refetch()} />;
  else if (usage.data.value.length === 0) body = <EmptyState title="No usage yet">Nothing was metered for this project in the period.</EmptyState>;
  else {
    const records = usage.data.value;
    const sums = totals(records);
    const hasDays = records.some((r) => dayOf(r) !== undefined);
    const hasEndpoints = records.some((r) => endpointOf(r) !== undefined);
    const rows = [...records].sort(
      (a, b) =>
        (dayOf(a) ?? '').localeCompare(dayOf(b) ?? '') || a.meterName.localeCompare(b.meterName) || (endpointOf(a) ?? '').localeCompare(endpointOf(b) ?? ''),
    );
    body = (
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 3 }} role="region" aria-label="Usage this period">
          <Headline label="Encoding" value={`${round(sum(records, (r) => /^minutes?$/i.test(r.unit)))} minutes`} />
          <Headline
            label="Stored"
            value={formatQuantity(
              sum(sums, (t) => isLevel(t) && /^gigabytes?$/i.test(t.unit)),
              'gigabytes',
            )}
          />
          <Headline
            label="Streamed"
            value={formatQuantity(
              sum(records, (r) => /egress|stream/i.test(r.meterName) && /^gigabytes?$/i.test(r.unit)),
              'gigabytes',
            )}
          />
        </SimpleGrid>
        <Title order={3}>By meter{hasEndpoints ? ' and streaming endpoint' : ''}</Title>
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} role="region" aria-label="Usage totals">
          {sums.map((t) => (
            <Paper key={`${t.meterName}/${t.unit}/${t.endpoint ?? ''}`} withBorder p="md" radius="md" data-meter={t.meterName}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                {meterLabel(t.meterName)}
                {t.endpoint ? ` · ${t.endpoint}` : ''}
              </Text>
              <Text size="xl" fw={700}>
                {formatQuantity(t.quantity, t.unit)}
              </Text>
              {t.day && (
                <Text size="xs" c="dimmed">
                  on {t.day}
                </Text>
              )}
            </Paper>
          ))}
        </SimpleGrid>
        <Title order={3}>By day</Title>
        <Table.ScrollContainer minWidth={560}>
          <Table verticalSpacing="xs" striped aria-label="Usage by day">
            <Table.Thead>
              <Table.Tr>
                {hasDays && <Table.Th>Day</Table.Th>}
                <Table.Th>Meter</Table.Th>
                {hasEndpoints && <Table.Th>Streaming endpoint</Table.Th>}
                <Table.Th style={{ textAlign: 'right' }}>Quantity</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => (
                <Table.Tr key={i}>
                  {hasDays && <Table.Td>{dayOf(r) ?? '—'}</Table.Td>}
                  <Table.Td>
                    <Text size="sm">{meterLabel(r.meterName)}</Text>
                    {(r.solution || r.family) && (
                      <Text size="xs" c="dimmed">
                        {[r.family, r.solution].filter(Boolean).join(' · ')}
                      </Text>
                    )}
                  </Table.Td>
                  {hasEndpoints && <Table.Td>{endpointOf(r) ?? '—'}</Table.Td>}
                  <Table.Td style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>{formatQuantity(r.quantity, r.unit)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Stack>
    );
  }

  const period = usage.data?.supplemental;
  return (
    <>
      <PageHeader
        title="Usage"
        description={
          period?.start ? (
            <Group gap={4} component="span">
              Project {project}, from {formatTime(period.start)} to {formatTime(period.end)}.
            </Group>
          ) : (
            `Metered usage of project ${project} since the start of the month: encoding minutes, stored bytes and streamed bytes per endpoint.`
          )
        }
      />
      {body}
    </>
  );
}

/** The quantities of the records that `pick` chooses, added up. */
function sum<T extends { quantity: number }>(items: T[], pick: (item: T) => boolean): number {
  return items.filter(pick).reduce((n, i) => n + i.quantity, 0);
}
const round = (n: number) => n.toLocaleString(undefined, { maximumFractionDigits: 2 });

function Headline({ label, value }: { label: string; value: string }) {
  return (
    <Paper withBorder p="md" radius="md" bg="var(--mantine-color-blue-light)">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={`${label}: ${value}`}>
        {value}
      </Text>
    </Paper>
  );
}

const notAvailable = (
  <Alert variant="light" color="gray" title="Not available">
    This server does not report usage yet.
  </Alert>
);
