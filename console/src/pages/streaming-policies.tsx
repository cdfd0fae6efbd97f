import { useState, type FormEvent } from 'react';
import { Alert, Badge, Button, Checkbox, Fieldset, Group, Modal, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, Protocols, StreamingPolicy } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { PageHeader, QueryView } from '../components/states';

const schemes = ['noEncryption', 'envelopeEncryption', 'commonEncryptionCenc', 'commonEncryptionCbcs'] as const;
const schemeLabel: Record<string, string> = {
  noEncryption: 'Clear',
  envelopeEncryption: 'AES envelope',
  commonEncryptionCenc: 'CENC',
  commonEncryptionCbcs: 'CBCS',
};

function protocolList(p: Protocols): string {
  return [p.hls && 'HLS', p.dash && 'DASH', p.smoothStreaming && 'Smooth', p.download && 'Download'].filter(Boolean).join(', ') || 'none';
}

export function PoliciesPage() {
  const { base } = useProject();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const policies = useQuery({
    queryKey: ['policies', base],
    queryFn: async () => (await api<ListBody<StreamingPolicy>>('GET', `${base}/streamingPolicies`)).value,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['policies', base] });
  return (
    <>
      <PageHeader
        title="Streaming policies"
        description="Which protocols and encryption a locator serves. The predefined policies always exist."
        actions={<Button onClick={() => setCreating(true)}>Create clear policy</Button>}
      />
      <QueryView query={policies} loading="Loading policies…" errorTitle="Could not load streaming policies">
        {(list) => (
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="xs" striped aria-label="Streaming policies">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Delivery</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((p) => {
                  const predefined = p.name.startsWith('Predefined_');
                  return (
                    <Table.Tr key={p.name}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {p.name}
                        </Text>
                        {predefined && (
                          <Badge size="xs" variant="light" color="gray">
                            predefined
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Stack gap={2}>
                          {schemes
                            .filter((s) => p.properties[s])
                            .map((s) => (
                              <Text key={s} size="sm">
                                <Text span fw={600}>
                                  {schemeLabel[s]}:
                                </Text>{' '}
                                {protocolList((p.properties[s] as { enabledProtocols: Protocols }).enabledProtocols)}
                              </Text>
                            ))}
                        </Stack>
                      </Table.Td>
                      <Table.Td>
                        {!predefined && (
                          <ConfirmButton
                            label="Delete"
                            ariaLabel={`Delete policy ${p.name}`}
                            title={`Delete policy ${p.name}?`}
                            confirmLabel="Delete policy"
                            message="Locators that use it must be deleted first."
                            onConfirm={() => api('DELETE', `${base}/streamingPolicies/${seg(p.name)}`)}
                            onDone={refresh}
                          />
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreatePolicyModal opened={creating} onClose={() => setCreating(false)} base={base} onCreated={refresh} />
    </>
  );
}

function CreatePolicyModal({ opened, onClose, base, onCreated }: { opened: boolean; onClose: () => void; base: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [protocols, setProtocols] = useState<Protocols>({ hls: true, dash: true, smoothStreaming: false, download: false });
  const create = useMutation({
    mutationFn: () => api('PUT', `${base}/streamingPolicies/${seg(name.trim())}`, { properties: { noEncryption: { enabledProtocols: protocols } } }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Policy ${name.trim()} created` });
      onCreated();
      close();
    },
  });
  const close = () => {
    setName('');
    create.reset();
    onClose();
  };
  const errors = create.isError
    ? fieldErrors(create.error, { name: { paths: ['params.name'], codes: ['Conflict'] } })
    : { byField: {} as Record<string, string>, general: undefined };
  const toggle = (k: keyof Protocols) => (e: { currentTarget: { checked: boolean } }) => setProtocols({ ...protocols, [k]: e.currentTarget.checked });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Create a clear streaming policy">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.byField.name} data-autofocus />
          <Fieldset legend="Protocols served in the clear" variant="unstyled">
            <Stack gap={6} mt={4}>
              <Checkbox label="HLS" checked={protocols.hls} onChange={toggle('hls')} />
              <Checkbox label="DASH" checked={protocols.dash} onChange={toggle('dash')} />
              <Checkbox label="Progressive download" checked={protocols.download} onChange={toggle('download')} />
            </Stack>
          </Fieldset>
          {errors.general && (
            <Alert color="red" role="alert" title="The policy was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
              Create policy
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
