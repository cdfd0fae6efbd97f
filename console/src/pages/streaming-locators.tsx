import { Anchor, Button, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, seg } from '../api/client';
import type { ListBody, StreamingLocator } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';
import { FilterBadges } from './filters';

export function LocatorsPage() {
  const { project, base } = useProject();
  const queryClient = useQueryClient();
  const locators = useQuery({
    queryKey: ['locators', base],
    queryFn: async () => (await api<ListBody<StreamingLocator>>('GET', `${base}/streamingLocators`)).value,
  });
  return (
    <>
      <PageHeader title="Streaming locators" description="Each locator publishes one asset at playback URLs. Create them from an asset's page." />
      <QueryView
        query={locators}
        loading="Loading locators…"
        errorTitle="Could not load streaming locators"
        isEmpty={(l) => l.length === 0}
        empty={<EmptyState title="Nothing is published">Open an asset and choose “Create locator”.</EmptyState>}
      >
        {(list) => (
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" striped aria-label="Streaming locators">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Asset</Table.Th>
                  <Table.Th>Policy</Table.Th>
                  <Table.Th>Filters</Table.Th>
                  <Table.Th>Locator id</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((l) => (
                  <Table.Tr key={l.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {l.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} size="sm" to={`/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(l.properties.assetName)}`}>
                        {l.properties.assetName}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{l.properties.streamingPolicyName}</Text>
                    </Table.Td>
                    <Table.Td>
                      {(l.properties.filters ?? []).length > 0 ? (
                        <FilterBadges names={l.properties.filters ?? []} />
                      ) : (
                        <Text size="sm" c="dimmed">
                          —
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace">
                        {l.properties.streamingLocatorId}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(l.properties.created)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button
                          component={Link}
                          size="xs"
                          variant="default"
                          aria-label={`Play locator ${l.name}`}
                          to={`/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(l.properties.assetName)}?locator=${encodeURIComponent(l.name)}`}
                        >
                          Play
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete locator ${l.name}`}
                          title={`Delete locator ${l.name}?`}
                          confirmLabel="Delete locator"
                          message="Its playback URLs stop working."
                          onConfirm={() => api('DELETE', `${base}/streamingLocators/${seg(l.name)}`)}
                          onDone={() => void queryClient.invalidateQueries({ queryKey: ['locators', base] })}
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
    </>
  );
}
