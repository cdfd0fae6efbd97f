import { useState, type FormEvent } from 'react';
import { Alert, Button, Checkbox, Group, Modal, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorText, fieldErrors, seg } from '../api/client';
import type { ListBody, StreamingEndpoint } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { ResourceStateBadge, transitionalStates } from '../components/resource-state';
import { EmptyState, PageHeader, QueryView } from '../components/states';

export function EndpointsPage() {
  const { project, base } = useProject();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const endpoints = useQuery({
    queryKey: ['endpoints', base],
    queryFn: async () => (await api<ListBody<StreamingEndpoint>>('GET', `${base}/streamingEndpoints`)).value,
    // Poll while an endpoint is between states, as the .NET client does after start/stop.
    refetchInterval: (q) => (q.state.data?.some((e) => transitionalStates.has(e.properties.resourceState)) ? 1000 : false),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['endpoints', base] });

  return (
    <>
      <PageHeader
        title="Streaming endpoints"
        description={`Hosts that serve project ${project}'s published assets. A stopped endpoint answers no playback request.`}
        actions={<Button onClick={() => setCreating(true)}>Create endpoint</Button>}
      />
      <QueryView
        query={endpoints}
        loading="Loading streaming endpoints…"
        errorTitle="Could not load streaming endpoints"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title="No streaming endpoint" action={<Button onClick={() => setCreating(true)}>Create endpoint</Button>}>
            Playback needs a running endpoint.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="sm" striped aria-label="Streaming endpoints">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Host name</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((e) => (
                  <EndpointRow key={e.name} base={base} endpoint={e} onChanged={refresh} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreateEndpointModal opened={creating} onClose={() => setCreating(false)} base={base} onCreated={refresh} />
    </>
  );
}

function EndpointRow({ base, endpoint: e, onChanged }: { base: string; endpoint: StreamingEndpoint; onChanged: () => void }) {
  const state = e.properties.resourceState;
  const action = useMutation({
    mutationFn: (verb: 'start' | 'stop') => api('POST', `${base}/streamingEndpoints/${seg(e.name)}/${verb}`),
    onSuccess: onChanged,
    onError: (err) => notifications.show({ color: 'red', title: `Streaming endpoint ${e.name}`, message: errorText(err) }),
  });
  const running = state === 'Running';
  return (
    <Table.Tr data-endpoint={e.name}>
      <Table.Td>
        <Text size="sm" fw={600}>
          {e.name}
        </Text>
        {e.properties.description && (
          <Text size="xs" c="dimmed">
            {e.properties.description}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
          {e.properties.hostName}
        </Text>
      </Table.Td>
      <Table.Td>
        <ResourceStateBadge state={state} />
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatTime(e.properties.created)}</Text>
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          {running ? (
            <Button size="xs" variant="default" loading={action.isPending} onClick={() => action.mutate('stop')} aria-label={`Stop ${e.name}`}>
              Stop
            </Button>
          ) : (
            <Button
              size="xs"
              loading={action.isPending}
              disabled={transitionalStates.has(state)}
              onClick={() => action.mutate('start')}
              aria-label={`Start ${e.name}`}
            >
              Start
            </Button>
          )}
          <ConfirmButton
            label="Delete"
            ariaLabel={`Delete endpoint ${e.name}`}
            title={`Delete streaming endpoint ${e.name}?`}
            confirmLabel="Delete endpoint"
            message="Players using its host name stop playing."
            disabled={running}
            onConfirm={() => api('DELETE', `${base}/streamingEndpoints/${seg(e.name)}`)}
            onDone={onChanged}
          />
        </Group>
        {action.isError && (
          <Text size="xs" c="red" role="alert">
            {errorText(action.error)}
          </Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

function CreateEndpointModal({ opened, onClose, base, onCreated }: { opened: boolean; onClose: () => void; base: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [autoStart, setAutoStart] = useState(true);
  const create = useMutation({
    mutationFn: () =>
      api('PUT', `${base}/streamingEndpoints/${seg(name.trim())}?autoStart=${autoStart}`, {
        location: 'local',
        properties: { scaleUnits: 0, ...(description.trim() ? { description: description.trim() } : {}) },
      }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Streaming endpoint ${name.trim()} created` });
      onCreated();
      close();
    },
  });
  const close = () => {
    setName('');
    setDescription('');
    create.reset();
    onClose();
  };
  const errors = create.isError
    ? fieldErrors(create.error, {
        name: { paths: ['params.name'], codes: ['Conflict'] },
        description: { paths: ['body.properties.description', 'properties.description'] },
      })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Create streaming endpoint">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Name"
            required
            description="Letters, digits and hyphens; it becomes part of the host name."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.byField.name}
            data-autofocus
          />
          <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.byField.description} />
          <Checkbox label="Start it now" checked={autoStart} onChange={(e) => setAutoStart(e.currentTarget.checked)} />
          {errors.general && (
            <Alert color="red" role="alert" title="The endpoint was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
              Create endpoint
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
