import { useState, type FormEvent } from 'react';
import { Alert, Anchor, Badge, Button, Code, Group, Modal, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, UserToken } from '../api/types';
import { useProfile } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { CopyField } from '../components/copy-field';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';

const dayMs = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Personal API tokens (`/api/v1/user/tokens`, MKIO-API §5.2): full-access JWTs for scripts. */
export function TokensPage() {
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: async () => (await api<ListBody<UserToken>>('GET', '/api/v1/user/tokens')).value });
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['tokens'] });

  return (
    <>
      <PageHeader
        title="Personal API tokens"
        description={
          <>
            Send a token as <Code>Authorization: Bearer …</Code> or <Code>x-mkio-token</Code>. It acts with your rights until it expires or is revoked.
          </>
        }
        actions={<Button onClick={() => setCreating(true)}>Create token</Button>}
      />
      <Alert variant="light" mb="md" title="Token for MK.IO scripts">
        Migration scripts written for MK.IO fetch a one-year token from{' '}
        <Anchor href="/auth/token/" target="_blank" rel="noopener">
          /auth/token/
        </Anchor>{' '}
        while signed in; opening it issues a new token, which then appears below.
      </Alert>
      <QueryView
        query={tokens}
        loading="Loading tokens…"
        errorTitle="Could not load your tokens"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title="No tokens" action={<Button onClick={() => setCreating(true)}>Create token</Button>}>
            Create a token for a script or a CI job.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="xs" striped aria-label="API tokens">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Description</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Issued</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((t) => (
                  <Table.Tr key={t.metadata.id} data-token-id={t.metadata.id}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {t.spec.description || '(no description)'}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {t.metadata.id}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{t.metadata.type}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(t.spec.issued)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(t.spec.expires)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{t.spec.lastUsed ?? 'Never'}</Text>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      {t.spec.revoked ? (
                        <Badge color="gray" variant="light">
                          Revoked
                        </Badge>
                      ) : (
                        <Badge color="green" variant="light">
                          Active
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {!t.spec.revoked && (
                        <ConfirmButton
                          label="Revoke"
                          ariaLabel={`Revoke token ${t.spec.description || t.metadata.id}`}
                          title="Revoke this token?"
                          confirmLabel="Revoke token"
                          message={`Scripts using “${t.spec.description || t.metadata.id}” get 401 from their next request on.`}
                          onConfirm={() => api('DELETE', `/api/v1/user/tokens/${seg(t.metadata.id)}`)}
                          onDone={() => {
                            refresh();
                            notifications.show({ color: 'green', message: 'Token revoked' });
                          }}
                        />
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreateTokenModal opened={creating} onClose={() => setCreating(false)} onCreated={refresh} />
    </>
  );
}

function CreateTokenModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: () => void }) {
  const profile = useProfile();
  const [description, setDescription] = useState('');
  const [expiry, setExpiry] = useState(() => isoDate(Date.now() + 90 * dayMs));
  const [jwt, setJwt] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api<UserToken>('POST', '/api/v1/user/tokens', {
        type: 'full-access',
        organizationId: profile.data?.spec.activeOrganizationId,
        description: description.trim(),
        // The end of the chosen day (UTC), but never past MK.IO's one-year limit.
        expireDate: new Date(Math.min(Date.parse(`${expiry}T23:59:59Z`), Date.now() + 365 * dayMs)).toISOString(),
      }),
    onSuccess: (t) => {
      setJwt(t.metadata.JWT ?? null);
      onCreated();
    },
  });
  const close = () => {
    setDescription('');
    setJwt(null);
    setExpiry(isoDate(Date.now() + 90 * dayMs));
    create.reset();
    onClose();
  };
  const errors = create.isError
    ? fieldErrors(create.error, { description: { paths: ['body.description'] }, expiry: { paths: ['body.expireDate'], codes: ['InvalidExpireDate'] } })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (expiry) create.mutate();
  };

  return (
    <Modal opened={opened} onClose={close} title={jwt ? 'Token created' : 'Create a personal API token'} size="lg" closeOnClickOutside={!jwt}>
      {jwt ? (
        <Stack>
          <Alert color="yellow" title="Copy the token now">
            It is shown only this once; Reel keeps only its hash.
          </Alert>
          <CopyField label="Token" value={jwt} />
          <Text size="xs" c="dimmed">
            curl -H "Authorization: Bearer $TOKEN" {window.location.origin}/api/v1/user/profile
          </Text>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} noValidate>
          <Stack>
            <TextInput
              label="Description"
              description="What uses it, e.g. “nightly migration”."
              maxLength={128}
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              error={errors.byField.description}
              data-autofocus
            />
            <TextInput
              label="Expires on"
              type="date"
              required
              value={expiry}
              onChange={(e) => setExpiry(e.currentTarget.value)}
              min={isoDate(Date.now() + dayMs)}
              max={isoDate(Date.now() + 365 * dayMs)}
              description="At most one year ahead."
              error={errors.byField.expiry ?? (expiry ? undefined : 'Choose a date')}
            />
            {errors.general && (
              <Alert color="red" role="alert" title="The token was not created">
                {errors.general}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending} disabled={!expiry}>
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
