import { useState, type FormEvent } from 'react';
import { Alert, Anchor, Button, Code, Group, Modal, SegmentedControl, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, LiveEncodingType, LiveEvent } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { ResourceStateBadge, transitionalStates } from '../components/resource-state';
import { EmptyState, PageHeader, QueryView } from '../components/states';

/** Running events are polled too: the runtime can stop one (an encoder error) without the console asking. */
export const liveRefetchMs = (state: string | undefined) => (state && transitionalStates.has(state) ? 1000 : state === 'Running' ? 5000 : false);

const encodingLabels: Record<LiveEncodingType, string> = {
  PassthroughBasic: 'Pass-through basic',
  PassthroughStandard: 'Pass-through standard',
  Standard: 'Standard (720p encoding)',
  Premium1080p: 'Premium (1080p encoding)',
};

export function LiveEventsPage() {
  const { project, base } = useProject();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const events = useQuery({
    queryKey: ['live-events', base],
    queryFn: async () => (await api<ListBody<LiveEvent>>('GET', `${base}/liveEvents`)).value,
    refetchInterval: (q) => {
      const intervals = (q.state.data ?? []).map((e) => liveRefetchMs(e.properties.resourceState)).filter((ms) => ms !== false);
      return intervals.length > 0 ? Math.min(...intervals) : false;
    },
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['live-events', base] });
  const eventPath = (name: string) => `/projects/${encodeURIComponent(project)}/live-events/${encodeURIComponent(name)}`;

  return (
    <>
      <PageHeader
        title="Live events"
        description="An encoder pushes to a live event's ingest URL (RTMP or SRT); its live outputs record the stream into assets that play while it runs."
        actions={<Button onClick={() => setCreating(true)}>Create live event</Button>}
      />
      <QueryView
        query={events}
        loading="Loading live events…"
        errorTitle="Could not load live events"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title="No live events" action={<Button onClick={() => setCreating(true)}>Create live event</Button>}>
            Create one, start it, and point your encoder (OBS, ffmpeg) at its ingest URL.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={720}>
            <Table verticalSpacing="sm" striped aria-label="Live events">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Ingest</Table.Th>
                  <Table.Th>Encoding</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((e) => (
                  <Table.Tr key={e.name}>
                    <Table.Td>
                      <Anchor component={Link} to={eventPath(e.name)} fw={600} size="sm">
                        {e.name}
                      </Anchor>
                      {e.properties.description && (
                        <Text size="xs" c="dimmed">
                          {e.properties.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{e.properties.input.streamingProtocol}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{e.properties.encoding?.encodingType ?? '—'}</Text>
                    </Table.Td>
                    <Table.Td>
                      <ResourceStateBadge state={e.properties.resourceState} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(e.properties.created)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <LiveEventActions base={base} event={e} onChanged={refresh} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreateLiveEventModal opened={creating} onClose={() => setCreating(false)} base={base} onCreated={refresh} />
    </>
  );
}

/** Start, stop and delete, each confirmed; the dialog shows the API's refusal. Shared by the list and the event's page. */
export function LiveEventActions({
  base,
  event: e,
  onChanged,
  onDeleted = onChanged,
}: {
  base: string;
  event: LiveEvent;
  onChanged: () => void;
  onDeleted?: () => void;
}) {
  const state = e.properties.resourceState;
  const path = `${base}/liveEvents/${seg(e.name)}`;
  const busy = transitionalStates.has(state);
  return (
    <Group gap="xs" wrap="nowrap">
      {state === 'Running' || state === 'Stopping' ? (
        <ConfirmButton
          color="orange"
          label="Stop"
          ariaLabel={`Stop ${e.name}`}
          title={`Stop live event ${e.name}?`}
          confirmLabel="Stop event"
          message="The encoder is disconnected and the live outputs finish their recordings; their assets stay playable."
          disabled={busy}
          onConfirm={() => api('POST', `${path}/stop`, { removeOutputsOnStop: false })}
          onDone={onChanged}
        />
      ) : (
        <ConfirmButton
          color="blue"
          label="Start"
          ariaLabel={`Start ${e.name}`}
          title={`Start live event ${e.name}?`}
          confirmLabel="Start event"
          message="The event accepts an encoder at its ingest URL until it is stopped."
          disabled={busy}
          onConfirm={() => api('POST', `${path}/start`, {})}
          onDone={onChanged}
        />
      )}
      <ConfirmButton
        label="Delete"
        ariaLabel={`Delete live event ${e.name}`}
        title={`Delete live event ${e.name}?`}
        confirmLabel="Delete event"
        message={`${state === 'Running' ? 'The event is stopped first (its recordings finished). ' : ''}The event and its live outputs are deleted; the outputs' assets stay.`}
        disabled={busy}
        onConfirm={() => api('DELETE', path)}
        onDone={onDeleted}
      />
    </Group>
  );
}

const liveEventFields = {
  name: { paths: ['params.name'], codes: ['Conflict'] },
  description: { paths: ['properties.description'] },
  protocol: { paths: ['properties.input.streamingProtocol'] },
  encoding: { paths: ['properties.encoding.encodingType', 'properties.encoding'] },
};

/** The create body, as MK.IO documents it: every IP may push; the preview is open too. */
export function liveEventBody(o: { description: string; encodingType: LiveEncodingType; protocol: 'RTMP' | 'SRT'; lowLatency: boolean }) {
  return {
    properties: {
      description: o.description.trim(),
      encoding: { encodingType: o.encodingType },
      input: {
        streamingProtocol: o.protocol,
        accessControl: { ip: { allow: [{ name: 'all', address: '0.0.0.0', subnetPrefixLength: 0 }] } },
      },
      streamOptions: [o.lowLatency ? 'LowLatency' : 'Default'],
      useStaticHostname: false,
      preview: { streamingPolicyName: 'Predefined_ClearStreamingOnly', accessControl: { ip: { allow: [] } } },
    },
    tags: {},
  };
}

function CreateLiveEventModal({ opened, onClose, base, onCreated }: { opened: boolean; onClose: () => void; base: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [protocol, setProtocol] = useState<'RTMP' | 'SRT'>('RTMP');
  const [encodingType, setEncodingType] = useState<LiveEncodingType>('PassthroughBasic');
  const [lowLatency, setLowLatency] = useState(false);
  const body = liveEventBody({ description, encodingType, protocol, lowLatency });
  const create = useMutation({
    mutationFn: () => api('PUT', `${base}/liveEvents/${seg(name.trim())}`, body),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Live event ${name.trim()} created` });
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
  const errors = create.isError ? fieldErrors(create.error, liveEventFields) : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Create live event" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Name"
            required
            description="2–32 letters, digits and inner hyphens."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.byField.name}
            data-autofocus
          />
          <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.byField.description} />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="live-protocol-label">
              Ingest protocol
            </Text>
            <SegmentedControl
              aria-labelledby="live-protocol-label"
              value={protocol}
              onChange={(v) => setProtocol(v as 'RTMP' | 'SRT')}
              data={['RTMP', 'SRT']}
              style={{ alignSelf: 'flex-start' }}
            />
            <Text size="xs" c={errors.byField.protocol ? 'red' : 'dimmed'} role={errors.byField.protocol ? 'alert' : undefined}>
              {errors.byField.protocol ?? 'SRT needs an encoding event (Standard or Premium).'}
            </Text>
          </Stack>
          <Select
            label="Encoding"
            value={encodingType}
            onChange={(v) => v && setEncodingType(v as LiveEncodingType)}
            allowDeselect={false}
            data={Object.entries(encodingLabels).map(([value, label]) => ({ value, label }))}
            description="Pass-through forwards the encoder's renditions; Standard and Premium encode a ladder from one input."
            error={errors.byField.encoding}
          />
          <Select
            label="Latency"
            value={lowLatency ? 'LowLatency' : 'Default'}
            onChange={(v) => setLowLatency(v === 'LowLatency')}
            allowDeselect={false}
            data={[
              { value: 'Default', label: 'Default' },
              { value: 'LowLatency', label: 'Low latency' },
            ]}
          />
          <div>
            <Title order={6} id="live-event-body-title">
              Request body
            </Title>
            <Text size="xs" c="dimmed" mb={4}>
              PUT {base}/liveEvents/{name.trim() || '{name}'}
            </Text>
            <Code block aria-labelledby="live-event-body-title" data-testid="live-event-request-body">
              {JSON.stringify(body, null, 2)}
            </Code>
          </div>
          {errors.general && (
            <Alert color="red" role="alert" title="The live event was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
              Create live event
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
